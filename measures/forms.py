from django import forms
from django.conf import settings

from fca.dates import parse_date
from fca.forms import NHSFormMixin
from measures.models import Measure
from measures.paste import PastedRow, PasteError, parse_number, parse_two_columns


class MeasureForm(NHSFormMixin, forms.ModelForm):
    class Meta:
        model = Measure
        fields = ["name", "unit", "improvement", "frequency"]
        widgets = {
            "improvement": forms.RadioSelect,
            "frequency": forms.RadioSelect,
        }
        labels = {"name": "Name of the measure"}
        help_texts = {"improvement": "Which way is better for patients?"}


class DataPointForm(NHSFormMixin, forms.Form):
    day = forms.CharField(
        label="Date",
        help_text="Any day in the week or month, for example 03/11/2026 or Nov 2026",
        max_length=40,
    )
    value = forms.CharField(label="Value", max_length=40)

    def clean_day(self):
        try:
            return parse_date(self.cleaned_data["day"])
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None

    def clean_value(self):
        try:
            return parse_number(self.cleaned_data["value"])
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None


class PasteForm(NHSFormMixin, forms.Form):
    rows = forms.CharField(
        label="Paste two columns: the date, then the value",
        help_text="Copy them from a spreadsheet, one row per week or month. A heading row is "
        "fine. Dates already in the chart take the new value.",
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        strip=False,
        error_messages={
            "required": "The paste is empty: copy two columns, the date then the value"
        },
    )

    def clean_rows(self) -> list[PastedRow]:
        try:
            return parse_two_columns(
                self.cleaned_data["rows"], max_rows=settings.FCA_MAX_PASTE_ROWS
            )
        except PasteError as error:
            raise forms.ValidationError(_summarise(error.problems)) from None


def _summarise(problems: list[str], shown: int = 10) -> list[str]:
    if len(problems) <= shown:
        return problems
    return [*problems[:shown], f"…and {len(problems) - shown:,} more problems"]

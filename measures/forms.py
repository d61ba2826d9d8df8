from datetime import date

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.validators import MaxValueValidator

from fca.dates import format_date, parse_date
from fca.forms import NHSFormMixin
from fca.numbers import parse_number
from fca.spreadsheets import column_letter
from measures.models import Measure
from measures.paste import PastedRow, PasteError, parse_rows


class _ParsedField(forms.CharField):
    """Text in, a parsed value out. The length limit is checked on the text only."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.widget.attrs["maxlength"] = "40"

    def to_python(self, value):
        text = super().to_python(value)
        if len(text) > 40:
            raise forms.ValidationError("Enter at most 40 characters")
        return text


class DateField(_ParsedField):
    """A date as people type it: 03/11/2026, 3 Nov 2026, Nov 2026 (day first)."""

    def prepare_value(self, value):
        # A saved date is shown as people write it (5 Jan 2026), never as 2026-01-05.
        return format_date(value) if isinstance(value, date) else value

    def to_python(self, value):
        text = super().to_python(value)
        if not text:
            return None
        try:
            return parse_date(text)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None


class NumberField(_ParsedField):
    """A number as people write it: 95.2, 1,234, 87%."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.widget.attrs["inputmode"] = "decimal"

    def to_python(self, value):
        text = super().to_python(value)
        if not text:
            return None
        try:
            return parse_number(text)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None


class MeasureForm(NHSFormMixin, forms.ModelForm):
    def __init__(self, *args, room, **kwargs):
        super().__init__(*args, **kwargs)
        self.room = room
        # Choices without a blank, and no direction chosen for the person.
        self.fields["frequency"].choices = Measure.Frequency.choices
        self.fields["improvement"].initial = None
        self.fields["improvement"].error_messages["required"] = (
            "Select which way is better for patients, or neither"
        )

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if Measure.objects.filter(room=self.room, name__iexact=name).exists():
            raise forms.ValidationError(f"The room already has a measure called “{name}”")
        return name

    class Meta:
        model = Measure
        fields = ["name", "kind", "shape", "unit", "improvement", "frequency"]
        widgets = {
            "kind": forms.RadioSelect,
            "shape": forms.RadioSelect,
            "improvement": forms.RadioSelect,
            "frequency": forms.RadioSelect,
        }
        labels = {"name": "Name of the measure", "shape": "What is recorded each period"}
        help_texts = {
            "kind": "Outcome: what matters to patients. Process: what the team does. "
            "Balancing: what might get worse elsewhere.",
            "improvement": "Which way is better for patients?",
        }


class MeasureSettingsForm(NHSFormMixin, forms.ModelForm):
    target = NumberField(
        required=False,
        help_text="Optional. For a percentage, give it as a percentage, for example 95",
    )

    class Meta:
        model = Measure
        fields = [
            "name",
            "kind",
            "unit",
            "improvement",
            "target",
            "definition",
            "numerator_definition",
            "denominator_definition",
            "data_source",
            "owner",
            "driver",
            "chart_type",
            "screen_outliers",
            "rule_length",
            "baseline_points",
            "laney",
            "multiplier",
        ]
        widgets = {
            "kind": forms.RadioSelect,
            "improvement": forms.RadioSelect,
            "chart_type": forms.RadioSelect,
            "rule_length": forms.RadioSelect,
            "definition": forms.Textarea(attrs={"rows": 3}),
            "numerator_definition": forms.Textarea(attrs={"rows": 2}),
            "denominator_definition": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {"multiplier": "Rate per (for rates only)"}
        help_texts = {
            "baseline_points": "XmR and run charts. Optional, at least 12. Leave empty to "
            "use every point",
            "screen_outliers": "XmR charts: leave out very large moving ranges, as Making Data "
            "Count does (the MDC Excel tool does not)",
            "rule_length": "XmR charts",
            "multiplier": "For example 1000, for falls per 1,000 bed days",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        room = self.instance.room
        people = get_user_model().objects.order_by("full_name").distinct()
        if room is None:  # a pathway's flow measure: the people of its rooms; no diagram
            people = people.filter(room_memberships__room__pathway=self.instance.pathway_id)
            del self.fields["driver"]
        else:
            people = people.filter(room_memberships__room=room)
            self.fields["driver"].queryset = room.drivers.all()
            self.fields["driver"].empty_label = "The aim"
            self.fields["driver"].help_text = "What the measure tells about: the aim, or a driver"
        self.fields["owner"].queryset = people
        self.fields["owner"].label_from_instance = lambda user: user.full_name
        self.fields["owner"].empty_label = "Nobody yet"
        allowed = Measure.CHARTS_FOR_SHAPE[Measure.Shape(self.instance.shape)]
        self.fields["chart_type"].choices = [
            (value, label) for value, label in Measure.ChartType.choices if value in allowed
        ]
        if self.instance.shape != Measure.Shape.PROPORTION:
            del self.fields["numerator_definition"], self.fields["denominator_definition"]
        if self.instance.shape != Measure.Shape.RATE:
            del self.fields["multiplier"]
        if self.instance.shape == Measure.Shape.VALUE:
            del self.fields["laney"]

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        owner = (
            {"room": self.instance.room_id}
            if self.instance.room_id
            else {"pathway": self.instance.pathway_id}
        )
        others = Measure.objects.filter(name__iexact=name, **owner)
        if others.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(
                f"The {'room' if self.instance.room_id else 'pathway'} already has a measure called “{name}”"
            )
        return name

    def clean_baseline_points(self):
        points = self.cleaned_data["baseline_points"]
        if points is not None and points < 12:
            raise forms.ValidationError(
                "A baseline needs at least 12 points: leave it empty to use every point"
            )
        return points


class DataPointForm(NHSFormMixin, forms.Form):
    day = DateField(
        label="Date",
        help_text="Any day in the week or month, for example 03/11/2026 or Nov 2026",
    )

    def __init__(self, *args, measure: Measure, **kwargs):
        super().__init__(*args, **kwargs)
        if measure.shape == Measure.Shape.VALUE:
            self.fields["value"] = NumberField(label="Value")
        else:
            top, bottom = (
                ("Numerator", "Denominator")
                if measure.shape == Measure.Shape.PROPORTION
                else ("Count", "Exposure")
            )
            self.fields["numerator"] = NumberField(label=top)
            self.fields["denominator"] = NumberField(label=bottom)
        self.order_fields(["day", "value", "numerator", "denominator"])
        self.nhs_style()

    def numbers(self) -> tuple[float, ...]:
        data = self.cleaned_data
        if "value" in data:
            return (data["value"],)
        return data["numerator"], data["denominator"]


class PasteForm(NHSFormMixin, forms.Form):
    rows = forms.CharField(
        label="Paste the columns",
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        strip=False,
        error_messages={"required": "The paste is empty: copy the columns from a spreadsheet"},
    )

    def __init__(self, *args, measure: Measure, **kwargs):
        super().__init__(*args, **kwargs)
        self.numbers = measure.numbers_per_period
        columns = (
            "the date, then the value"
            if self.numbers == 1
            else "the date, the numerator, then the denominator"
        )
        self.fields["rows"].label = f"Paste {self.numbers + 1} columns: {columns}"
        self.fields["rows"].help_text = (
            "Copy them from a spreadsheet, one row per week or month. A heading row is "
            "fine. Dates already in the chart take the new value."
        )

    def clean_rows(self) -> list[PastedRow]:
        try:
            return parse_rows(
                self.cleaned_data["rows"],
                numbers=self.numbers,
                max_rows=settings.FCA_MAX_PASTE_ROWS,
            )
        except PasteError as error:
            raise forms.ValidationError(summarise(error.problems)) from None


class PhaseForm(NHSFormMixin, forms.Form):
    starts_on = DateField(
        label="First period of the new phase",
        help_text="The date of a point already on the chart, for example 03/11/2026",
    )
    reason = forms.CharField(
        label="Why start a new phase?",
        help_text="For example: the new discharge lounge opened, and the chart shows a "
        "lasting change since",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
    )


class AnnotationForm(NHSFormMixin, forms.Form):
    on = DateField(label="Date of the note")
    text = forms.CharField(label="Note", max_length=200)


def summarise(problems: list[str], shown: int = 10) -> list[str]:
    if len(problems) <= shown:
        return problems
    return [*problems[:shown], f"…and {len(problems) - shown:,} more problems"]


MAX_UPLOAD_BYTES = 10 * 1024 * 1024


class UploadForm(NHSFormMixin, forms.Form):
    file = forms.FileField(
        label="Upload a file",
        help_text="A CSV file or an Excel workbook (.xlsx), up to 10 MB: for example a "
        "Making Data Count tool's data sheet or a Life QI export",
        error_messages={"required": "Select a file to upload", "empty": "The file is empty"},
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is larger than 10 MB: upload a smaller one")
        return upload


class ColumnsForm(NHSFormMixin, forms.Form):
    """Which row holds the headings, and which columns hold the date and the numbers."""

    header_row = forms.IntegerField(
        label="Row with the column headings",
        help_text="0 if the file has no headings",
        min_value=0,
    )

    def __init__(self, *args, measure: Measure, upload, **kwargs):
        super().__init__(*args, **kwargs)
        width = max((len(row) for row in upload.rows), default=1)
        choices = [(str(i), column_letter(i)) for i in range(width)]
        names = measure.entry_columns
        self.column_names = names
        for name in names:
            self.fields[f"{name}_column"] = forms.TypedChoiceField(
                label=f"Column with the {name}", choices=choices, coerce=int
            )
        self.fields["header_row"].validators.append(MaxValueValidator(len(upload.rows)))
        self.nhs_style()

    def columns(self) -> list[int]:
        return [self.cleaned_data[f"{name}_column"] for name in self.column_names]

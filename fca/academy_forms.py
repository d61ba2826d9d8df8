"""The academy's forms: they only validate (fca/academy.py does the work)."""

from django import forms

from fca.forms import NHSFormMixin
from fca.models import Coach, Cohort
from measures.forms import DateField


class CohortForm(NHSFormMixin, forms.ModelForm):
    starts_on = DateField(label="Starts on", help_text="For example 12/01/2027")
    ends_on = DateField(label="Ends on (optional)", required=False)

    class Meta:
        model = Cohort
        fields = ["name", "academy", "starts_on", "ends_on"]
        labels = {"name": "Cohort name", "academy": "Hosting academy"}
        help_texts = {"name": "For example: Cohort 14, spring 2027"}

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", "The end date must be on or after the start date")
        return data


class EnrolmentForm(NHSFormMixin, forms.Form):
    file = forms.FileField(
        label="The list of coaches",
        help_text="A CSV file or an Excel workbook (.xlsx) with the headings: name, email, "
        "organisation, ODS code (optional) and coach type (clinical or independent)",
        error_messages={"empty": "The file is empty", "required": "Choose the list to upload"},
    )

    MAX_BYTES = 5 * 1024 * 1024  # a cohort's list is a few kilobytes

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 1024 / 1024:.1f} MB: a list of coaches is at most 5 MB"
            )
        return upload


class TaughtDayForm(NHSFormMixin, forms.Form):
    held_on = DateField(label="Date", help_text="For example 12/01/2027")
    title = forms.CharField(max_length=200, label="What the day teaches",
                            help_text="For example: Day 2, the Model for Improvement")  # fmt: skip


class AttendanceForm(NHSFormMixin, forms.Form):
    present = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Who came"
    )

    def __init__(self, *args, coaches, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["present"].choices = [
            (str(c.pk), f"{c.user.full_name} ({c.organisation.name})") for c in coaches
        ]


class CoachStatusForm(NHSFormMixin, forms.Form):
    status = forms.ChoiceField(
        choices=Coach.Status.choices, widget=forms.RadioSelect, label="Status"
    )
    reason = forms.CharField(
        max_length=300, required=False, label="Reason",
        help_text="Needed for paused, stopped, or coaching in rooms that do not log here",
    )  # fmt: skip

    def clean(self):
        data = super().clean()
        if (
            data.get("status") not in (None, Coach.Status.IN_TRAINING)
            and not (data.get("reason") or "").strip()
        ):
            self.add_error("reason", "Give a reason")
        return data


class PairForm(NHSFormMixin, forms.Form):
    """Pair this coach with a coach of the other kind, as the coaches of a big room."""

    partner = forms.ChoiceField(label="Paired with")
    room = forms.ChoiceField(label="Big room")

    def __init__(self, *args, partners, rooms, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partner"].choices = [("", "Choose a coach")] + [
            (str(c.pk), f"{c.user.full_name} ({c.organisation.name})") for c in partners
        ]
        self.fields["room"].choices = [("", "Choose a big room")] + [
            (str(r.pk), f"{r.name} ({r.host.name})") for r in rooms
        ]

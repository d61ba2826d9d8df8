from django import forms

from fca.forms import NHSFormMixin
from fca.models import Organisation
from fca.numbers import sizes_apart
from measures.forms import NumberField
from pathways.models import Pathway, Step


class PathwayForm(NHSFormMixin, forms.ModelForm):
    class Meta:
        model = Pathway
        fields = ["host", "name", "specialty", "description"]
        labels = {"host": "Hosted by", "name": "Name of the pathway"}
        help_texts = {
            "name": "For example: Hip fracture, from the front door to home",
            "specialty": "For example: Trauma and orthopaedics",
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        error_messages = {"name": {"required": "Enter the name of the pathway"}}

    def __init__(self, *args, hosts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["host"].queryset = Organisation.objects.filter(pk__in=[h.pk for h in hosts])
        self.fields["host"].empty_label = None


class PathwaySettingsForm(NHSFormMixin, forms.ModelForm):
    metrics = forms.MultipleChoiceField(
        label="Flow measures to chart",
        choices=Pathway.Metric.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=Pathway._meta.get_field("metrics").help_text,
    )
    not_discharges = forms.CharField(
        label="Departures that are not discharges",
        required=False,
        help_text="Destinations, separated by commas, for example: died. They still leave "
        "the pathway, and are counted on their own",
    )

    class Meta:
        model = Pathway
        fields = ["name", "specialty", "description", "metrics", "los_threshold_hours",
                  "stranded_days", "super_stranded_days", "not_discharges", "data_lag_weeks",
                  "min_weekly_n", "keep_episodes_months"]  # fmt: skip
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["not_discharges"] = ", ".join(self.instance.not_discharges)
        for name in ("los_threshold_hours", "stranded_days", "super_stranded_days",
                     "data_lag_weeks", "min_weekly_n", "keep_episodes_months"):  # fmt: skip
            self.fields[name].widget.attrs.update(
                {"inputmode": "numeric", "class": "nhsuk-input nhsuk-input--width-4"}
            )

    def clean_not_discharges(self) -> list[str]:
        words = [w.strip() for w in self.cleaned_data["not_discharges"].split(",")]
        return list(dict.fromkeys(w for w in words if w))


class StepForm(NHSFormMixin, forms.ModelForm):
    standard_hours = NumberField(
        label="Standard (hours from arrival)",
        required=False,
        help_text="Optional: for example 14 for “specialist review within 14 hours”",
    )

    class Meta:
        model = Step
        fields = ["name", "code", "standard_hours"]
        labels = {"name": "Name of the step", "code": "Column name"}
        error_messages = {
            "name": {"required": "Enter the name of the step"},
            "code": {"required": "Enter the column name that holds the step's time"},
        }

    def clean_standard_hours(self):
        hours = self.cleaned_data["standard_hours"]
        if hours is not None and hours <= 0:
            raise forms.ValidationError("A standard must be more than 0 hours")
        return hours


class EpisodeFileForm(NHSFormMixin, forms.Form):
    file = forms.FileField(
        label="Upload a file of episodes",
        help_text="CSV or Excel (.xlsx), one row per episode",
        error_messages={
            "required": "Choose a CSV or Excel file of episodes",
            "empty": "The file is empty",
        },  # fmt: skip
    )

    def clean_file(self):
        from django.conf import settings

        file = self.cleaned_data["file"]
        limit = settings.FCA_MAX_EPISODE_FILE_MB
        if file.size > limit * 1_000_000:
            words, most = sizes_apart(file.size, limit * 1_000_000)
            raise forms.ValidationError(
                f"The file is {words}: the most is {most}. Send fewer weeks at a time"
            )
        if file.size == 0:
            raise forms.ValidationError("The file is empty")
        return file

"""Forms shared across the apps, styled for the NHS.UK frontend."""

from django import forms
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordChangeForm,
    PasswordResetForm,
    SetPasswordForm,
)

from fca import audit
from fca.models import AuditEvent, Organisation


class NHSFormMixin:
    """Give every widget its NHS.UK class and point it at its hint and error message."""

    CLASSES = {
        forms.Textarea: "nhsuk-textarea",
        forms.Select: "nhsuk-select",
        forms.RadioSelect: "",
        forms.CheckboxSelectMultiple: "",
        forms.CheckboxInput: "nhsuk-checkboxes__input",
        forms.ClearableFileInput: "nhsuk-file-upload",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.nhs_style()

    def nhs_style(self) -> None:
        """Style every field not yet styled: forms that add fields after __init__ (one per
        member, per agenda item) call this again once they have."""
        for name, field in self.fields.items():
            widget = field.widget
            if widget.attrs.get("data-nhs"):
                continue
            widget.attrs["data-nhs"] = "1"
            widget.attrs.pop("autofocus", None)  # focus stays where the person put it
            # NHS style: say what to do, naming the field ("Enter your email address").
            label = str(field.label or name.replace("_", " ")).lower()
            verb = "Select" if isinstance(widget, forms.RadioSelect | forms.Select) else "Enter"
            if isinstance(widget, forms.ClearableFileInput):
                verb = "Choose a"
            required = forms.Field.default_error_messages["required"]
            if field.error_messages.get("required") == required:
                field.error_messages["required"] = f"{verb} {label}"
            css = next(
                (c for kind, c in self.CLASSES.items() if isinstance(widget, kind)), "nhsuk-input"
            )
            if css:
                widget.attrs["class"] = f"{css} {widget.attrs.get('class', '')}".strip()
            if field.help_text:
                widget.attrs["aria-describedby"] = f"{self[name].auto_id}-hint"

    def add_problems(self, problems: dict[str, str]) -> None:
        """A service's problems, each on its field, or on the form when it names none."""
        for name, problem in problems.items():
            self.add_error(name if name in self.fields else None, problem)

    def full_clean(self):
        super().full_clean()
        self._mark_errors()

    def add_error(self, field, error):
        super().add_error(field, error)
        self._mark_errors()

    def _mark_errors(self) -> None:
        """Point each field at its error message and give it the error style."""
        for name in self.errors:
            if name not in self.fields:
                continue
            widget = self.fields[name].widget
            error_id = f"{self[name].auto_id}-error"
            described = widget.attrs.get("aria-describedby", "")
            if error_id not in described:
                widget.attrs["aria-describedby"] = f"{described} {error_id}".strip()
            css = widget.attrs.get("class", "")
            if css.startswith("nhsuk-") and "--error" not in css:
                widget.attrs["class"] = f"{css} {css.split()[0]}--error"


class SignInForm(NHSFormMixin, AuthenticationForm):
    error_messages = {
        "invalid_login": "Enter a correct email address and password. The password is case-sensitive.",
        "inactive": "This account has been disabled. Ask your QI lead or academy admin.",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Email address"
        self.fields["username"].widget.attrs.update(
            {"autocomplete": "email", "spellcheck": "false"}
        )
        self.fields["password"].widget.attrs["autocomplete"] = "current-password"


class NHSPasswordResetForm(NHSFormMixin, PasswordResetForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].label = "Email address"


class NHSSetPasswordForm(NHSFormMixin, SetPasswordForm):
    pass


class NHSPasswordChangeForm(NHSFormMixin, PasswordChangeForm):
    pass


class TokenForm(NHSFormMixin, forms.Form):
    name = forms.CharField(
        label="What will use the token?",
        help_text="For example: the data warehouse's nightly feed",
        max_length=100,
    )


class IntegrationTokenForm(TokenForm):
    write_only = forms.BooleanField(
        label="It only sends data",
        help_text="It cannot read what it sends to, only send data",
        required=False,
    )


class EmailLinkForm(NHSFormMixin, forms.Form):
    email = forms.EmailField(label="Email address")


class AuditFilterForm(NHSFormMixin, forms.Form):
    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.none(), required=False, empty_label="All"
    )
    group = forms.ChoiceField(label="What", required=False,
                              choices=[("", "Everything"), *audit.GROUP_CHOICES])  # fmt: skip
    outcome = forms.ChoiceField(required=False, choices=[("", "Any"), *AuditEvent.Outcome.choices])
    person = forms.CharField(label="Who (email)", required=False, max_length=254)
    since = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["organisation"]
        if organisations is None:
            field.queryset = Organisation.objects.all()
        else:
            field.queryset = Organisation.objects.filter(pk__in=[o.pk for o in organisations])
            if len(organisations) == 1:
                field.empty_label = None

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The “to” date must be the same as or after the “from” date")
        return data

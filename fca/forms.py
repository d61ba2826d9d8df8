"""Forms shared across the apps, styled for the NHS.UK frontend."""

from django import forms
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordChangeForm,
    PasswordResetForm,
    SetPasswordForm,
)


class NHSFormMixin:
    """Give every widget its NHS.UK class and point it at its hint and error message."""

    CLASSES = {
        forms.Textarea: "nhsuk-textarea",
        forms.Select: "nhsuk-select",
        forms.RadioSelect: "",
        forms.CheckboxInput: "nhsuk-checkboxes__input",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            widget = field.widget
            widget.attrs.pop("autofocus", None)  # focus stays where the person put it
            # NHS style: say what to do, naming the field ("Enter your email address").
            label = str(field.label or name.replace("_", " ")).lower()
            verb = "Select" if isinstance(widget, forms.RadioSelect | forms.Select) else "Enter"
            if (
                field.error_messages.get("required")
                == forms.Field.default_error_messages["required"]
            ):
                field.error_messages["required"] = f"{verb} {label}"
            css = next(
                (c for kind, c in self.CLASSES.items() if isinstance(widget, kind)), "nhsuk-input"
            )
            if css:
                widget.attrs["class"] = f"{css} {widget.attrs.get('class', '')}".strip()
            if field.help_text:
                bound = self[name]
                widget.attrs["aria-describedby"] = f"{bound.auto_id}-hint"

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["aria-describedby"] = " ".join(
                    filter(
                        None, [widget.attrs.get("aria-describedby"), f"{self[name].auto_id}-error"]
                    )
                )
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
        help_text="It cannot read the room's measures, only add values to them",
        required=False,
    )


class EmailLinkForm(NHSFormMixin, forms.Form):
    email = forms.EmailField(label="Email address")

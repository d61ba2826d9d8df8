"""Forms of two-factor sign-in and of the sign-in page's "shared computer" choice."""

from django import forms
from django.conf import settings

from fca.forms import NHSFormMixin, SignInForm


class SignInWithSharedForm(SignInForm):
    shared_computer = forms.BooleanField(
        label="This is a shared computer",
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shared_computer"].help_text = (
            f"You will be signed out after {settings.FCA_SHARED_SESSION_IDLE_MINUTES} minutes "
            f"without using the app, {settings.FCA_SHARED_SESSION_MAX_HOURS} hours at most, "
            "and when the browser is closed."
        )


class CodeForm(NHSFormMixin, forms.Form):
    code = forms.CharField(
        label="Security code",
        help_text="The 6-digit code your authenticator app shows now. If you do not have "
        "your phone, enter one of your recovery codes instead.",
        max_length=40,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs.update(
            {"autocomplete": "one-time-code", "spellcheck": "false", "autocapitalize": "none",
             "class": "nhsuk-input nhsuk-input--width-10"}
        )  # fmt: skip


class SetUpForm(CodeForm):
    code = forms.CharField(
        label="Security code",
        help_text="The 6-digit code your authenticator app shows now.",
        max_length=40,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs["inputmode"] = "numeric"


class AccountCodeForm(CodeForm):
    """The account page's forms: a code from the app, or a recovery code, to change things."""

    code = forms.CharField(
        label="Code from your app, or a recovery code",
        max_length=40,
    )


class ResetForm(NHSFormMixin, forms.Form):
    email = forms.EmailField(label="Email address of the person", max_length=254)
    checked = forms.BooleanField(
        label="I have checked that the person asking is who they say they are",
        help_text="For example by calling them on a work number you already have.",
        error_messages={"required": "Confirm that you have checked who is asking"},
    )

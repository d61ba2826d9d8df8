"""Sign-in throttling (django-axes) keyed on the account as people type it."""


def sign_in_username(request, credentials: dict | None) -> str:
    """The email from the sign-in attempt, lower-cased, so ALICE@ and alice@ count as one
    account and changing case cannot dodge a lockout."""
    source = credentials if credentials else getattr(request, "POST", {})
    return (source.get("username") or "").strip().lower()

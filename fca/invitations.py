"""Invitation links: signed, valid for 14 days, and spent once the password is set."""

from django.core import signing
from django.utils.crypto import salted_hmac

from fca.models import User

MAX_AGE = 14 * 24 * 60 * 60
_SALT = "fca.invitation"


def _state(user: User) -> str:
    # Changes when the password is set or the person signs in: the link then stops working.
    return salted_hmac(_SALT, f"{user.password}{user.last_login}").hexdigest()[:16]


def invitation_token(user: User) -> str:
    return signing.dumps({"u": user.pk, "s": _state(user)}, salt=_SALT, compress=True)


def invited_user(token: str) -> User | None:
    """The person a still-valid invitation is for, or None (expired, used or forged)."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return None
    user = User.objects.filter(pk=data.get("u"), is_active=True).first()
    if user is None or _state(user) != data.get("s"):
        return None
    return user

"""Signed, single-use links by email: invitations (14 days) and sign-in links (15 minutes),
for partners and others without an NHS password to remember. A link is spent once the
person sets a password or signs in."""

from django.core import signing
from django.utils.crypto import salted_hmac

from fca.models import User

MAX_AGE = 14 * 24 * 60 * 60
SIGN_IN_MAX_AGE = 15 * 60
_SALT = "fca.invitation"
_SIGN_IN_SALT = "fca.sign-in-link"


def _state(user: User) -> str:
    # Changes when the password is set or the person signs in: the link then stops working.
    return salted_hmac(_SALT, f"{user.password}{user.last_login}").hexdigest()[:16]


def _token(user: User, salt: str) -> str:
    return signing.dumps({"u": user.pk, "s": _state(user)}, salt=salt, compress=True)


def _user(token: str, salt: str, max_age: int) -> User | None:
    try:
        data = signing.loads(token, salt=salt, max_age=max_age)
    except signing.BadSignature:
        return None
    user = User.objects.filter(pk=data.get("u"), is_active=True).first()
    if user is None or _state(user) != data.get("s"):
        return None
    return user


def invitation_token(user: User) -> str:
    return _token(user, _SALT)


def invited_user(token: str) -> User | None:
    """The person a still-valid invitation is for, or None (expired, used or forged)."""
    return _user(token, _SALT, MAX_AGE)


def sign_in_token(user: User) -> str:
    return _token(user, _SIGN_IN_SALT)


def user_for_sign_in(token: str) -> User | None:
    """The person a still-valid sign-in link is for, or None."""
    return _user(token, _SIGN_IN_SALT, SIGN_IN_MAX_AGE)

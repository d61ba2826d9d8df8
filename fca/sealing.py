"""Secrets the app must read back, sealed at rest: the key of each person's authenticator
app (a hash would do for a password, not for a key that makes codes).

Sealed with Fernet (AES-128-CBC and HMAC-SHA256, from the cryptography package) under a
key derived from SECRET_KEY for this use alone (HKDF), so a copy of the database, a
backup or a session row gives no one the codes. Rotating SECRET_KEY: put the old one in
SECRET_KEY_FALLBACKS (FCA_SECRET_KEY_FALLBACKS); secrets sealed under it still open, and
each is sealed again under the new key at its owner's next sign-in. A secret sealed under
a key no longer there cannot be opened: the person's two-factor sign-in is reset.
"""

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.utils.encoding import force_bytes

PURPOSE = b"fca.sealing: two-factor secrets"


class Unreadable(Exception):
    """Sealed under a key this server no longer has."""


@lru_cache(maxsize=8)
def _fernet(secret_key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PURPOSE).derive(
        force_bytes(secret_key)
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def _keys() -> list[Fernet]:
    return [_fernet(key) for key in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS)]


def seal(text: str) -> str:
    return _keys()[0].encrypt(text.encode()).decode()


def unseal(sealed: str) -> str:
    try:
        return MultiFernet(_keys()).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise Unreadable("Sealed under a key this server no longer has") from None


def resealed(sealed: str) -> str | None:
    """The secret sealed again under the current key, if it was sealed under an old one;
    None when it is already under the current key."""
    keys = _keys()
    try:
        keys[0].decrypt(sealed.encode())
    except InvalidToken:
        return MultiFernet(keys).rotate(sealed.encode()).decode()
    return None

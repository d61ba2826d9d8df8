"""Two-factor sign-in: time-based codes from an authenticator app (RFC 6238: HMAC-SHA1,
6 digits, 30-second steps) and one-time recovery codes.

Required for QI leads and academy admins signing in locally (password, emailed link,
invitation) when FCA_REQUIRE_TWO_FACTOR is on; anyone else may turn it on. People signed in
by single sign-on are not asked: their provider checks a second factor.
"""

import base64
import hashlib
import hmac
import logging
import re
import secrets
import struct
import time
from enum import Enum
from urllib.parse import quote

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from fca import audit, sealing
from fca.models import AuditEvent, OrganisationMembership, RecoveryCode, TwoFactorDevice, User

logger = logging.getLogger(__name__)

STEP_SECONDS = 30
DIGITS = 6
RECOVERY_CODES = 10
ISSUER = "FCA big rooms"
# The demo's and the tests' one known key (never used in production: load_demo refuses
# production settings). Add it to an authenticator app, or run `manage.py demo_code`.
DEMO_SECRET = "FCABIGROOMSDEMOSECRET234"
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


class Outcome(Enum):
    OK = "ok"
    RECOVERY = "recovery"  # a recovery code was used (and is now spent)
    WRONG = "wrong"
    REUSED = "reused"  # a right code, but one already used
    LOCKED = "locked"


MESSAGES = {
    Outcome.WRONG: "The code is not right. Enter the 6-digit code your authenticator app "
    "shows now, or one of your recovery codes",
    Outcome.REUSED: "That code has been used already. Wait for your app to show the next "
    "code, then enter it",
    Outcome.LOCKED: "Too many wrong codes. Wait {minutes} minutes and try again, or ask an "
    "academy admin to reset your two-factor sign-in",
}


def message(outcome: Outcome) -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return MESSAGES[outcome].format(minutes=minutes)


# --- Who is asked ------------------------------------------------------------------------


def required_for(user: User) -> bool:
    """QI leads and academy admins must use it when signing in locally."""
    if not settings.FCA_REQUIRE_TWO_FACTOR:
        return False
    return (
        user.is_academy_admin
        or user.org_memberships.filter(role=OrganisationMembership.Role.QI_LEAD).exists()
    )


def device_for(user: User) -> TwoFactorDevice | None:
    return TwoFactorDevice.objects.filter(user=user).first()


def code_needed(user: User) -> bool:
    """Whether a local sign-in must ask this person for a code (or set one up first)."""
    return required_for(user) or TwoFactorDevice.objects.filter(user=user).exists()


# --- Codes -------------------------------------------------------------------------------


def new_secret() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode()


def step_at(when: float | None = None) -> int:
    return int((time.time() if when is None else when) // STEP_SECONDS)


def code_at(secret: str, step: int) -> str:
    """RFC 6238 (HOTP of the time step, RFC 4226 dynamic truncation)."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    number = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 10**DIGITS:0{DIGITS}d}"


def matching_step(secret: str, code: str, *, when: float | None = None) -> int | None:
    """The step (now, or one either side, for a phone's clock a little out) whose code this
    is, or None."""
    now = step_at(when)
    for step in (now, now - 1, now + 1):
        if hmac.compare_digest(code_at(secret, step), code):
            return step
    return None


def provisioning_uri(*, secret: str, email: str) -> str:
    """What the QR code holds: the otpauth:// link authenticator apps read."""
    label = quote(f"{ISSUER}:{email}")
    return f"otpauth://totp/{label}?secret={secret}&issuer={quote(ISSUER)}&digits={DIGITS}&period={STEP_SECONDS}"


def grouped(secret: str) -> str:
    """The key in groups of four, easier to type into an app than one long run."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _normalise(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


def _hash(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def _recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


# --- Services ----------------------------------------------------------------------------


def set_up(*, user: User, secret: str, code: str, request=None) -> tuple[bool, list[str]]:
    """Confirm a new authenticator app with a code from it: on success the device is saved
    (replacing any earlier one) and ten new recovery codes are returned, to show once."""
    step = (
        matching_step(secret, _normalise(code))
        if re.fullmatch(r"\d{6}", _normalise(code))
        else None
    )
    if step is None:
        return False, []
    with transaction.atomic():
        TwoFactorDevice.objects.update_or_create(
            user=user,
            defaults={"secret": secret, "confirmed_at": timezone.now(), "last_step": step,
                      "failures": 0, "locked_until": None},
        )  # fmt: skip
        codes = _replace_recovery_codes(user)
    audit.record("two_factor.set_up", request=request, actor=user, target=user)
    return True, codes


def check(*, user: User, code: str, request=None) -> Outcome:
    """A code at sign-in (or to change settings): a 6-digit code from the app, each used
    once, or an unused recovery code. Wrong codes count towards a lock-out, as wrong
    passwords do (AXES_FAILURE_LIMIT wrong codes lock it for AXES_COOLOFF_MINUTES)."""
    typed = _normalise(code)
    now = timezone.now()
    with transaction.atomic():
        device = TwoFactorDevice.objects.select_for_update().filter(user=user).first()
        if device is None:
            return Outcome.WRONG
        if device.locked_until and device.locked_until > now:
            return Outcome.LOCKED
        outcome = Outcome.WRONG
        if re.fullmatch(r"\d{6}", typed):
            key = _key(device)
            step = matching_step(key, typed) if key is not None else None
            if step is not None and step > device.last_step:
                device.last_step = step
                outcome = Outcome.OK
            elif step is not None:
                outcome = Outcome.REUSED
        elif typed and RecoveryCode.objects.filter(
            user=user, code_hash=_hash(typed), used_at=None
        ).update(used_at=now):
            outcome = Outcome.RECOVERY
        changed = ["last_step", "failures", "locked_until"]
        if outcome in (Outcome.OK, Outcome.RECOVERY):
            device.failures, device.locked_until = 0, None
            if outcome is Outcome.OK and (fresh := sealing.resealed(device.sealed_secret)):
                device.sealed_secret = fresh  # sealed under an earlier SECRET_KEY
                changed.append("sealed_secret")
        else:
            device.failures += 1
            if device.failures >= settings.AXES_FAILURE_LIMIT:
                device.failures, device.locked_until = 0, now + settings.AXES_COOLOFF_TIME
                outcome = Outcome.LOCKED
        device.save(update_fields=changed)
    if outcome is Outcome.RECOVERY:
        audit.record("two_factor.recovery_used", request=request, actor=user, target=user,
                     left=recovery_codes_left(user))  # fmt: skip
    elif outcome is not Outcome.OK:
        audit.record("two_factor.failed", request=request, actor=user, target=user,
                     outcome=AuditEvent.Outcome.FAILURE, reason=outcome.value)  # fmt: skip
    return outcome


def _key(device: TwoFactorDevice) -> str | None:
    """The device's key; None (no code matches) for one sealed under a SECRET_KEY this
    server no longer has, which the log reports: an academy admin resets the person's
    two-factor sign-in (their recovery codes still work)."""
    try:
        return device.secret
    except sealing.Unreadable:
        logger.error(
            "The two-factor key of user %s was sealed under a SECRET_KEY that is neither "
            "SECRET_KEY nor in FCA_SECRET_KEY_FALLBACKS: reset their two-factor sign-in",
            device.user_id,
        )
        return None


def recovery_codes_left(user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at=None).count()


def _replace_recovery_codes(user: User) -> list[str]:
    codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
    RecoveryCode.objects.filter(user=user).delete()
    RecoveryCode.objects.bulk_create(RecoveryCode(user=user, code_hash=_hash(c)) for c in codes)
    return codes


def regenerate_recovery_codes(*, user: User, request=None) -> list[str]:
    """Ten new codes; the old ones stop working."""
    with transaction.atomic():
        codes = _replace_recovery_codes(user)
    audit.record("two_factor.codes_regenerated", request=request, actor=user, target=user)
    return codes


def remove(*, user: User, by: User, request=None) -> bool:
    """Take away someone's authenticator app and recovery codes: they turned it off, or
    will set it up again on a new phone, or an academy admin reset it (a lost phone). A
    person who must use it sets it up again at their next sign-in."""
    with transaction.atomic():
        deleted, _ = TwoFactorDevice.objects.filter(user=user).delete()
        RecoveryCode.objects.filter(user=user).delete()
    if deleted:
        action = "two_factor.turned_off" if by == user else "two_factor.reset"
        audit.record(action, request=request, actor=by, target=user)
    return bool(deleted)


# --- The demo and the tests ----------------------------------------------------------------


def demo_device(user: User) -> TwoFactorDevice:
    """Give someone the demo's known key (the demo's QI leads and admin, the tests' cast);
    someone who has it already keeps it as it is."""
    device, _ = TwoFactorDevice.objects.get_or_create(user=user, defaults={"secret": DEMO_SECRET})
    try:
        known = device.secret == DEMO_SECRET
    except sealing.Unreadable:  # sealed under an earlier SECRET_KEY: given the demo's again
        known = False
    if not known:
        device.secret, device.last_step = DEMO_SECRET, 0
        device.save(update_fields=["sealed_secret", "last_step"])
    return device


def demo_code(*, after_step: int = 0, when: float | None = None) -> str | None:
    """The demo key's code for now (or the next step's, which is also accepted) that is
    later than ``after_step``; None when both are used (wait for the next step)."""
    now = step_at(when)
    for step in (now, now + 1):
        if step > after_step:
            return code_at(DEMO_SECRET, step)
    return None

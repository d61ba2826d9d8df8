"""API tokens: minted once, stored hashed, checked on every request, every use logged."""

import hashlib
import hmac
import secrets

from django.db import transaction
from django.utils import timezone
from rest_framework import authentication, exceptions, permissions

from fca import audit, throttling
from fca.models import ApiToken, AuditEvent

PREFIX = "fca_"
REFUSALS_LOGGED_A_MINUTE = 20


def _hash(secret: str) -> str:
    # The secret is 32 random bytes: a plain SHA-256 is enough, no slow hash needed.
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(*, user, name: str, kind: str, room=None, pathway=None, write_only: bool = False):
    """A new token and its text, which is shown once and never stored."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name,
            kind=kind,
            room=room,
            pathway=pathway,
            write_only=write_only,
            prefix=prefix,
            secret_hash=_hash(secret),
        )
        audit.record("token.created", actor=user, target=token, **_scope(token))
    return token, f"{PREFIX}{prefix}_{secret}"


def _scope(token: ApiToken) -> dict:
    """What the audit log says about a token: its kind and reach, never its text."""
    scope = {"kind": token.kind, "write_only": token.write_only}
    if token.room_id:
        scope.update(organisation=token.room.host_id, room=token.room_id)
    if token.pathway_id:
        scope.update(organisation=token.pathway.host_id, pathway=token.pathway_id)
    return scope


def revoke_token(*, token: ApiToken, by=None) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record("token.revoked", actor=by or token.user, target=token, **_scope(token))


def find_token(text: str) -> ApiToken | None:
    """The active token this text is, or None."""
    if not text.startswith(PREFIX) or text.count("_") < 2:
        return None
    prefix, _, secret = text[len(PREFIX) :].partition("_")
    token = ApiToken.objects.select_related("user", "room", "pathway").filter(prefix=prefix).first()
    if token is None or not hmac.compare_digest(token.secret_hash, _hash(secret)):
        return None
    return token if token.is_active else None


class TokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer fca_…`. A bad, revoked or disabled token is refused outright
    rather than treated as anonymous."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode(errors="replace")
        scheme, _, text = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        token = find_token(text.strip())
        if token is None:
            # The first refusals a minute from an address are logged, not a flood of them:
            # a client with no valid token cannot grow the audit log without end.
            address = throttling.client_ip(request) or "unknown"
            if throttling.count_request(f"refused:{address}")[0] <= REFUSALS_LOGGED_A_MINUTE:
                audit.record(
                    "token.refused",
                    request=request,
                    outcome=AuditEvent.Outcome.REFUSED,
                    method=request.method,
                    path=request.path[:300],
                )
            raise exceptions.AuthenticationFailed("This token is not valid or has been revoked")
        # Every use: the token, for whom, what was asked and from where (the client's
        # address behind the reverse proxy, found as sign-in throttling does).
        audit.record(
            "token.used",
            request=request,
            actor=token.user,
            token=token,
            target=token,
            method=request.method,
            path=request.path[:300],
            **_scope(token),
        )
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class PeopleOnly(permissions.BasePermission):
    """The default for every API endpoint: an integration token (a room's data feed) is
    refused unless the endpoint opts in, so no endpoint grants it its creator's access."""

    message = "A room's data feed token cannot use this endpoint"

    def has_permission(self, request, view) -> bool:
        token = request.auth
        return not (isinstance(token, ApiToken) and token.kind == ApiToken.Kind.INTEGRATION)

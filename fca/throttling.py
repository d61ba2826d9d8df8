"""Sign-in throttling (django-axes) keyed on the account as people type it, and the API's
rate limits per token."""

import ipaddress
import time

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from fca.models import ApiToken


def client_ip(request) -> str | None:
    """The address of the person's own computer: behind AXES_PROXY_COUNT reverse proxies,
    the entry the nearest of them added to X-Forwarded-For (entries further left are the
    client's own say, and could be anything); with none, the connection's address. Used
    for sign-in lockouts and the audit log (AXES_CLIENT_IP_CALLABLE)."""
    proxies = settings.AXES_IPWARE_PROXY_COUNT
    address = request.META.get("REMOTE_ADDR")
    if proxies:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        forwarded = [part for part in forwarded if part]
        address = forwarded[-proxies] if len(forwarded) >= proxies else None
    try:
        return str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        return None


def sign_in_username(request, credentials: dict | None) -> str:
    """The email from the sign-in attempt, lower-cased, so ALICE@ and alice@ count as one
    account and changing case cannot dodge a lockout."""
    source = credentials if credentials else getattr(request, "POST", {})
    return (source.get("username") or "").strip().lower()


# --- API rate limits ----------------------------------------------------------------------

WINDOW_SECONDS = 60
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def count_request(key: str, *, now: float | None = None) -> tuple[int, int]:
    """Count one request against ``key`` in this minute's window: (count so far, seconds
    until the window ends).

    One INSERT … ON CONFLICT … RETURNING, so concurrent requests from several processes
    each see their own number and none is lost; both PostgreSQL and SQLite (3.35+) run it.
    Past windows are cleared by a periodic job (delete_old_windows), so a request always
    costs this one statement."""
    from django.db import connection

    from fca.models import ApiRateWindow

    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    # Quoted: WINDOW is a reserved word in PostgreSQL.
    table, k, w, n = (
        connection.ops.quote_name(name)
        for name in (ApiRateWindow._meta.db_table, "key", "window", "count")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({k}, {w}, {n}) VALUES (%s, %s, 1) "
            f"ON CONFLICT ({k}, {w}) DO UPDATE SET {n} = {table}.{n} + 1 RETURNING {n}",
            [key, window],
        )
        count = cursor.fetchone()[0]
    return count, int((window + 1) * WINDOW_SECONDS - now) + 1


def delete_old_windows(*, now: float | None = None) -> int:
    """Let go of the counts of minutes gone by; returns how many rows went."""
    from fca.models import ApiRateWindow

    now = time.time() if now is None else now
    deleted, _ = ApiRateWindow.objects.filter(window__lt=int(now // WINDOW_SECONDS)).delete()
    return deleted


class ApiRateThrottle(BaseThrottle):
    """Requests a minute per token (or, signed in without one, per person): reads and
    writes counted apart, limits from FCA_API_READS_PER_MINUTE and
    FCA_API_WRITES_PER_MINUTE. Over the limit: 429 with Retry-After. Callers with no
    credentials never get this far: authentication refuses them first."""

    def allow_request(self, request, view) -> bool:
        self.retry_after = None
        token = getattr(request, "auth", None)
        if isinstance(token, ApiToken):
            who = f"token:{token.pk}"
        elif request.user and request.user.is_authenticated:
            who = f"user:{request.user.pk}"
        else:
            return True
        if request.method in SAFE_METHODS:
            kind, limit = "read", settings.FCA_API_READS_PER_MINUTE
        else:
            kind, limit = "write", settings.FCA_API_WRITES_PER_MINUTE
        count, seconds_left = count_request(f"{who}:{kind}")
        if count > limit:
            self.retry_after = seconds_left
            return False
        return True

    def wait(self) -> float | None:
        return self.retry_after

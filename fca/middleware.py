"""Keep signed-in pages out of shared computers' caches, and end sessions that have been
idle or open too long."""

import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout

from fca.models import User


class NoStoreForSignedIn:
    """Pages shown to a signed-in person may hold data about their rooms: on a shared
    ward computer, Back after signing out must not show them from the browser's cache."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and "Cache-Control" not in response:
            response["Cache-Control"] = "no-store"
        return response


# Session limits: the session holds when the person signed in and when they were last
# active; FCA_SESSION_IDLE_MINUTES idle or FCA_SESSION_MAX_HOURS in all end it ("shared
# computer" at sign-in: FCA_SHARED_SESSION_IDLE_MINUTES and FCA_SHARED_SESSION_MAX_HOURS,
# and the cookie ends with the browser).
SIGNED_IN_AT = "fca_signed_in_at"
ACTIVE_AT = "fca_active_at"
SHARED = "fca_shared_computer"
SIGNED_OUT_BECAUSE = "fca_signed_out_because"
# Activity is written at most once a minute, not on every request.
ACTIVITY_RESOLUTION = 60
# Pages that poll by themselves are not a person at work: they never keep a session alive.
POLLS = {"meeting_screen", "meeting_state", "chart_status", "board_pack_status"}


def limits(*, shared: bool) -> tuple[int, int]:
    """(idle, most) in seconds."""
    if shared:
        return (settings.FCA_SHARED_SESSION_IDLE_MINUTES * 60,
                settings.FCA_SHARED_SESSION_MAX_HOURS * 3600)  # fmt: skip
    return settings.FCA_SESSION_IDLE_MINUTES * 60, settings.FCA_SESSION_MAX_HOURS * 3600


def start_clock(sender, request, user, **kwargs) -> None:
    """On user_logged_in: the session's clock starts, whatever signed the person in (the
    sign-in page, single sign-on, the test client)."""
    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT] = request.session[ACTIVE_AT] = int(time.time())


def start_session(request, *, shared: bool) -> None:
    """Called just after login() by the sign-in pages: on a shared computer the limits are
    shorter and the cookie goes when the browser closes."""
    start_clock(None, request, None)
    request.session[SHARED] = shared
    idle, most = limits(shared=shared)
    request.session.set_expiry(0 if shared else most)


def signed_out_because(request) -> str | None:
    """Why the last session ended, once (the sign-in page says so)."""
    return request.session.pop(SIGNED_OUT_BECAUSE, None)


class SessionLimits:
    """End a session that has been idle too long, lasted too long, or whose person has been
    disabled, on the next request; the person lands on the sign-in page, told why, with
    ``next`` back to where they were (login_required does that)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        session = request.session
        user_id = session.get(SESSION_KEY)
        if user_id is None:
            return None
        # Read before request.user, which empties the session of a changed password.
        if not request.user.is_authenticated:  # disabled, deleted or password changed
            disabled = User.objects.filter(pk=user_id, is_active=False).exists()
            self._end(request, "disabled" if disabled else "ended")
            return None
        now = int(time.time())
        started, active = session.get(SIGNED_IN_AT), session.get(ACTIVE_AT)
        if started is None or active is None:  # a session from before the clock
            session[SIGNED_IN_AT] = session[ACTIVE_AT] = now
            return None
        shared = session.get(SHARED, False)
        idle, most = limits(shared=shared)
        if now - active > idle:
            self._end(request, "shared_idle" if shared else "idle")
        elif now - started > most:
            self._end(request, "shared_max" if shared else "max")
        elif now - active >= ACTIVITY_RESOLUTION:
            match = getattr(request, "resolver_match", None)
            if match is None or match.url_name not in POLLS:
                session[ACTIVE_AT] = now
        return None

    @staticmethod
    def _end(request, reason: str) -> None:
        logout(request)
        request.session[SIGNED_OUT_BECAUSE] = reason

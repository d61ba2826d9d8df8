"""The audit log: the one place events are written, and the words they are read in.

An event says when, who (and from which address), for which organisation, what, to which
object, and how it ended. It never holds passwords, tokens, free text or rows of data:
callers pass the object acted on and counts; only the names of named things (a room, a
measure, a person) are kept, never what someone wrote.
"""

from datetime import UTC

from django.contrib.auth import user_logged_in, user_logged_out, user_login_failed
from django.db.models import Q
from django.dispatch import receiver

from fca.models import ApiToken, AuditEvent, Organisation, User
from fca.throttling import client_ip

# What each action is called on the audit page. An action missing here is still recorded.
ACTIONS = {
    "sign_in": "Signed in",
    "sign_in.failed": "Sign-in failed",
    "sign_in.locked_out": "Sign-in locked after repeated failures",
    "sign_in.sso": "Single sign-on refused",
    "sign_out": "Signed out",
    "two_factor.set_up": "Two-factor sign-in set up",
    "two_factor.failed": "Wrong two-factor code",
    "two_factor.recovery_used": "Recovery code used",
    "two_factor.codes_regenerated": "New recovery codes made",
    "two_factor.reset": "Two-factor sign-in reset",
    "two_factor.turned_off": "Two-factor sign-in turned off",
    "membership.added": "Added to a room",
    "membership.changed": "Room role changed",
    "membership.removed": "Removed from a room",
    "enrolment.confirmed": "Coaches enrolled",
    "coach.status_changed": "Coach status changed",
    "role.changed": "Organisation role changed",
    "role.academy_admin": "Academy admin role changed",
    "account.disabled": "Account disabled",
    "account.enabled": "Account enabled",
    "upload.measure_data": "Measure data uploaded",
    "upload.episodes": "Episode file received",
    "upload.episodes_loaded": "Episodes loaded",
    "upload.episodes_discarded": "Episode file discarded",
    "export": "Data downloaded",
    "token.created": "API token made",
    "token.revoked": "API token revoked",
    "token.used": "API token used",
    "token.refused": "API token refused",
    "deleted": "Deleted",
    "retention.run": "Old episode data deleted (retention)",
    "retention.housekeeping": "Expired sessions, old sign-in records and audit events deleted",
    "task.failed": "Background work failed",
}

# Objects whose str() is a name someone gave them (never notes or descriptions).
_NAMED = {"bigroom", "measure", "pathway", "organisation", "cohort", "user", "apitoken",
          "changepackage", "step", "coach"}  # fmt: skip


def label(action: str) -> str:
    return ACTIONS.get(action, action.replace("_", " ").replace(".", ": ").capitalize())


def _organisation_of(target) -> int | None:
    """The organisation an object belongs to: a room's or pathway's host, and so on."""
    if target is None:
        return None
    if isinstance(target, Organisation):
        return target.pk
    for attribute in ("host_id", "organisation_id"):
        value = getattr(target, attribute, None)
        if value:
            return value
    for parent in ("room", "pathway", "measure", "session", "cohort"):
        # Only follow what is already loaded or cheap: a foreign key the caller has.
        if getattr(target, f"{parent}_id", None):
            found = _organisation_of(getattr(target, parent))
            if found:
                return found
    return None


def record(
    action: str,
    *,
    request=None,
    actor=None,
    organisation=None,
    target=None,
    outcome: str = AuditEvent.Outcome.SUCCESS,
    token: ApiToken | None = None,
    target_id=None,
    **details,
) -> AuditEvent:
    """Write one event. ``actor`` defaults to the request's signed-in person;
    ``organisation`` to the target's; ``target_id`` to the target's (give it for an
    object already deleted, which has lost it); ``details`` are small facts (counts,
    roles, codes), never text people wrote or data rows."""
    if token is None and isinstance(getattr(request, "_auth", None), ApiToken):
        token = request._auth  # an API request already authenticated by its token
    # The Django request under an API one: asking the API request for its user while it
    # is still authenticating would start that again.
    request = getattr(request, "_request", request)
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
    if organisation is None:
        organisation_id = _organisation_of(target)
    else:
        organisation_id = organisation if isinstance(organisation, int) else organisation.pk
    target_type = target_name = ""
    if target is not None:
        target_type = target._meta.model_name
        target_id = target.pk if target_id is None else target_id
        if target_type in _NAMED:
            target_name = str(target)[:200]
    return AuditEvent.objects.create(
        actor=actor if isinstance(actor, User) else None,
        actor_email=(actor.email if isinstance(actor, User) else str(actor or ""))[:254],
        token=token,
        ip_address=client_ip(request) if request is not None else None,
        organisation_id=organisation_id,
        action=action,
        outcome=outcome,
        target_type=target_type,
        target_id="" if target_id is None else str(target_id),
        target_name=target_name,
        details=details,
    )


def _via(request) -> str:
    match = getattr(request, "resolver_match", None)
    return match.url_name if match is not None else ""


@receiver(user_logged_in, dispatch_uid="audit_sign_in")
def _signed_in(sender, request, user, **kwargs) -> None:
    record("sign_in", request=request, actor=user, via=_via(request))


@receiver(user_logged_out, dispatch_uid="audit_sign_out")
def _signed_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        record("sign_out", request=request, actor=user)


@receiver(user_login_failed, dispatch_uid="audit_sign_in_failed")
def _sign_in_failed(sender, credentials, request=None, **kwargs) -> None:
    # The address typed, and the account it names if there is one (so the person's QI
    # lead sees it); Django has already masked the password in ``credentials``.
    typed = _typed_email(credentials.get("username") or credentials.get("email"))
    person = User.objects.filter(email__iexact=typed).first() if typed else None
    record(
        "sign_in.failed",
        request=request,
        actor=person or typed,
        outcome=AuditEvent.Outcome.FAILURE,
        via=_via(request),
    )


def _typed_email(text) -> str:
    """What was typed as the email, when it looks like one: anything else (a password
    typed into the wrong box, say) is never kept."""
    typed = str(text or "").strip().lower()
    looks_like_email = typed.count("@") == 1 and " " not in typed and len(typed) <= 254
    return typed if looks_like_email else ("(not an email address)" if typed else "")


def _locked_out(sender, request, username=None, ip_address=None, **kwargs) -> None:
    typed = _typed_email(username)
    person = User.objects.filter(email__iexact=typed).first() if typed else None
    record("sign_in.locked_out", request=request, actor=person or typed, outcome="refused")


def connect() -> None:
    """Called when the app is ready: django-axes' lockout signal."""
    from axes.signals import user_locked_out

    user_locked_out.connect(_locked_out, dispatch_uid="audit_locked_out")


# --- Reading the log -------------------------------------------------------------------

# The log's filters group actions as people look for them.
GROUPS = {
    "sign_in": ("Signing in and out", ("sign_in", "sign_out", "two_factor")),
    "people": (
        "Roles, memberships and enrolments",
        ("membership", "role", "account", "enrolment", "coach"),
    ),
    "upload": ("Uploads", ("upload",)),
    "export": ("Downloads", ("export",)),
    "token": ("API tokens", ("token",)),
    "deleted": ("Deletions and retention", ("deleted", "retention")),
    "task": ("Background work", ("task",)),
}
GROUP_CHOICES = [(key, words) for key, (words, _) in GROUPS.items()]


def organisations_for(user):
    """The organisations whose log the person reads, or None when it is every one (an
    academy admin); an empty list for everyone else."""
    if not user.is_authenticated or not user.is_active:
        return []
    if user.is_academy_admin:
        return None
    return list(
        Organisation.objects.filter(memberships__user=user, memberships__role="qi_lead").order_by(
            "name"
        )
    )


def events_for(user, *, organisation=None, group="", outcome="", person="", since=None,
               until=None):  # fmt: skip
    """The events the person may read, newest first, narrowed by the filters."""
    events = AuditEvent.objects.readable_by(user).select_related("organisation")
    if organisation is not None:
        events = events.for_organisations([organisation.pk])
    if group in GROUPS:
        match = Q()
        for prefix in GROUPS[group][1]:
            match |= Q(action=prefix) | Q(action__startswith=f"{prefix}.")
        events = events.filter(match)
    if outcome:
        events = events.filter(outcome=outcome)
    if person:
        events = events.filter(actor_email__icontains=person.strip().lower())
    if since is not None:
        events = events.filter(at__date__gte=since)
    if until is not None:
        events = events.filter(at__date__lte=until)
    return events


def describe_details(details: dict) -> str:
    """The small facts of an event, as words: "added 3, role qi_lead"."""
    return ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in details.items())


CSV_HEADER = ["When (UTC)", "Who", "Organisation", "What", "Outcome", "Object", "Object id",
              "Object name", "From address", "Details"]  # fmt: skip


def csv_rows(events):
    """The log as rows for a CSV file, read in batches so a long log is not held at once."""
    yield CSV_HEADER
    for event in events.iterator(chunk_size=2000):
        yield [
            event.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            event.actor_email or "The service",
            event.organisation.name if event.organisation else "",
            label(event.action),
            event.get_outcome_display(),
            event.target_type,
            event.target_id,
            event.target_name,
            event.ip_address or "",
            describe_details(event.details),
        ]

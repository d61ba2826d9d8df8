"""Letting go of what the service keeps only for a while: expired sessions, old sign-in
records (django-axes) and, when the organisation sets a period, old audit events."""

from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from fca import audit
from fca.models import AuditEvent


def tidy(*, now=None) -> dict[str, int]:
    """Delete what has outlived its period; the run itself is audited with its counts."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    now = now or timezone.now()
    counts = {"sessions": Session.objects.filter(expire_date__lt=now).delete()[0]}
    cut = now - timedelta(days=settings.FCA_SIGN_IN_RECORDS_DAYS)
    counts["sign_in_records"] = sum(
        model.objects.filter(attempt_time__lt=cut).delete()[0]
        for model in (AccessLog, AccessFailureLog, AccessAttempt)
    )
    counts["audit_events"] = 0
    if settings.FCA_AUDIT_KEEP_MONTHS:
        cut = now - timedelta(days=round(settings.FCA_AUDIT_KEEP_MONTHS * 30.44))
        counts["audit_events"] = AuditEvent.objects.filter(at__lt=cut).delete()[0]
    audit.record("retention.housekeeping", **counts)
    return counts

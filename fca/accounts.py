"""Giving and taking away organisation-wide roles, the academy admin role, and accounts
themselves: what a service operator does (from the command line, manage.py set_access),
each change audited."""

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from fca import audit
from fca.models import Organisation, OrganisationMembership, User

NO_ROLE = "none"


class AccessChangeError(ValueError):
    pass


def find_organisation(text: str) -> Organisation:
    """An organisation by its ODS code (any case) or its exact name."""
    text = text.strip()
    found = Organisation.objects.filter(ods_code__iexact=text).first() if text else None
    found = found or Organisation.objects.filter(name=text).first()
    if found is None:
        raise AccessChangeError(f"No organisation has the ODS code or name “{text}”")
    return found


def set_organisation_role(*, user: User, organisation: Organisation, role: str, by) -> str:
    """Make the person QI lead, viewer or staff of the organisation, or take them off it
    (``none``). Returns what it was."""
    roles = {*OrganisationMembership.Role.values, NO_ROLE}
    if role not in roles:
        raise AccessChangeError(f"“{role}” is not a role: use one of {', '.join(sorted(roles))}")
    with transaction.atomic():
        membership = OrganisationMembership.objects.filter(
            user=user, organisation=organisation
        ).first()
        was = membership.role if membership else NO_ROLE
        if was == role:
            return was
        if role == NO_ROLE:
            membership.delete()
        elif membership is None:
            OrganisationMembership.objects.create(user=user, organisation=organisation, role=role)
        else:
            membership.role = role
            membership.save(update_fields=["role"])
        audit.record(
            "role.changed", actor=by, organisation=organisation, target=user, role=role, was=was
        )
        if role == OrganisationMembership.Role.QI_LEAD:
            end_sessions(user)
    return was


def set_academy_admin(*, user: User, admin: bool, by) -> None:
    if user.is_academy_admin == admin:
        return
    user.is_academy_admin = admin
    user.save(update_fields=["is_academy_admin"])
    audit.record("role.academy_admin", actor=by, target=user, admin=admin)
    if admin:
        end_sessions(user)


def end_sessions(user: User) -> int:
    """Sign the person out everywhere: made QI lead or academy admin, they sign in again,
    giving the second factor the role needs (a session opened with a password alone must
    not carry the new role). Returns how many sessions ended."""
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get(SESSION_KEY) == str(user.pk):
            session.delete()
            ended += 1
    return ended


def set_active(*, user: User, active: bool, by) -> None:
    """Disable an account (its sessions end at their next request, its personal tokens stop
    working) or enable it again."""
    if user.is_active == active:
        return
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit.record("account.enabled" if active else "account.disabled", actor=by, target=user)

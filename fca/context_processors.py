from fca.models import OrganisationMembership


def navigation(request) -> dict:
    """The header's organisation and role, and the navigation the person's roles open."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    memberships = list(
        OrganisationMembership.objects.filter(user=user).select_related("organisation")
    )
    primary = next((m for m in memberships if m.role == m.Role.QI_LEAD), None) or (
        memberships[0] if memberships else None
    )
    if user.is_academy_admin:
        role = "Academy admin"
    elif primary is not None and primary.role != primary.Role.STAFF:
        role = primary.get_role_display()
    else:
        role = ""
    return {
        "header_organisation": primary.organisation.name if primary else "",
        "header_role": role,
    }

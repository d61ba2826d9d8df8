from django import template

from fca import sso

register = template.Library()


@register.simple_tag
def sso_providers() -> list[sso.Provider]:
    """The single sign-on providers configured now (read per page, so settings changed in
    tests and by a restart both show)."""
    return sso.providers()

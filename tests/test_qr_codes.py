"""QR codes: a session's scoring link is drawn once per worker and shown the same every
time; a two-factor key's link (it holds the secret) is never kept in memory."""

from django.urls import reverse

from bigrooms.models import Session
from fca import qr


def test_a_scoring_link_is_drawn_once_and_shown_the_same_each_time(client, cast):
    session = Session.objects.create(room=cast.room, held_on="2026-01-05", created_by=cast.alice)
    client.force_login(cast.alice)
    url = reverse("session_detail", args=[session.pk])
    first = client.get(url)
    drawn = qr._remembered.cache_info()
    second = client.get(url)
    assert first.status_code == second.status_code == 200
    assert qr._remembered.cache_info().hits == drawn.hits + 1
    assert qr._remembered.cache_info().currsize == drawn.currsize
    assert first.context["scoring_qr"] == second.context["scoring_qr"]
    assert 'role="img"' in second.context["scoring_qr"]


def test_a_two_factor_key_is_never_kept():
    link = "otpauth://totp/FCA%20big%20rooms:a%40example.nhs.uk?secret=JBSWY3DPEHPK3PXP"
    before = qr._remembered.cache_info()
    svg = qr.qr_svg(link, scale=4, title="QR code to add FCA big rooms to an authenticator app")
    assert svg.startswith('<svg role="img"')
    after = qr._remembered.cache_info()
    assert (after.hits, after.misses, after.currsize) == (
        before.hits,
        before.misses,
        before.currsize,
    )

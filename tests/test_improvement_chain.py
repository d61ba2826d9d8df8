"""The whole Model for Improvement chain, through the pages a coach uses: theme → global and
specific aim → driver diagram → change idea → a ramp of three PDSA cycles (adapt, adapt,
adopt) → markers on the outcome chart, and the room page telling the story."""

from datetime import date, timedelta

from django.urls import reverse

from bigrooms.models import PDSA, ChangeIdea, Driver, Theme
from measures.models import ChartResult, DataPoint


def _ok(response):
    assert response.status_code == 302, response.content.decode()[:3000]
    return response


def test_theme_to_aim_to_diagram_to_a_ramp_of_three_cycles_on_the_outcome_chart(
    client, cast, django_capture_on_commit_callbacks
):
    room, outcome = cast.room, cast.measure  # "Hours to theatre", weekly, lower is better
    start = date(2026, 1, 5)
    DataPoint.objects.bulk_create(
        DataPoint(measure=outcome, period=start + timedelta(weeks=i), value=40 - (i > 12) * 8)
        for i in range(26)
    )
    client.force_login(cast.alice)

    # Theme, chosen by a multivote.
    _ok(client.post(reverse("room_themes", args=[room.pk]), {"title": "Waits for theatre"}))
    _ok(client.post(reverse("room_themes", args=[room.pk]), {"title": "Weekend discharges"}))
    theme = Theme.objects.get(title="Waits for theatre")
    _ok(client.post(reverse("multivote_open", args=[room.pk]), {"votes_each": "3"}))
    vote = room.multivotes.get()
    _ok(client.post(reverse("multivote_detail", args=[vote.pk]), {f"theme_{theme.pk}": "3"}))
    _ok(client.post(reverse("multivote_close", args=[vote.pk])))
    vote.refresh_from_db()
    assert vote.result[0]["title"] == "Waits for theatre"

    # Aims: the global aim from the theme, a specific aim on the outcome measure.
    _ok(client.post(reverse("room_aims", args=[room.pk]), {
        "theme": theme.pk, "where": "Hip fracture patients at North General",
        "looks_like": "Every patient reaches theatre within 36 hours",
        "why": "Waiting longer raises the risk of dying",
    }))  # fmt: skip
    _ok(client.post(reverse("specific_aim_create", args=[room.pk]), {
        "what": "Mean hours from arrival to theatre", "measure": outcome.pk, "target": "30",
        "target_on": "31/12/2026", "theme": theme.pk,
    }))  # fmt: skip

    # The driver diagram and a change idea serving one of its secondary drivers.
    diagram = reverse("driver_diagram", args=[room.pk])
    _ok(client.post(diagram, {"title": "Theatre capacity"}))
    primary = Driver.objects.get()
    _ok(client.post(diagram, {"title": "Trauma list planning", "parent": primary.pk}))
    secondary = Driver.objects.get(parent=primary)
    _ok(client.post(reverse("change_idea_create", args=[room.pk]), {
        "title": "Protected morning trauma slot", "drivers": [secondary.pk],
    }))  # fmt: skip
    idea = ChangeIdea.objects.get()

    # A ramp: adapt, adapt, adopt, each cycle bigger than the last; the charts are redrawn
    # after each commit, as the worker does.
    with django_capture_on_commit_callbacks(execute=True):
        plan = {
            "objective": "Keep the first slot for a hip fracture", "purpose": "test",
            "scale": "One Monday", "starts_on": "06/04/2026", "measures": [outcome.pk],
            "q_1_question": "Will the slot be used?", "q_1_prediction": "Yes",
        }  # fmt: skip
        _ok(client.post(reverse("pdsa_create", args=[idea.pk]), plan))
        scales = ["One Monday", "Every Monday in May", "Every weekday"]
        decisions = ["adapt", "adapt", "adopt"]
        for n, (scale, decision) in enumerate(zip(scales, decisions, strict=True), start=1):
            cycle = PDSA.objects.get(ramp__change_idea=idea, number=n)
            if n > 1:
                _ok(client.post(reverse("pdsa_edit_plan", args=[cycle.pk]), {
                    **plan, "scale": scale, "starts_on": f"0{3 + n}/0{3 + n}/2026",
                    "q_1_pk": cycle.questions.get().pk, "objective": cycle.objective,
                }))  # fmt: skip
            _ok(client.post(reverse("pdsa_move", args=[cycle.pk])))
            _ok(client.post(reverse("pdsa_edit_do", args=[cycle.pk]),
                            {"what_happened": "Ran as planned", "move": "1"}))  # fmt: skip
            _ok(client.post(reverse("pdsa_edit_study", args=[cycle.pk]), {
                f"result_{cycle.questions.get().pk}": "Used every time", "learning": "It works",
                "move": "1",
            }))  # fmt: skip
            _ok(client.post(reverse("pdsa_edit_act", args=[cycle.pk]), {
                "decision": decision, "next_step": f"Grow it: {scales[min(n, 2)]}", "move": "1",
            }))  # fmt: skip
            cycle.refresh_from_db()
            assert (cycle.status, cycle.decision, cycle.scale) == ("complete", decision, scale)
            if n < 3:
                _ok(client.post(reverse("pdsa_next", args=[cycle.pk])))
    assert PDSA.objects.count() == 3
    assert idea.ramps.count() == 1

    # The outcome chart (drawn by the worker, here eagerly) carries the three starts.
    chart = ChartResult.objects.get(measure=outcome)
    outcome.refresh_from_db()
    assert chart.data_version == outcome.data_version
    markers = [(a["x"], a["hovertext"]) for a in chart.figure["layout"]["annotations"]]
    text = "PDSA {} started: Protected morning trauma slot"
    assert markers == [
        ("2026-04-06", text.format(1)), ("2026-05-05", text.format(2)),
        ("2026-06-06", text.format(3)),
    ]  # fmt: skip
    measure_page = client.get(reverse("measure_detail", args=[outcome.pk])).content.decode()
    assert measure_page.count("started: Protected morning trauma slot</a>") == 3
    assert "caused" not in " ".join(t for _, t in markers)

    # The room page tells the story.
    page = client.get(reverse("room_detail", args=[room.pk])).content.decode()
    assert "Hip fracture patients at North General: Every patient reaches theatre" in page
    assert "Mean hours from arrival to theatre</strong>: 30 hours by 31 Dec 2026" in page
    assert 'data-testid="story-diagram"' in page and 'class="app-sparkline"' in page
    assert ">3</span> complete" in page
    ramp = client.get(reverse("change_idea_detail", args=[idea.pk])).content.decode()
    for scale, decision in zip(scales, ["Adapt", "Adapt", "Adopt"], strict=True):
        assert scale in ramp and decision in ramp

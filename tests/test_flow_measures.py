"""From episodes to flow measures: after a load the worker works out the pathway's weekly
flow figures, writes them as its measures' points (recent weeks provisional), and their
charts recompute; rooms on the pathway show them; the pathway page shows the heatmap."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from measures.models import ChartResult, Measure
from pathways.models import EpisodeUpload, Pathway, Step
from pathways.recompute import recompute_flow
from tests.conftest import wait_for

MONDAY = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)  # 09:00 in London


def _file(weeks: int = 16) -> str:
    """Three patients a week; each stays 1, 2 and 4 days; theatre 10, 20 and 40 hours in."""
    lines = ["episode_id,arrived_at,departed_at,theatre,destination"]
    for week in range(weeks):
        for n, (stay, theatre) in enumerate(((1, 10), (2, 20), (4, 40))):
            arrived = MONDAY + timedelta(weeks=week, hours=n)
            departed = arrived + timedelta(days=stay)
            dest = "Died" if (week, n) == (3, 2) else "Home"
            lines.append(f"W{week}-{n},{arrived:%Y-%m-%dT%H:%MZ},{departed:%Y-%m-%dT%H:%MZ},"
                         f"{arrived + timedelta(hours=theatre):%Y-%m-%dT%H:%MZ},{dest}")  # fmt: skip
    return "\n".join(lines) + "\n"


@pytest.fixture
def pathway(cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    pathway = Pathway.objects.create(
        host=cast.north, name="Hip fracture", not_discharges=["died"], data_lag_weeks=1,
        metrics=["discharges", "los_median_hours", "step_within_standard_pct", "stranded"],
    )  # fmt: skip
    Step.objects.create(pathway=pathway, code="theatre", name="Theatre", standard_hours=36,
                        slot=1)  # fmt: skip
    cast.room.pathway = pathway
    cast.room.save()
    return pathway


def _upload_and_load(client, pathway):
    response = client.post(reverse("episode_upload_new", args=[pathway.pk]),
                           {"file": SimpleUploadedFile("e.csv", _file().encode())})  # fmt: skip
    assert response.status_code == 302
    upload = EpisodeUpload.objects.latest("pk")
    return upload


def test_a_load_becomes_the_pathways_weekly_flow_measures(
    client, cast, pathway, django_capture_on_commit_callbacks
):
    client.force_login(cast.alice)
    with django_capture_on_commit_callbacks(execute=True):
        upload = _upload_and_load(client, pathway)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("episode_upload_confirm", args=[upload.pk]))
    pathway.refresh_from_db()
    assert pathway.metrics_version == pathway.data_version == 1
    measures = {m.flow_metric: m for m in pathway.measures.all()}
    assert set(measures) == {"discharges", "los_median_hours", "step_within_standard_pct",
                             "stranded"}  # fmt: skip
    theatre = measures["step_within_standard_pct"]
    assert (theatre.name, theatre.chart_type, theatre.improvement) == (
        "Theatre within 36 hours",
        "p",
        "increase",
    )
    # Two of three reach theatre within 36 hours every week.
    first = theatre.points.order_by("period").first()
    assert (first.period.isoformat(), first.value, first.numerator, first.denominator) == (
        "2026-06-01",
        pytest.approx(200 / 3),
        2.0,
        3.0,
    )
    # Week 3 had a death: two discharges, and the median stay of those two (1 and 2 days).
    discharges = dict(measures["discharges"].points.values_list("period", "value"))
    median = dict(measures["los_median_hours"].points.values_list("period", "value"))
    week3 = datetime(2026, 6, 22).date()
    assert discharges[week3] == 2 and median[week3] == 36.0
    # The unfinished last week and one lag week are provisional, the rest are not.
    flags = list(measures["discharges"].points.order_by("period").values_list(
        "provisional", flat=True))  # fmt: skip
    assert flags[-2:] == [True, True] and not any(flags[:-2])
    # Three patients a week is fewer than the pathway's smallest n (10): drawn pale, said.
    theatre_chart = ChartResult.objects.get(measure=theatre)
    assert "had fewer than 10 patients: drawn pale" in theatre_chart.result["summary"]
    assert theatre_chart.result["points"][0]["few"] == 3
    chart = ChartResult.objects.get(measure=measures["discharges"])
    assert chart.result["n"] == len(flags) - 2
    assert "provisional" in chart.result["summary"]
    # The download and the API say which weeks are provisional.
    discharges_id = measures["discharges"].pk
    lines = client.get(reverse("measure_csv", args=[discharges_id])).content.decode().splitlines()
    assert lines[0].split(",")[4] == "provisional"
    assert [line.split(",")[4] for line in lines[1:]] == [""] * (len(flags) - 2) + ["yes"] * 2
    api = client.get(reverse("api_point_list", args=[discharges_id])).json()
    assert [p["provisional"] for p in api["results"]] == flags

    page = client.get(reverse("room_detail", args=[cast.room.pk])).content.decode()
    assert "Theatre within 36 hours" in page and "Median length of stay" in page
    page = client.get(reverse("pathway_detail", args=[pathway.pk])).content.decode()
    assert 'data-testid="heatmap-arrivals"' in page and "over the 12 weeks" in page
    measure_page = client.get(reverse("measure_detail", args=[theatre.pk])).content.decode()
    assert "Hip fracture" in measure_page and "takes no values by hand" not in measure_page
    assert measure_page.count("Provisional: not tested yet") == 2


def test_the_same_version_is_worked_out_once(cast, pathway):
    assert recompute_flow(pathway_id=pathway.pk) is False  # nothing loaded yet
    Pathway.objects.filter(pk=pathway.pk).update(data_version=1)
    assert recompute_flow(pathway_id=pathway.pk) is True
    assert recompute_flow(pathway_id=pathway.pk) is False


def test_a_member_reads_a_flow_measure_and_an_outsider_does_not(client, cast, pathway):
    Pathway.objects.filter(pk=pathway.pk).update(data_version=1)
    recompute_flow(pathway_id=pathway.pk)
    measure = Measure.objects.filter(pathway=pathway).first()
    client.force_login(cast.bob)
    assert client.get(reverse("measure_detail", args=[measure.pk])).status_code == 200
    assert client.get(reverse("measure_settings", args=[measure.pk])).status_code == 403
    client.force_login(cast.charlie)
    assert client.get(reverse("measure_detail", args=[measure.pk])).status_code == 404


def test_those_who_load_the_pathway_add_notes_to_its_flow_charts(client, cast, pathway):
    """A flow chart takes notes ("discharge lounge opened") from the coaches of rooms on
    the pathway and its QI leads; a member who only reads it cannot add one."""
    Pathway.objects.filter(pk=pathway.pk).update(data_version=1)
    recompute_flow(pathway_id=pathway.pk)
    measure = Measure.objects.get(pathway=pathway, flow_metric="discharges")
    url = reverse("annotation_create", args=[measure.pk])
    note = {"on": "15/06/2026", "text": "Discharge lounge opened"}
    client.force_login(cast.bob)
    page = client.get(reverse("measure_detail", args=[measure.pk])).content.decode()
    assert "Add a note to the chart" not in page
    assert client.post(url, note).status_code == 403
    for person in (cast.alice, cast.quinn):
        client.force_login(person)
        page = client.get(reverse("measure_detail", args=[measure.pk])).content.decode()
        assert "Add a note to the chart" in page and "the pathway's data is loaded" in page
    assert client.post(url, note).status_code == 302
    assert list(measure.annotations.values_list("text", flat=True)) == ["Discharge lounge opened"]


@pytest.mark.postgres_only
def test_upload_check_load_recompute_and_charts_through_the_live_worker(
    client, cast, pathway, live_worker
):
    client.force_login(cast.dana)
    upload = _upload_and_load(client, pathway)
    wait_for(lambda: EpisodeUpload.objects.get(pk=upload.pk).status == "checked",
             message="the worker never checked the file")  # fmt: skip
    page = client.get(reverse("episode_upload", args=[upload.pk])).content.decode()
    assert "Load 48 episodes" in page
    client.post(reverse("episode_upload_confirm", args=[upload.pk]))

    def charts_current() -> bool:
        measures = Measure.objects.filter(pathway=pathway)
        return measures.count() == 4 and all(
            ChartResult.objects.filter(measure=m, data_version=m.data_version).exists()
            for m in measures
        )

    wait_for(charts_current, message="the flow measures' charts never caught up")
    assert EpisodeUpload.objects.get(pk=upload.pk).status == "loaded"
    page = client.get(reverse("pathway_detail", args=[pathway.pk])).content.decode()
    assert 'data-testid="recomputing"' not in page and "48" in page


def test_weeks_before_retention_keep_their_figures(
    client, cast, pathway, django_capture_on_commit_callbacks
):
    from pathways.services import apply_retention

    client.force_login(cast.alice)
    with django_capture_on_commit_callbacks(execute=True):
        upload = _upload_and_load(client, pathway)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("episode_upload_confirm", args=[upload.pk]))
    discharges = pathway.measures.get(flow_metric="discharges")
    before = dict(discharges.points.values_list("period", "value"))
    # Keep a month: as if it were mid-July, the June weeks' episodes are deleted.
    Pathway.objects.filter(pk=pathway.pk).update(keep_episodes_months=1)
    with django_capture_on_commit_callbacks(execute=True):
        apply_retention(now=datetime(2026, 8, 12, tzinfo=UTC))
    pathway.refresh_from_db()
    # The cut falls on Monday 13 July, after midnight: that week lost episodes too.
    assert pathway.history_until == datetime(2026, 7, 20).date()
    after = dict(discharges.points.values_list("period", "value"))
    early = [week for week in before if week < pathway.history_until]
    assert early and all(after[week] == before[week] for week in early)
    assert pathway.metrics_version == pathway.data_version

"""Synthetic episodes of any size, for the demo and the benchmarks: into a pathway, or into
a file that the upload checks take without a single problem."""

from datetime import UTC, datetime

from django.core.management import call_command

from pathways import synthetic
from pathways.episodes import check_rows
from pathways.models import Pathway, Step


def test_episodes_made_into_a_pathway_become_its_flow_measures(
    cast, django_capture_on_commit_callbacks
):
    pathway = Pathway.objects.create(host=cast.north, name="Frailty", metrics=["arrivals"])
    Step.objects.create(pathway=pathway, code="review", name="Review", slot=1)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("make_episodes", pathway=pathway.pk, episodes=500, days=70, stdout=None)
    pathway.refresh_from_db()
    assert pathway.episodes.count() == 500
    assert pathway.metrics_version == pathway.data_version == 1
    arrivals = pathway.measures.get(flow_metric="arrivals")
    assert sum(arrivals.points.values_list("value", flat=True)) == 500


def test_a_synthetic_file_passes_the_upload_checks(tmp_path):
    end = datetime(2026, 11, 26, 12, tzinfo=UTC)
    shape = synthetic.Shape(steps=[("review", 6.0), ("theatre", 30.0)])
    data = synthetic.columns(2000, end=end, days=120, shape=shape, seed=7)
    path = tmp_path / "episodes.csv"
    assert synthetic.write_csv(data, path) == 2000
    report, records = check_rows(path, "episodes.csv", step_codes=["review", "theatre"],
                                 max_bytes=10**8, now=end)  # fmt: skip
    assert (report.problem_count, len(records)) == (0, 2000)
    assert any(r.departed_at is None for r in records)  # some are still on the pathway
    # The same seed, the same episodes.
    again = synthetic.columns(2000, end=end, days=120, shape=shape, seed=7)
    assert (again["arrived_at"] == data["arrived_at"]).all()

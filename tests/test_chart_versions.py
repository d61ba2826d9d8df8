"""A chart result is keyed by the data version it was computed from."""

from datetime import date

from django.core.management import call_command

from fca.celery import app
from measures import services
from measures.models import ChartResult, Measure


def _save(cast, rows):
    services.save_data_points(measure=cast.measure, rows=rows)
    cast.measure.refresh_from_db()


def test_a_stale_task_cannot_overwrite_a_newer_chart(cast):
    _save(cast, [(1, date(2026, 1, 5), (10.0,)), (2, date(2026, 1, 12), (12.0,))])
    old_version = cast.measure.data_version
    old_result, old_figure = services.compute_chart(cast.measure)

    _save(cast, [(1, date(2026, 1, 19), (14.0,))])
    assert services.recompute_chart(measure_id=cast.measure.pk) is True
    newest = ChartResult.objects.get(measure=cast.measure)
    assert newest.result["n"] == 3

    # The slow task that read the older data finishes last: it must change nothing.
    stored = services.store_chart(
        measure_id=cast.measure.pk, data_version=old_version, result=old_result, figure=old_figure
    )
    assert stored is False
    chart = ChartResult.objects.get(measure=cast.measure)
    assert chart.data_version == cast.measure.data_version
    assert chart.result["n"] == 3


def test_a_duplicate_task_leaves_the_result_as_it_is(cast):
    _save(cast, [(1, date(2026, 1, 5), (10.0,)), (2, date(2026, 1, 12), (12.0,))])
    assert services.recompute_chart(measure_id=cast.measure.pk) is True
    first = ChartResult.objects.get(measure=cast.measure)
    assert services.recompute_chart(measure_id=cast.measure.pk) is False
    again = ChartResult.objects.get(measure=cast.measure)
    assert (again.data_version, again.computed_at, again.result) == (
        first.data_version,
        first.computed_at,
        first.result,
    )
    assert ChartResult.objects.filter(measure=cast.measure).count() == 1


def test_a_task_for_a_deleted_measure_does_nothing(cast):
    measure_id = cast.measure.pk
    Measure.objects.filter(pk=measure_id).delete()
    assert services.recompute_chart(measure_id=measure_id) is False


def test_the_sweep_finds_every_chart_behind_its_data(cast, settings):
    services.recompute_chart(measure_id=cast.other_measure.pk)  # up to date
    _save(cast, [(1, date(2026, 1, 5), (10.0,))])  # stale: its on-commit task never ran
    assert set(Measure.objects.stale().values_list("pk", flat=True)) == {cast.measure.pk}
    assert app.conf.task_always_eager
    assert services.enqueue_stale_charts() == 1
    assert not Measure.objects.stale().exists()


def test_the_sweep_command_reports_what_it_sent(cast, capsys):
    call_command("sweep_stale_charts")
    assert "2 stale chart(s) sent for recompute." in capsys.readouterr().out

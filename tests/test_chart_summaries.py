"""What a chart says in words: Making Data Count's, never a cause."""

from datetime import date, timedelta

from measures import charts


def _settings(**overrides):
    base = {
        "name": "Time to theatre",
        "unit": "hours",
        "frequency": "weekly",
        "shape": "value",
        "chart_type": "run",
        "improvement": "decrease",
    }
    return charts.Settings(**{**base, **overrides})


def _rows(values, start=date(2025, 1, 6)):
    return [charts.Row(start + timedelta(weeks=i), v) for i, v in enumerate(values)]


def test_a_run_chart_of_few_points_does_not_claim_random_variation():
    payload = charts.compute(_settings(), _rows([30, 31, 29]), [])
    assert payload["summary"] == (
        "Too few points yet to test for non-random variation, on 3 weekly points; the latest "
        "for the week starting 20 Jan 2025."
    )


def test_a_run_chart_names_a_signal_and_offers_a_control_chart_from_20_points():
    values = [30, 31, 29, 30, 31, 29, 30, 31, 29, 30] + [20, 21, 19, 20, 21, 19, 20, 21, 19, 20]
    payload = charts.compute(_settings(), _rows(values), [])
    assert payload["summary"].startswith("A run chart signal (non-random variation), on 20")
    assert payload["summary"].endswith("enough points for a control chart with process limits.")
    assert not payload["icons_ready"]


def test_an_xmr_chart_says_not_enough_data_under_13_points_in_the_phase():
    payload = charts.compute(
        _settings(chart_type="xmr"), _rows(list(range(20))), [date(2025, 3, 31)]
    )
    assert payload["phase_points"] == 8
    assert payload["summary"].startswith("Not enough data yet (8 points in this phase)")
    assert not payload["icons_ready"]


def test_an_xmr_chart_never_claims_a_cause():
    values = [30, 31, 29, 30, 31, 29, 30, 31, 29, 30, 31, 29, 30, 45]
    payload = charts.compute(_settings(chart_type="xmr", target=25.0), _rows(values), [])
    summary = payload["summary"]
    assert summary.startswith("Special cause of concerning nature: high, at the latest of 14")
    assert "1 outside the process limits" in summary
    assert "because" not in summary and "due to" not in summary

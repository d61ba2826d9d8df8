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


def test_a_rate_is_charted_per_its_multiplier_on_a_u_chart():
    rows = [
        charts.Row(date(2025, 1, 1) + timedelta(days=31 * i), 1000 * f / d, f, d)
        for i, (f, d) in enumerate([(3, 900), (5, 1000), (2, 950), (4, 1000), (6, 980)])
    ]
    settings = _settings(shape="rate", chart_type="u", multiplier=1000, frequency="monthly")
    payload = charts.compute(settings, rows, [])
    assert payload["chart_type"] == "u"
    assert payload["phases"][0]["centre"] == sum_rate(rows) * 1000
    assert payload["points"][0]["lower"] == 0  # clamped at zero
    figure = charts.figure(settings, payload, [])
    assert [t["name"] for t in figure["data"]][:4] == [
        "Time to theatre",
        "Centre line",
        "Upper process limit",
        "Lower process limit",
    ]


def sum_rate(rows):
    return sum(r.numerator for r in rows) / sum(r.denominator for r in rows)


def test_counts_are_charted_on_a_c_chart():
    payload = charts.compute(_settings(chart_type="c"), _rows([3, 5, 2, 4, 6]), [])
    assert payload["phases"][0]["centre"] == 4
    assert payload["points"][0]["upper"] == 4 + 3 * 2

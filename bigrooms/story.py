"""Reading a room's improvement work back: the driver diagram as an outline, and the story
the room page tells (aim, diagram, measures, PDSA cycles by status)."""

from collections import Counter
from collections.abc import Sequence
from datetime import date

from bigrooms.models import PDSA, BigRoom, ChangeIdea, Driver, GlobalAim


def outline(drivers: Sequence[Driver], ideas: Sequence[ChangeIdea]) -> list[dict]:
    """The diagram as nested lists for reading aloud: each driver with the drivers under
    it and the change ideas that serve it. ``ideas`` must have their drivers prefetched."""
    serving: dict[int, list[ChangeIdea]] = {}
    for idea in ideas:
        for driver in idea.drivers.all():
            serving.setdefault(driver.pk, []).append(idea)
    children: dict[int | None, list[Driver]] = {}
    known = {d.pk for d in drivers}
    for driver in drivers:
        parent = driver.parent_id if driver.parent_id in known else None
        children.setdefault(parent, []).append(driver)

    def branch(driver: Driver, seen: frozenset) -> dict:
        seen = seen | {driver.pk}
        under = [branch(d, seen) for d in children.get(driver.pk, []) if d.pk not in seen]
        return {"driver": driver, "children": under, "ideas": serving.get(driver.pk, [])}

    return [branch(d, frozenset()) for d in children.get(None, [])]


def in_tree_order(drivers: Sequence[Driver]) -> list[tuple[Driver, int]]:
    """Each driver with its depth (0 for a primary), every driver followed by those under
    it: the order people read the diagram in."""
    rows: list[tuple[Driver, int]] = []

    def walk(node: dict, depth: int) -> None:
        rows.append((node["driver"], depth))
        for child in node["children"]:
            walk(child, depth + 1)

    for node in outline(drivers, ()):
        walk(node, 0)
    return rows


def story(room: BigRoom) -> dict:
    """What the room page shows of the Model for Improvement."""
    # Every cycle in one query (a room runs tens, not thousands), counted and listed here;
    # of their write-ups only what the lists show is read.
    cycles = list(
        room.pdsas.select_related("ramp__change_idea")
        .only("pk", "room", "number", "status", "decision", "starts_on", "status_changed_on",
              "ramp__change_idea__title")
        .order_by("starts_on", "pk")
    )  # fmt: skip
    counts = Counter(c.status for c in cycles)
    done = [c for c in cycles if c.status == PDSA.Status.COMPLETE]
    done.sort(key=lambda c: (c.status_changed_on or date.min, c.pk), reverse=True)
    return {
        "aim": GlobalAim.objects.filter(room=room).select_related("theme").first(),
        "specific_aims": room.specific_aims.select_related("measure__chart").defer(
            "measure__chart__figure"
        ),
        "pdsa_counts": [(value, label, counts[value]) for value, label in PDSA.Status.choices],
        "pdsas_running": [c for c in cycles if c.status != PDSA.Status.COMPLETE][:10],
        "pdsas_done": done[:5],
    }

"""Reading a room's improvement work back: the driver diagram as an outline, and the story
the room page tells (aim, diagram, measures, PDSA cycles by status)."""

from collections.abc import Sequence

from django.db.models import Count

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


def pdsa_counts(room: BigRoom) -> list[tuple[str, str, int]]:
    """(status, label, how many) for each PDSA status, in order."""
    counts = dict.fromkeys(PDSA.Status.values, 0)
    for row in room.pdsas.values("status").annotate(n=Count("pk")).order_by():
        counts[row["status"]] = row["n"]
    return [(value, label, counts[value]) for value, label in PDSA.Status.choices]


def story(room: BigRoom) -> dict:
    """What the room page shows of the Model for Improvement."""
    return {
        "aim": GlobalAim.objects.filter(room=room).select_related("theme").first(),
        "specific_aims": room.specific_aims.select_related("measure__chart").defer(
            "measure__chart__figure"
        ),
        "pdsa_counts": pdsa_counts(room),
        "pdsas_running": room.pdsas.exclude(status=PDSA.Status.COMPLETE)
        .select_related("ramp__change_idea")
        .order_by("starts_on", "pk")[:10],
        "pdsas_done": room.pdsas.filter(status=PDSA.Status.COMPLETE)
        .select_related("ramp__change_idea")
        .order_by("-status_changed_on", "-pk")[:5],
    }

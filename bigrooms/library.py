"""The learning library: a room that has standardised a change publishes its change
package, a snapshot every organisation can read and copy into its own room as a
starting point. What is shared is the method and the learning (themes, aim wording,
driver diagram, change ideas and their PDSA ramps, measure definitions) and charts of
aggregate figures, each with its n; never session notes, episodes or anyone's data
copied into another room."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from bigrooms.models import (
    PDSA,
    BigRoom,
    ChangeIdea,
    ChangePackage,
    Driver,
    GlobalAim,
    Theme,
)
from bigrooms.services import ImprovementError
from measures.models import Measure

MEASURE_FIELDS = ("name", "kind", "unit", "improvement", "frequency", "shape", "definition",
                  "numerator_definition", "denominator_definition", "data_source",
                  "chart_type")  # fmt: skip


def may_publish(room: BigRoom) -> bool:
    """A room has standardised a change when one of its PDSA cycles adopted it."""
    return room.pdsas.filter(decision=PDSA.Decision.ADOPT, status=PDSA.Status.COMPLETE).exists()


def learning_so_far(room: BigRoom) -> str:
    """What the room's adopting PDSA cycles learnt: the first draft of a package's summary."""
    learnt = room.pdsas.filter(decision=PDSA.Decision.ADOPT, status=PDSA.Status.COMPLETE)
    return "\n\n".join(learnt.exclude(learning="").values_list("learning", flat=True))


def _chart(measure: Measure) -> dict:
    """A measure's chart as shared: the figure without its notes (free text stays in the
    room), its summary, its icons, and its n (points; and for a proportion or a rate the
    total of its denominators: the queryset's ``with_denominators``)."""
    chart = getattr(measure, "chart", None)
    result, figure = (chart.result, dict(chart.figure)) if chart else ({}, {})
    if figure:
        figure["layout"] = {k: v for k, v in figure.get("layout", {}).items()
                            if k not in ("annotations",)}  # fmt: skip
    points = [p for p in result.get("points", []) if p.get("value") is not None]
    return {
        "figure": figure,
        "summary": result.get("summary", ""),
        "variation": result.get("variation_icon") if result.get("icons_ready") else None,
        "assurance": result.get("assurance_icon") if result.get("icons_ready") else None,
        "points": len(points),
        "n": int(measure.denominator_total) if measure.denominator_total is not None else None,
        "phases": len(result.get("phases", [])),
    }


def snapshot(room: BigRoom) -> dict:
    """The room's change package as it stands."""
    aim = GlobalAim.objects.filter(room=room).first()
    ideas = room.change_ideas.prefetch_related("drivers", "ramps__cycles")
    measures = room.measures.filter(source=Measure.Source.ENTERED)
    measures = measures.select_related("chart").with_denominators()
    flow = (
        Measure.objects.filter(pathway_id=room.pathway_id)
        .select_related("chart")
        .with_denominators()
        if room.pathway_id
        else []
    )
    return {
        "themes": [{"title": t.title, "description": t.description} for t in room.themes.all()],
        "global_aim": aim and {"where": aim.where, "looks_like": aim.looks_like, "why": aim.why},
        "specific_aims": [
            {
                "what": a.what,
                "measure": a.measure.name,
                "target": a.target,
                "target_on": a.target_on.isoformat(),
            }  # fmt: skip
            for a in room.specific_aims.select_related("measure")
        ],
        "drivers": [
            {"key": d.pk, "parent": d.parent_id, "title": d.title, "position": d.position}
            for d in room.drivers.all()
        ],  # fmt: skip
        "change_ideas": [
            {
                "title": idea.title,
                "description": idea.description,
                "drivers": [d.pk for d in idea.drivers.all()],
                "adopted": any(
                    c.decision == "adopt" and c.status == "complete"
                    for r in idea.ramps.all()
                    for c in r.cycles.all()
                ),
                "ramps": [
                    [
                        {
                            "number": c.number,
                            "objective": c.objective,
                            "scale": c.scale,
                            "decision": c.decision,
                            "learning": c.learning,
                            "next_step": c.next_step,
                        }
                        for c in ramp.cycles.all()
                    ]
                    for ramp in idea.ramps.all()
                ],
            }  # fmt: skip
            for idea in ideas
        ],
        "measures": [
            {
                **{f: getattr(m, f) for f in MEASURE_FIELDS},
                "target": m.target,
                "copyable": True,
                **_chart(m),
            }  # fmt: skip
            for m in measures
        ]
        + [
            {
                **{f: getattr(m, f) for f in MEASURE_FIELDS},
                "target": m.target,
                "copyable": False,
                **_chart(m),
            }  # fmt: skip
            for m in flow
        ],
    }


def publish_package(*, room: BigRoom, title: str, summary: str, by) -> ChangePackage:
    """Publish the room's change package (a room publishes again to update it: the
    library keeps each version it published)."""
    if not may_publish(room):
        raise ImprovementError(
            {"__all__": "Publish a change package once a PDSA cycle has adopted a change"}
        )
    if not title.strip() or not summary.strip():
        raise ImprovementError({"title": "Enter a title", "summary": "Say what you learnt"})
    pathway = room.pathway
    return ChangePackage.objects.create(
        room=room, title=title.strip(), summary=summary.strip(), organisation=room.host.name,
        pathway=pathway.name if pathway else "", specialty=pathway.specialty if pathway else "",
        content=snapshot(room), published_by=by,
    )  # fmt: skip


def search(packages, *, q: str = "", specialty: str = ""):
    """Packages whose title, learning, pathway or change ideas mention q."""
    q, specialty = q.replace("\x00", ""), specialty.replace("\x00", "")
    if specialty:
        packages = packages.filter(specialty__iexact=specialty)
    for word in q.split()[:8]:
        packages = packages.filter(
            Q(title__icontains=word) | Q(summary__icontains=word) | Q(pathway__icontains=word)
            | Q(specialty__icontains=word) | Q(organisation__icontains=word)
            | Q(content__change_ideas__icontains=word)
        )  # fmt: skip
    return packages


def copy_package(*, package: ChangePackage, room: BigRoom) -> dict:
    """Copy a package into a room as a starting point: its themes, its aim's wording
    (when the room has no aim yet), its driver diagram and change ideas, and its measure
    definitions (no data). What the room already has, by title or name, is left alone.
    Returns what was added."""
    content = package.content
    added = {"themes": 0, "aim": 0, "drivers": 0, "change_ideas": 0, "measures": 0}
    with transaction.atomic():
        BigRoom.objects.select_for_update().filter(pk=room.pk).first()  # one copy at a time
        titles = set(room.themes.values_list("title", flat=True))
        for theme in content.get("themes", []):
            if theme["title"] not in titles:
                Theme.objects.create(room=room, title=theme["title"],
                                     description=theme["description"])  # fmt: skip
                added["themes"] += 1
        aim = content.get("global_aim")
        if aim and not GlobalAim.objects.filter(room=room).exists():
            GlobalAim.objects.create(room=room, **aim)
            added["aim"] = 1
        made: dict[int, Driver] = {}
        have = {d.title: d for d in room.drivers.all()}
        pending = list(content.get("drivers", []))
        while pending:  # parents first, whatever order they were stored in
            ready = [d for d in pending if d["parent"] is None or d["parent"] in made]
            if not ready:
                break  # a parent not in the package: the rest would float free
            for d in ready:
                if d["title"] in have:  # the room's own driver of that name serves
                    made[d["key"]] = have[d["title"]]
                else:
                    made[d["key"]] = Driver.objects.create(
                        room=room, parent=made.get(d["parent"]), title=d["title"],
                        position=d["position"],
                    )  # fmt: skip
                    added["drivers"] += 1
                pending.remove(d)
        existing = set(room.change_ideas.values_list("title", flat=True))
        for idea in content.get("change_ideas", []):
            if idea["title"] in existing:
                continue
            new = ChangeIdea.objects.create(room=room, title=idea["title"],
                                            description=idea["description"])  # fmt: skip
            new.drivers.set([made[k] for k in idea["drivers"] if k in made])
            added["change_ideas"] += 1
        # A room's measure names are unique whatever their case.
        names = {name.lower() for name in room.measures.values_list("name", flat=True)}
        for m in content.get("measures", []):
            if m["copyable"] and m["name"].lower() not in names:
                names.add(m["name"].lower())
                Measure.objects.create(room=room, target=m["target"],
                                       **{f: m[f] for f in MEASURE_FIELDS})  # fmt: skip
                added["measures"] += 1
    return added


def curate(*, package: ChangePackage, featured: bool, withdrawn: bool, note: str) -> ChangePackage:
    """An academy admin's word on a package: featured first, or withdrawn from view."""
    package.featured = featured
    package.status = ChangePackage.Status.WITHDRAWN if withdrawn else ChangePackage.Status.PUBLISHED
    package.curator_note = note.strip()
    package.save(update_fields=["featured", "status", "curator_note"])
    return package


def outline(content: dict) -> list[tuple[str, int, list[str]]]:
    """The package's driver diagram in reading order: (driver, depth, change ideas)."""
    drivers = content.get("drivers", [])
    ideas: dict[int, list[str]] = {}
    for idea in content.get("change_ideas", []):
        for key in idea["drivers"]:
            ideas.setdefault(key, []).append(idea["title"])
    children: dict[int | None, list[dict]] = {}
    for d in sorted(drivers, key=lambda d: (d["position"], d["key"])):
        children.setdefault(d["parent"], []).append(d)
    rows: list[tuple[str, int, list[str]]] = []

    def walk(parent, depth):
        for d in children.get(parent, []):
            rows.append((d["title"], depth, ideas.get(d["key"], [])))
            walk(d["key"], depth + 1)

    walk(None, 0)
    return rows

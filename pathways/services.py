"""Writes to care pathways: the pathway itself, its steps and its settings."""

from django.db import IntegrityError, transaction
from django.db.models import F

from pathways.models import EPISODE_COLUMNS, MAX_STEPS, Episode, Pathway, Step


class PathwayError(ValueError):
    """What cannot be saved, field by field."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(problems.values()))
        self.problems = problems


def create_pathway(*, host, name: str, specialty: str = "", description: str = "") -> Pathway:
    name = name.strip()
    if Pathway.objects.filter(host=host, name__iexact=name).exists():
        raise PathwayError({"name": f"{host.name} already has a pathway called “{name}”"})
    return Pathway.objects.create(
        host=host, name=name, specialty=specialty.strip(), description=description.strip(),
        not_discharges=["died"],
    )  # fmt: skip


def update_pathway(*, pathway: Pathway, **fields) -> Pathway:
    """Change a pathway's words or settings. Thresholds that change what is computed make
    its flow measures stale, so they are worked out again."""
    stranded = fields.get("stranded_days", pathway.stranded_days)
    if fields.get("super_stranded_days", pathway.super_stranded_days) <= stranded:
        raise PathwayError(
            {
                "super_stranded_days": f"Super-stranded must be longer than stranded ({stranded} days)"
            }
        )
    name = fields.get("name", pathway.name).strip()
    others = Pathway.objects.filter(host_id=pathway.host_id, name__iexact=name)
    if others.exclude(pk=pathway.pk).exists():
        raise PathwayError({"name": f"The organisation already has a pathway called “{name}”"})
    with transaction.atomic():
        for key, value in fields.items():
            setattr(pathway, key, value)
        pathway.save(update_fields=list(fields))
        Pathway.objects.filter(pk=pathway.pk).update(data_version=F("data_version") + 1)
    return pathway


def save_step(*, pathway: Pathway, code: str, name: str, standard_hours, step: Step | None = None):
    """Add a step at the end of the pathway, or change one. Codes are episode file columns:
    unique in the pathway, and not one of the columns every file has."""
    code = code.strip().lower()
    if code in EPISODE_COLUMNS:
        raise PathwayError({"code": f"“{code}” is already a column of every episode file"})
    if pathway.steps.filter(code=code).exclude(pk=step and step.pk).exists():
        raise PathwayError({"code": f"The pathway already has a step with the code “{code}”"})
    with transaction.atomic():
        if step is None:
            slots = set(pathway.steps.values_list("slot", flat=True))
            if len(slots) >= MAX_STEPS:
                raise PathwayError({"code": f"A pathway has at most {MAX_STEPS} steps"})
            # At the end; once the last slot is taken, in the first free one.
            last = max(slots, default=0)
            free = min(set(range(1, MAX_STEPS + 1)) - slots)
            step = Step(pathway=pathway, slot=last + 1 if last < MAX_STEPS else free)
        step.code, step.name, step.standard_hours = code, name.strip(), standard_hours
        try:
            with transaction.atomic():
                step.save()
        except IntegrityError:
            raise PathwayError({"code": "Someone else changed the steps: try again"}) from None
        Pathway.objects.filter(pk=pathway.pk).update(data_version=F("data_version") + 1)
    return step


def remove_step(*, step: Step) -> None:
    """Remove a step; its times go from every episode, so a later step in that place does
    not inherit them."""
    with transaction.atomic():
        Episode.objects.filter(pathway_id=step.pathway_id).update(**{f"step_{step.slot}": None})
        step.delete()
        Pathway.objects.filter(pk=step.pathway_id).update(data_version=F("data_version") + 1)

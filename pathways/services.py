"""Writes to care pathways: the pathway, its steps and settings; episode files on their way
in (received → checked → loaded, or refused); synthetic episodes; retention."""

import logging
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings as django_settings
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from fca import audit
from fca.enqueue import enqueue_on_commit
from pathways import episodes
from pathways.models import EPISODE_COLUMNS, MAX_STEPS, Episode, EpisodeUpload, Pathway, Step

logger = logging.getLogger(__name__)


class PathwayError(ValueError):
    """What cannot be saved, field by field."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(problems.values()))
        self.problems = problems


def _recompute_on_commit(pathway: Pathway) -> None:
    """The pathway's data or settings changed (its version was raised in this
    transaction): work its flow measures out again once it commits."""
    from pathways.tasks import recompute_flow

    enqueue_on_commit(recompute_flow, pathway.pk)


def create_pathway(*, host, name: str, specialty: str = "", description: str = "") -> Pathway:
    name = name.strip()
    if Pathway.objects.filter(host=host, name__iexact=name).exists():
        raise PathwayError({"name": f"{host.name} already has a pathway called “{name}”"})
    try:
        with transaction.atomic():
            return Pathway.objects.create(
                host=host, name=name, specialty=specialty.strip(),
                description=description.strip(), not_discharges=["died"],
            )  # fmt: skip
    except IntegrityError:  # a double submit: the constraint keeps names unique
        raise PathwayError({"name": f"{host.name} already has a pathway called “{name}”"}) from None


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
        _recompute_on_commit(pathway)
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
        _recompute_on_commit(pathway)
    return step


def remove_step(*, step: Step) -> None:
    """Remove a step; its times go from every episode, so a later step in that place does
    not inherit them."""
    with transaction.atomic():
        Episode.objects.filter(pathway_id=step.pathway_id).update(**{f"step_{step.slot}": None})
        step.delete()
        Pathway.objects.filter(pk=step.pathway_id).update(data_version=F("data_version") + 1)
        _recompute_on_commit(step.pathway)


# --- Episode uploads: received → checked (a report) → loaded, or refused --------------------

UPLOAD_KEPT = timedelta(hours=24)
CHECK_TIMEOUT = timedelta(minutes=10)  # a check running longer than this has died
BATCH = 5000


def receive_upload(
    *, pathway: Pathway, file, by, via_api: bool = False, auto_load: str = ""
) -> EpisodeUpload:
    """Keep an uploaded file (already streamed to disk by Django) and have it checked."""
    from pathways.tasks import check_episode_upload

    name = Path(file.name).name[:200] or "episodes.csv"
    upload = EpisodeUpload(pathway=pathway, created_by=by, via_api=via_api, filename=name,
                           size=file.size, auto_load=auto_load)  # fmt: skip
    suffix = ".xlsx" if name.lower().endswith(".xlsx") else ".csv"
    with transaction.atomic():
        upload.file.save(f"{uuid.uuid4().hex}{suffix}", file, save=False)
        upload.save()
        audit.record(
            "upload.episodes", actor=by, target=pathway, upload=upload.pk, bytes=upload.size,
            via_api=via_api,
        )  # fmt: skip
        enqueue_on_commit(check_episode_upload, upload.pk)
    return upload


def _step_codes(pathway: Pathway) -> list[str]:
    return list(pathway.steps.values_list("code", flat=True))


def _set_based(upload: EpisodeUpload) -> bool:
    """A CSV on PostgreSQL is checked and loaded in SQL (pathways/copyload.py: COPY into a
    staging table, no Python object per row); a workbook, or SQLite, row by row here."""
    from pathways import copyload

    return connection.vendor == "postgresql" and copyload.handles(
        Path(upload.file.path), upload.filename
    )


def _max_bytes() -> int:
    return django_settings.FCA_MAX_EPISODE_FILE_MB * 1_000_000


def _check(upload: EpisodeUpload) -> episodes.Report:
    from pathways import copyload

    if _set_based(upload):
        return copyload.check_postgres(
            Path(upload.file.path), upload.filename, pathway_id=upload.pathway_id,
            step_codes=_step_codes(upload.pathway), max_bytes=_max_bytes(), now=timezone.now(),
        )  # fmt: skip
    return _read(upload)[0]


def _read(upload: EpisodeUpload):
    return episodes.check_rows(
        Path(upload.file.path), upload.filename, step_codes=_step_codes(upload.pathway),
        max_bytes=_max_bytes(),
    )  # fmt: skip


def _claim(upload_id: int, frm: Q, to: str) -> EpisodeUpload | None:
    """Move an upload that matches ``frm`` to ``to``, if no other worker has: a duplicate
    or late task finds it moved on and does nothing."""
    moved = EpisodeUpload.objects.filter(frm, pk=upload_id).update(
        status=to, status_changed_at=timezone.now()
    )
    if not moved:
        return None
    return EpisodeUpload.objects.select_related("pathway").get(pk=upload_id)


def _finish(upload: EpisodeUpload, frm: str, to: str, **fields) -> bool:
    """Move an upload on from the status this worker holds it in, and only from that."""
    return bool(
        EpisodeUpload.objects.filter(pk=upload.pk, status=frm).update(
            status=to, status_changed_at=timezone.now(), **fields
        )
    )


FAILED_WORDS = (
    "The file could not be {}. Try again, or tell your system administrator if it happens again"
)


def check_upload(*, upload_id: int) -> None:
    """The worker's check: the report of every problem, or the reason the file is refused."""
    S = EpisodeUpload.Status
    # Waiting to be checked, or a check whose worker died long ago (the sweep's resend).
    stale = timezone.now() - CHECK_TIMEOUT
    waiting = Q(status=S.RECEIVED) | Q(status=S.CHECKING, status_changed_at__lt=stale)
    upload = _claim(upload_id, waiting, S.CHECKING)
    if upload is None:
        return
    try:
        report = _check(upload)
    except episodes.Refused as refusal:
        if _finish(upload, S.CHECKING, S.REFUSED, reason=str(refusal)):
            _drop_file(upload)
        return
    except Exception:
        logger.exception("Episode upload %s could not be checked", upload.pk)
        if _finish(upload, S.CHECKING, S.FAILED, reason=FAILED_WORDS.format("checked")):
            _drop_file(upload)
        return
    if not _finish(upload, S.CHECKING, S.CHECKED, report=report.as_dict()):
        return
    if upload.auto_load:  # a nightly feed: load without waiting for a person, if it may
        upload.refresh_from_db()
        try:
            confirm_upload(upload=upload, valid_only=upload.auto_load == "valid")
        except PathwayError as error:
            logger.info("Episode upload %s left for a person: %s", upload.pk, error)


def _drop_file(upload: EpisodeUpload) -> None:
    """Delete the kept file: once loaded, refused, discarded or expired it is not needed."""
    if upload.file:
        upload.file.delete(save=False)
    EpisodeUpload.objects.filter(pk=upload.pk).update(file="")


def confirm_upload(*, upload: EpisodeUpload, valid_only: bool) -> EpisodeUpload:
    """The person's choice after the check: load it all (only when nothing is wrong) or
    its valid rows only."""
    S = EpisodeUpload.Status
    from pathways.tasks import load_episode_upload

    report = upload.report
    if upload.status != S.CHECKED:
        raise PathwayError({"__all__": f"This file is {upload.get_status_display().lower()}"})
    if not report.get("valid"):
        raise PathwayError(
            {"__all__": "No row of this file can be loaded: fix it and upload it again"}
        )
    if report.get("problem_count") and not valid_only:
        raise PathwayError(
            {"__all__": "The file has problems: fix it and upload it again, or load only "
             "its valid rows"}
        )  # fmt: skip
    with transaction.atomic():
        if not EpisodeUpload.objects.filter(pk=upload.pk, status=S.CHECKED).update(
            status=S.LOADING, valid_only=valid_only, status_changed_at=timezone.now()
        ):
            raise PathwayError({"__all__": "This file is already being loaded"})
        enqueue_on_commit(load_episode_upload, upload.pk)
    upload.refresh_from_db()
    return upload


def load_upload(*, upload_id: int) -> None:
    """The worker's load: upsert every valid episode, keyed by pathway and episode id, in
    one transaction, so a load that fails stores nothing and can simply be run again.

    The upload is locked first, so a second delivery of the task waits and then finds it
    loaded. The file is read again and must give the report the person confirmed (the
    pathway's steps may have changed since). Loading the same file twice changes nothing;
    a later file updates its episodes (a departure filled in)."""
    S = EpisodeUpload.Status
    try:
        with transaction.atomic():
            upload = (
                EpisodeUpload.objects.select_for_update().select_related("pathway")
                .filter(pk=upload_id, status=S.LOADING).first()
            )  # fmt: skip
            if upload is None:
                return  # loaded by an earlier delivery, or no longer wanted
            # The COPY goes through psycopg's own cursor: its errors become Django's here,
            # so that a connection cut mid-COPY is an OperationalError like any other.
            with connection.wrap_database_errors:
                _load(upload)
    except (OperationalError, InterfaceError):
        raise  # the database away for a moment, or the connection cut: the task retries
    except Exception as error:
        logger.exception("Episode upload %s could not be loaded", upload_id)
        upload = EpisodeUpload.objects.get(pk=upload_id)
        reason = (
            error.problems["__all__"]
            if isinstance(error, PathwayError)
            else FAILED_WORDS.format("loaded")
        )
        if _finish(upload, S.LOADING, S.FAILED, reason=reason):
            audit.record(
                "upload.episodes_loaded", actor=upload.created_by, target=upload.pathway,
                upload=upload.pk, outcome="failure",
            )  # fmt: skip
            _drop_file(upload)
        return
    _drop_file(upload)


LOST_WORDS = (
    "The connection to the database was lost while the file was being loaded, each time "
    "it was tried: nothing from it was stored. Send the file again"
)


def give_up_load(*, upload_id: int) -> bool:
    """A load still cut off after its retries: nothing of it was stored (one transaction).
    The upload is marked failed, saying so, instead of being loaded for ever; audited."""
    from fca import audit

    S = EpisodeUpload.Status
    upload = EpisodeUpload.objects.select_related("pathway").filter(pk=upload_id).first()
    if upload is None or not _finish(upload, S.LOADING, S.FAILED, reason=LOST_WORDS):
        return False
    _drop_file(upload)
    audit.record(
        "task.failed", target=upload.pathway, outcome="failure", task="load_episode_upload",
        upload=upload.pk,
    )  # fmt: skip
    return True


def _load(upload: EpisodeUpload) -> None:
    from pathways import copyload

    S = EpisodeUpload.Status
    pathway = upload.pathway
    slots = dict(pathway.steps.values_list("code", "slot"))
    now = timezone.now()

    def confirm(report: episodes.Report) -> None:
        if report.as_dict() != upload.report:
            raise PathwayError(
                {"__all__": "The pathway's steps changed after the file was checked: upload "
                 "it again"}
            )  # fmt: skip

    if _set_based(upload):
        added, updated = copyload.load_postgres(
            Path(upload.file.path), upload.filename, pathway_id=pathway.pk, step_slots=slots,
            max_bytes=_max_bytes(), now=now, valid_only=upload.valid_only, confirm=confirm,
        )  # fmt: skip
    else:
        if connection.vendor == "postgresql":
            copyload.lock_episodes(pathway.pk)  # behind any CSV load of the same pathway
        report, records = _read(upload)
        confirm(report)
        known = set(Episode.objects.filter(pathway=pathway).values_list("episode_id", flat=True))
        added = sum(1 for r in records if r.episode_id not in known)
        updated = len(records) - added
        _upsert(pathway, records, slots, now)
    Pathway.objects.filter(pk=pathway.pk).update(
        data_version=F("data_version") + 1, last_loaded_at=now
    )
    _finish(upload, S.LOADING, S.LOADED, added=added, updated=updated)
    audit.record(
        "upload.episodes_loaded", actor=upload.created_by, target=pathway, upload=upload.pk,
        added=added, updated=updated,
    )  # fmt: skip
    _recompute_on_commit(pathway)


EPISODE_FIELDS = ["arrived_at", "departed_at", "discharge_ready_at", "destination",
                  *(f"step_{slot}" for slot in range(1, MAX_STEPS + 1))]  # fmt: skip


def _upsert(pathway: Pathway, records: list[episodes.Record], slots: dict, now) -> None:
    """Insert or update episodes by pathway and episode id, in batches (the row-by-row
    path: workbooks, SQLite and synthetic episodes; a CSV on PostgreSQL goes by COPY)."""
    from pathways import copyload

    if connection.vendor == "postgresql":
        copyload.lock_episodes(pathway.pk)
    for start in range(0, len(records), BATCH):
        Episode.objects.bulk_create(
            [_episode(pathway, r, slots, now) for r in records[start : start + BATCH]],
            update_conflicts=True,
            unique_fields=["pathway", "episode_id"],
            update_fields=EPISODE_FIELDS,
        )


def _episode(pathway: Pathway, record: episodes.Record, slots: dict, now) -> Episode:
    steps = {f"step_{slots[code]}": at for code, at in record.steps.items()}
    return Episode(
        pathway=pathway, episode_id=record.episode_id, arrived_at=record.arrived_at,
        departed_at=record.departed_at, discharge_ready_at=record.discharge_ready_at,
        destination=record.destination, loaded_at=now, **steps,
    )  # fmt: skip


def discard_upload(*, upload: EpisodeUpload) -> bool:
    """Let go of a checked file, loading nothing; False if it had already moved on."""
    S = EpisodeUpload.Status
    if EpisodeUpload.objects.filter(pk=upload.pk, status=S.CHECKED).update(
        status=S.DISCARDED, status_changed_at=timezone.now()
    ):
        _drop_file(upload)
        return True
    return False


def sweep_uploads() -> int:
    """The periodic sweep: send again what a broker outage left waiting, and let go of
    files nobody confirmed within a day. Returns how many it touched."""
    from pathways.tasks import check_episode_upload, load_episode_upload

    S = EpisodeUpload.Status
    now = timezone.now()
    stuck = EpisodeUpload.objects.filter(
        Q(status__in=(S.RECEIVED, S.LOADING), status_changed_at__lt=now - timedelta(minutes=1))
        | Q(status=S.CHECKING, status_changed_at__lt=now - CHECK_TIMEOUT)
    )
    touched = 0
    for upload in stuck:
        task = load_episode_upload if upload.status == S.LOADING else check_episode_upload
        try:
            task.apply_async(args=(upload.pk,), retry=False)
        except Exception:
            break
        touched += 1
    from pathways.recompute import stale_pathways
    from pathways.tasks import recompute_flow

    for pathway_id in stale_pathways():
        try:
            recompute_flow.apply_async(args=(pathway_id,), retry=False)
        except Exception:
            break
        touched += 1
    # Files nobody confirmed, and what failed, go after a day; moved first, so an upload
    # confirmed at this very moment keeps its file.
    for upload in EpisodeUpload.objects.filter(
        status__in=(S.RECEIVED, S.CHECKED, S.FAILED), created_at__lt=now - UPLOAD_KEPT
    ):
        if _finish(upload, upload.status, S.EXPIRED):
            _drop_file(upload)
            touched += 1
    return touched


def load_synthetic(*, pathway: Pathway, data: dict, prefix: str = "SYN") -> int:
    """Store synthetic episodes (pathways/synthetic.py columns) as if loaded from a file:
    for the demo and for trying the app. Returns how many."""
    from pathways import synthetic

    slots = dict(pathway.steps.values_list("code", "slot"))
    now = timezone.now()
    rows = [
        episodes.Record(
            line=0, episode_id=r["episode_id"], arrived_at=r["arrived_at"],
            departed_at=r["departed_at"], destination=r["destination"],
            steps={code: at for code, at in r["steps"].items() if at and code in slots},
        )
        for r in synthetic.records(data, prefix=prefix)
    ]  # fmt: skip
    with transaction.atomic():
        _upsert(pathway, rows, slots, now)
        Pathway.objects.filter(pk=pathway.pk).update(
            data_version=F("data_version") + 1, last_loaded_at=now
        )
        _recompute_on_commit(pathway)
    return len(rows)


def apply_retention(*, now=None) -> dict[int, int]:
    """Delete the episodes each pathway keeps no longer: those that left the pathway more
    than its ``keep_episodes_months`` ago (episodes still on it are kept). Flow measures are
    worked out again where anything went. Returns {pathway id: episodes deleted}."""
    now = now or timezone.now()
    deleted = {}
    pathways = list(Pathway.objects.all())
    for pathway in pathways:
        cut = now - timedelta(days=round(pathway.keep_episodes_months * 30.44))
        with transaction.atomic():
            gone, _ = Episode.objects.filter(pathway=pathway, departed_at__lt=cut).delete()
            if gone:
                # The week after the cut is the first whose episodes are all still here.
                local = timezone.localtime(cut).date()
                first_whole = local + timedelta(days=7 - local.weekday())
                Pathway.objects.filter(pk=pathway.pk).update(
                    data_version=F("data_version") + 1, history_until=first_whole
                )
                _recompute_on_commit(pathway)
                logger.info("Retention: %s episodes of pathway %s deleted", gone, pathway.pk)
                deleted[pathway.pk] = gone
                audit.record(
                    "retention.run", target=pathway, deleted=gone,
                    months=pathway.keep_episodes_months, before=cut.date().isoformat(),
                )  # fmt: skip
    # The run itself, even when nothing was old enough: proof the job ran.
    audit.record("retention.run", pathways=len(pathways), deleted=sum(deleted.values()))
    return deleted

from celery import shared_task
from django.db import OperationalError

from pathways import recompute, services


@shared_task(acks_late=True, autoretry_for=(OperationalError,), max_retries=3, retry_backoff=True)
def check_episode_upload(upload_id: int) -> None:
    services.check_upload(upload_id=upload_id)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), max_retries=3, retry_backoff=True)
def load_episode_upload(upload_id: int) -> None:
    services.load_upload(upload_id=upload_id)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), max_retries=3, retry_backoff=True)
def recompute_flow(pathway_id: int) -> None:
    recompute.recompute_flow(pathway_id=pathway_id)


@shared_task
def apply_retention() -> int:
    return sum(services.apply_retention().values())


@shared_task
def sweep_episode_uploads() -> int:
    return services.sweep_uploads()

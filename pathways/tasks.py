from celery import shared_task
from django.db import InterfaceError, OperationalError

from pathways import recompute, services


@shared_task(acks_late=True, autoretry_for=(OperationalError,), max_retries=3, retry_backoff=True)
def check_episode_upload(upload_id: int) -> None:
    services.check_upload(upload_id=upload_id)


@shared_task(bind=True, acks_late=True, max_retries=3)
def load_episode_upload(self, upload_id: int) -> None:
    try:
        services.load_upload(upload_id=upload_id)
    except (OperationalError, InterfaceError) as error:
        # The database away, or the load's connection cut: the load is one transaction, so
        # nothing was stored. Try again after 1, 2 and 4 s; still failing, the upload says so
        # rather than stay "being loaded" for ever.
        if self.request.retries < self.max_retries:
            raise self.retry(exc=error, countdown=2**self.request.retries) from error
        services.give_up_load(upload_id=upload_id)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), max_retries=3, retry_backoff=True)
def recompute_flow(pathway_id: int) -> None:
    recompute.recompute_flow(pathway_id=pathway_id)


@shared_task
def apply_retention() -> int:
    return sum(services.apply_retention().values())


@shared_task
def sweep_episode_uploads() -> int:
    return services.sweep_uploads()

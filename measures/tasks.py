from celery import shared_task
from django.db import OperationalError

from measures import services


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),  # the database away for a moment
    max_retries=3,
    retry_backoff=True,
)
def recompute_chart(measure_id: int) -> None:
    services.recompute_chart(measure_id=measure_id)


@shared_task
def sweep_stale_charts() -> int:
    return services.enqueue_stale_charts()


@shared_task
def delete_old_uploads() -> int:
    return services.delete_old_uploads()

from celery import shared_task

from measures import services


@shared_task(acks_late=True, max_retries=3, default_retry_delay=10)
def recompute_chart(measure_id: int) -> None:
    services.recompute_chart(measure_id=measure_id)


@shared_task
def sweep_stale_charts() -> int:
    return services.enqueue_stale_charts()


@shared_task
def delete_old_uploads() -> int:
    return services.delete_old_uploads()

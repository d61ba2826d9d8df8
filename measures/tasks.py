from celery import shared_task

from measures import services


@shared_task(bind=True, acks_late=True, max_retries=3)
def recompute_chart(self, measure_id: int) -> None:
    try:
        services.recompute_chart(measure_id=measure_id)
    except Exception as error:
        # The database away for a moment, say: try again after 1, 2 and 4 seconds, the
        # worker meanwhile free for other work. Still failing: the chart says so.
        if self.request.retries < self.max_retries:
            raise self.retry(exc=error, countdown=2**self.request.retries) from error
        services.record_chart_failure(
            measure_id=measure_id, error=error, attempts=self.request.retries + 1
        )


@shared_task
def sweep_stale_charts() -> int:
    return services.enqueue_stale_charts()


@shared_task
def delete_old_uploads() -> int:
    return services.delete_old_uploads()

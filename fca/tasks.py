from celery import shared_task

from fca import academy, housekeeping, throttling


@shared_task
def delete_unconfirmed_enrolments() -> int:
    return academy.delete_unconfirmed_enrolments()


@shared_task
def delete_old_rate_windows() -> int:
    return throttling.delete_old_windows()


@shared_task
def tidy() -> dict[str, int]:
    return housekeeping.tidy()

from celery import shared_task

from fca import academy


@shared_task
def delete_unconfirmed_enrolments() -> int:
    return academy.delete_unconfirmed_enrolments()

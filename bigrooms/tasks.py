from celery import shared_task

from bigrooms import services


@shared_task
def remind_missed_sessions() -> int:
    return services.send_missed_session_reminders()

from celery import shared_task
from django.db import OperationalError

from bigrooms import services


@shared_task
def remind_missed_sessions() -> int:
    return services.send_missed_session_reminders()


@shared_task(acks_late=True, autoretry_for=(OperationalError,), max_retries=3, retry_backoff=True)
def build_board_pack(pack_id: int) -> None:
    services.build_board_pack(pack_id=pack_id)

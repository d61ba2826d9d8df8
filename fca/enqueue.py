"""Enqueue Celery work after the current transaction commits, robustly.

Celery's own ``delay_on_commit`` is not robust: a broker error raised after the commit
turns a change that was saved into an error page. Here a failure to publish is logged and
swallowed; the periodic sweep finds whatever is still stale and enqueues it again.
"""

import logging
from functools import partial

from django.db import transaction

logger = logging.getLogger(__name__)


def _publish(task, args: tuple) -> None:
    try:
        task.apply_async(args=args, retry=False)
    except Exception:
        logger.warning("Could not enqueue %s%r; the sweep will retry it", task.name, args)


def enqueue_on_commit(task, *args) -> None:
    """Send ``task(*args)`` once the surrounding transaction has committed."""
    transaction.on_commit(partial(_publish, task, args), robust=True)

from celery import shared_task

from cadence.messaging.outbox import outbox_send_due


@shared_task(name="messaging.send_outbox", ignore_result=True)
def send_outbox_task() -> str:
    """Send the queued automated emails that are due (beat every 15 s, see
    CELERY_BEAT_SCHEDULE). Safe to run on several workers at once."""
    return str(outbox_send_due())

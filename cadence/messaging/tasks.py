from celery import shared_task
from django.utils import timezone

from cadence.mailboxes.models import Mailbox
from cadence.messaging.mailbox_sync import mailbox_sync, mailboxes_due_for_sync
from cadence.messaging.outbox import outbox_send_due


@shared_task(name="messaging.send_outbox", ignore_result=True)
def send_outbox_task() -> str:
    """Send the queued automated emails that are due (beat every 15 s, see
    CELERY_BEAT_SCHEDULE). Safe to run on several workers at once."""
    return str(outbox_send_due())


@shared_task(name="messaging.sync_mailboxes", ignore_result=True)
def sync_mailboxes_task() -> None:
    """Queue one sync per connected mailbox (beat, every CADENCE_MAILBOX_SYNC_SECONDS), so
    that many mailboxes spread over the workers; each sync holds its mailbox alone."""
    for mailbox_id in mailboxes_due_for_sync(now=timezone.now()).values_list("pk", flat=True):
        sync_mailbox_task.delay(str(mailbox_id))


@shared_task(name="messaging.sync_mailbox", ignore_result=True)
def sync_mailbox_task(mailbox_id: str) -> str:
    mailbox = Mailbox.objects.select_related("user").filter(pk=mailbox_id).first()
    if mailbox is None:
        return "gone"
    return str(mailbox_sync(mailbox=mailbox))

from django.core.management.base import BaseCommand

from cadence.mailboxes.services import mailbox_secrets_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt the stored secrets with the first key of CADENCE_SECRET_KEYS, so that the "
        "keys after it can be removed."
    )

    def handle(self, *args, **options):
        rotated = mailbox_secrets_rotate()
        self.stdout.write(f"{rotated} mailbox secret(s) re-encrypted with the first key.")

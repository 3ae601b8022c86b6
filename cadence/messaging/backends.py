"""The embedded default's mail transport: every message kept as an ``.eml`` file.

Django's file backend appends a connection's messages to one log file; one standard ``.eml``
file per message can instead be listed, opened in any mail client, and read back exactly.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone


class CaptureBackend(BaseEmailBackend):
    """Writes each message to ``CADENCE_MAIL_CAPTURE_DIR/<time>-<random>.eml``."""

    def __init__(self, *args, directory: str | Path | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.directory = Path(directory or settings.CADENCE_MAIL_CAPTURE_DIR)

    def send_messages(self, email_messages) -> int:
        if not email_messages:
            return 0
        self.directory.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            name = f"{timezone.now():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"
            data = message.message().as_bytes(linesep="\n")
            # Written under a temporary name and renamed, so a reader never sees half a file.
            partial = self.directory / f".{name}.part"
            partial.write_bytes(data)
            partial.rename(self.directory / name)
            sent += 1
        return sent

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser

from cadence.messaging.inbound import inbound_receive

#: A larger "email" is not a reply worth reading; refusing it keeps memory bounded.
MAX_BYTES = 25 * 1024 * 1024


class Command(BaseCommand):
    help = (
        "Take inbound emails as RFC 822 files (or '-' for standard input, e.g. from a mail "
        "server's pipe): replies, out-of-office answers, bounces and complaints are matched to "
        "the emails Cadence sent and applied to their plans."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", help="Message files, or '-' for standard input.")

    def handle(self, *args, paths: list[str], **options) -> None:
        failed = 0
        for path in paths:
            try:
                raw = self._read(path)
            except OSError as exc:
                self.stderr.write(self.style.ERROR(f"{path}: {exc.strerror or exc}"))
                failed += 1
                continue
            if len(raw) > MAX_BYTES:
                self.stderr.write(self.style.ERROR(f"{path}: larger than 25 MB, not taken."))
                failed += 1
                continue
            record = inbound_receive(raw=raw, source="command")
            self.stdout.write(f"{path}: {record.kind}, {record.status}. {record.note}")
        if failed:
            raise SystemExit(1)

    def _read(self, path: str) -> bytes:
        if path == "-":
            return sys.stdin.buffer.read(MAX_BYTES + 1)
        with Path(path).open("rb") as handle:
            return handle.read(MAX_BYTES + 1)

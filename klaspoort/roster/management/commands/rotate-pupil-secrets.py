"""klaspoort rotate-pupil-secrets: re-encrypt every pupil's sign-in secret under the current key.

Run after putting a new key first in KLASPOORT_SECRETS_KEYS (docs/operations.md); when it
reports 0 unreadable, the old keys can be removed. Safe to run again: rows already under the
current key are skipped.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from klaspoort.roster import secret_services, secrets


class Command(BaseCommand):
    help = "Re-encrypt all pupils' sign-in secrets under the current key (the first of " \
           "KLASPOORT_SECRETS_KEYS), in batches; safe to run again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500,
                            help="rows per transaction (default 500)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError(_("--batch-size must be at least 1."))
        done = secret_services.rotate_all(batch_size=options["batch_size"])
        # An operator's log line that scripts read: a fixed English format, not translated.
        self.stdout.write(
            f"key {secrets.current_key_id()}: {done.checked} secret(s) checked, "
            f"{done.rotated} re-encrypted, {done.current} already current, "
            f"{done.unreadable} unreadable")
        if done.unreadable:
            self.stderr.write(
                f"{done.unreadable} secret(s) could not be read with any configured key; keep "
                "the old keys until this is 0 (or give those pupils new secrets).")

"""Prove the audit trail intact: walk the hash chain from the first entry to the last."""

from django.core.management.base import BaseCommand, CommandError

from inventory.audit import verify_chain


class Command(BaseCommand):
    help = (
        "Walk the audit trail's hash chain. Prints how many entries were verified, or names "
        "the first broken link and exits with status 1."
    )

    def handle(self, *args, **options):
        checked, broken = verify_chain()
        if broken is not None:
            entry = f"id {broken.entry_id}" if broken.entry_id is not None else "no such row"
            raise CommandError(
                f"The audit trail is broken at entry #{broken.seq} ({entry}): {broken.problem}. "
                f"The {checked} entries before it are intact."
            )
        self.stdout.write(
            self.style.SUCCESS(f"The audit trail is intact: {checked} entries verified.")
        )

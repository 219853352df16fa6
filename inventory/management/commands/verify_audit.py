"""Prove the audit trail intact: walk the hash chain from the first entry to the last.

`--checkpoint` prints a signed line naming the last entry, for storage the database cannot
reach (write-once storage, another system's log); `--since LINE` proves the chain still
passes through such a line, which even someone holding AUDIT_KEY cannot fake after the fact.
"""

import os

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from inventory.audit import Checkpoint, CheckpointError, walk_chain


class Command(BaseCommand):
    help = (
        "Walk the audit trail's hash chain. Prints how many entries were verified, or names "
        "the first broken entry and exits with status 1."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoint",
            action="store_true",
            help="When the trail is intact, print a signed checkpoint line (and only that) on "
            "standard output, to keep outside the database.",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=_cores(),
            metavar="N",
            help="Processes that check the hashes while the walk reads on (default: one per "
            "core this process may use; 0 checks them in this process).",
        )
        parser.add_argument(
            "--since",
            metavar="LINE",
            help="A checkpoint line printed earlier: prove the chain still passes through it.",
        )

    def handle(self, *args, checkpoint=False, since=None, workers=0, **options):
        try:
            anchor = Checkpoint.parse(since) if since is not None else None
        except CheckpointError as error:
            raise CommandError(str(error)) from None
        report = walk_chain(since=anchor, workers=max(workers, 0))
        if report.broken is not None:
            broken = report.broken
            entry = f"id {broken.entry_id}" if broken.entry_id is not None else "no such row"
            raise CommandError(
                f"The audit trail is broken at entry #{broken.seq} ({entry}): {broken.problem}. "
                f"The {report.checked} entries before it are intact."
            )
        intact = f"The audit trail is intact: {report.checked} entries verified"
        if anchor is not None:
            made = f"{anchor.at:%Y-%m-%d %H:%M} UTC"
            intact += f", and it extends the checkpoint at #{anchor.seq} of {made}"
        if checkpoint:
            # Standard output carries the line alone, so it can be appended as it is.
            self.stderr.write(f"{intact}.", style_func=self.style.SUCCESS)
            line = Checkpoint(seq=report.last_seq, hash=report.last_hash, at=timezone.now())
            self.stdout.write(line.line())
        else:
            self.stdout.write(self.style.SUCCESS(f"{intact}."))


def _cores() -> int:
    """The cores this process may run on; 0 (no worker process) when it has just one."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return cores if cores and cores > 1 else 0

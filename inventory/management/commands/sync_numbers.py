"""Mirror the account's numbers into the portal's cache (see services.owned_numbers_sync)."""

from django.core.management.base import BaseCommand, CommandError

from inventory import api_client as api
from inventory import services
from inventory.audit import Actor
from inventory.models import SyncRun


class Command(BaseCommand):
    help = "Sync the owned-number cache with the account (one sync at a time, everywhere)."

    def handle(self, *args, **options):
        run = self.sync_once()
        if run.status != SyncRun.Status.SUCCEEDED:
            raise CommandError(run.message)

    def sync_once(self) -> SyncRun:
        try:
            run = services.owned_numbers_sync(
                client=api.default_client(), actor=Actor.system("sync_numbers")
            )
        except services.SyncAlreadyRunning as busy:
            raise CommandError(str(busy)) from busy
        self.stdout.write(run.message)
        return run

"""Creates the demo logins `admin`, `operator`, `approver`, `viewer` and `auditor` (sandbox
mode only)."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

DEMO_PASSWORD = "portal-demo"  # noqa: S105 - printed by `make run`; sandbox mode only


@dataclass(frozen=True)
class DemoUser:
    groups: tuple[str, ...] = ()
    is_staff: bool = False
    is_superuser: bool = False


DEMO_USERS = {
    "admin": DemoUser(is_staff=True, is_superuser=True),
    "operator": DemoUser(groups=("Operator",)),
    "approver": DemoUser(groups=("Approver",)),
    "viewer": DemoUser(groups=("Viewer",)),
    "auditor": DemoUser(groups=("Auditor",)),
}


class Command(BaseCommand):
    help = "Create the demo users (only when the portal talks to the sandbox)."

    def handle(self, *args, **options):
        if settings.PRODUCTION or not settings.SANDBOX_MODE:
            self.stdout.write("Not in sandbox mode: no demo users created.")
            return
        User = get_user_model()
        for username, spec in DEMO_USERS.items():
            user, created = User.objects.get_or_create(username=username)
            user.is_staff = spec.is_staff
            user.is_superuser = spec.is_superuser
            if created:
                user.set_password(DEMO_PASSWORD)
            # Notifications print on the task worker's console in development.
            user.email = user.email or f"{username}@example.com"
            user.save()
            user.groups.set(Group.objects.filter(name__in=spec.groups))
        self.stdout.write(f"Demo users ready: {', '.join(DEMO_USERS)}.")

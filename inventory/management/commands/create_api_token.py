"""`manage.py create_api_token USERNAME [--name N] [--expires DAYS]`: a personal access
token for automation. The token alone goes to standard output (TOKEN=$(…) captures it);
what it is goes to standard error. Its creation is audited, like one made on a profile."""

import getpass
import socket

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from inventory.audit import Actor
from inventory.services import tokens


class Command(BaseCommand):
    help = "Create a personal access token for the JSON API and print it (once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="Created with manage.py", help="What it is for.")
        parser.add_argument(
            "--expires", type=int, default=90, metavar="DAYS", help="Valid for DAYS (90)."
        )

    def handle(self, *args, username: str, name: str, expires: int, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None or not user.is_active:
            raise CommandError(f"There is no active user “{username}”.")
        if not 1 <= expires <= settings.API_TOKEN_MAX_DAYS:
            raise CommandError(f"--expires takes 1 to {settings.API_TOKEN_MAX_DAYS} days.")
        who = f"manage.py create_api_token ({_operator()})"
        row, token = tokens.api_token_create(
            actor=Actor.system(who[:150]), user=user, name=name, days=expires
        )
        self.stderr.write(
            f"Token “{row.name}” for {username}, valid until {row.expires_at:%Y-%m-%d %H:%M} "
            "UTC. It is shown only now:"
        )
        self.stdout.write(token)


def _operator() -> str:
    try:
        return f"{getpass.getuser()}@{socket.gethostname()}"
    except (KeyError, OSError):
        return socket.gethostname()

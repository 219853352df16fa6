from django.apps import AppConfig
from django.db.models.signals import post_migrate


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = "Numbers"

    def ready(self):
        from django.contrib.auth import signals as auth

        from inventory import signals, tasks  # noqa: F401 - the tasks register their work
        from inventory.roles import create_missing_roles

        post_migrate.connect(create_missing_roles, dispatch_uid="inventory-roles")
        # Logins, failed logins and logouts are audited (after axes has judged a failure).
        auth.user_logged_in.connect(signals.on_logged_in, dispatch_uid="inventory-login")
        auth.user_logged_out.connect(signals.on_logged_out, dispatch_uid="inventory-logout")
        auth.user_login_failed.connect(signals.on_login_failed, dispatch_uid="inventory-failed")

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = "Numbers"

    def ready(self):
        from inventory.roles import create_missing_roles

        post_migrate.connect(create_missing_roles, dispatch_uid="inventory-roles")

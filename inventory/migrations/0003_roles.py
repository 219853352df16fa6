"""The three roles, as groups carrying the portal's custom permissions."""

from django.db import migrations

from inventory.roles import ROLES

# Permissions are normally created after migrations; these are needed now.
PERMISSION_MODELS = {
    "browse_catalogue": ("ownednumber", "Can search the numbers on sale"),
    "browse_inventory": ("ownednumber", "Can see the account's numbers"),
    "buy_number": ("ownednumber", "Can buy a number"),
    "configure_number": ("ownednumber", "Can change a number's webhooks and voice routing"),
    "cancel_number": ("ownednumber", "Can cancel a number"),
    "sync_numbers": ("ownednumber", "Can sync the inventory with the account"),
    "annotate_number": ("ownednumber", "Can edit a number's label, team and notes"),
    # Added to the Operator role later (0013); a new database grants it here already.
    "change_ratecard": ("ratecard", "Can change rate card"),
    "review_audit": ("operation", "Can review the audit trail"),
    "view_operation": ("operation", "Can view audit entry"),
}


def create_roles(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    for role, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        for codename in codenames:
            model, name = PERMISSION_MODELS[codename]
            content_type, _ = ContentType.objects.get_or_create(app_label="inventory", model=model)
            permission, _ = Permission.objects.get_or_create(
                codename=codename, content_type=content_type, defaults={"name": name}
            )
            group.permissions.add(permission)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0002_audit_trail_guards"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]

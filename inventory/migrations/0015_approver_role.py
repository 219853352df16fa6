"""The Approver role, and the permission to protect numbers for operators."""

from django.db import migrations

# Permissions are normally created after migrations; these are needed now.
NEW_PERMISSIONS = {
    "approve_purchase": ("purchaserequest", "Can approve or reject purchase requests"),
    "protect_number": ("ownednumber", "Can protect a number from cancellation"),
}
GRANTS = {
    "Approver": ["browse_catalogue", "browse_inventory", "approve_purchase"],
    "Operator": ["protect_number"],
}


def _permission(apps, codename):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    if codename in NEW_PERMISSIONS:
        model, name = NEW_PERMISSIONS[codename]
        content_type, _ = ContentType.objects.get_or_create(app_label="inventory", model=model)
        permission, _ = Permission.objects.get_or_create(
            codename=codename, content_type=content_type, defaults={"name": name}
        )
        return permission
    return Permission.objects.filter(content_type__app_label="inventory", codename=codename).first()


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for role, codenames in GRANTS.items():
        # The Operator group may have been removed by an administrator: leave it so.
        group = Group.objects.filter(name=role).first()
        if group is None and role != "Approver":
            continue
        if group is None:
            group = Group.objects.create(name=role)
        for codename in codenames:
            permission = _permission(apps, codename)
            if permission is not None:
                group.permissions.add(permission)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name="Approver").delete()
    Permission = apps.get_model("auth", "Permission")
    operator = Group.objects.filter(name="Operator").first()
    if operator is not None:
        operator.permissions.remove(*Permission.objects.filter(codename="protect_number"))


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0014_governance"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]

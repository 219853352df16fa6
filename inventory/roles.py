"""The roles and the permissions each carries."""

VIEWER_PERMISSIONS = ["browse_catalogue", "browse_inventory"]
ROLES = {
    "Viewer": VIEWER_PERMISSIONS,
    "Operator": [
        *VIEWER_PERMISSIONS,
        "buy_number",
        "configure_number",
        "cancel_number",
        "sync_numbers",
        "annotate_number",
        "protect_number",
        "change_ratecard",
    ],
    "Auditor": ["review_audit", "view_operation"],
    # The second pair of eyes on purchases: sees what a viewer sees, and decides on the
    # purchase requests that the approval rules hold back (never on their own).
    "Approver": [*VIEWER_PERMISSIONS, "approve_purchase"],
}


def create_missing_roles(*, sender=None, apps=None, using="default", **kwargs) -> None:
    """post_migrate: a role that does not exist yet (a new database, or one a test emptied)
    is created with its permissions. Existing roles are left as administrators made them."""
    if sender is not None and sender.name != "inventory":
        return
    from django.contrib.auth.models import Group, Permission

    for role, codenames in ROLES.items():
        group, created = Group.objects.using(using).get_or_create(name=role)
        if created:
            permissions = Permission.objects.using(using).filter(
                content_type__app_label="inventory", codename__in=codenames
            )
            group.permissions.set(permissions)

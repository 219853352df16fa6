"""Make the audit trail append-only in the database itself (triggers)."""

from django.db import migrations

from inventory import trail_guards


def install(apps, schema_editor):
    trail_guards.install(schema_editor.connection)


def remove(apps, schema_editor):
    trail_guards.remove(schema_editor.connection)


def create_chain_head(apps, schema_editor):
    AuditChainHead = apps.get_model("inventory", "AuditChainHead")
    AuditChainHead.objects.get_or_create(pk=1, defaults={"seq": 0, "hash": "0" * 64})


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial")]

    operations = [
        migrations.RunPython(install, remove),
        migrations.RunPython(create_chain_head, migrations.RunPython.noop),
    ]

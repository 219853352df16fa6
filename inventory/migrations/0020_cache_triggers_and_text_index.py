"""The cache's totals and text index, kept by the database (see inventory/cache_triggers.py),
and the country names the cache sorts by."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

from inventory import cache_triggers, phone


def name_countries(apps, schema_editor):
    OwnedNumber = apps.get_model("inventory", "OwnedNumber")
    for code in OwnedNumber.objects.values_list("country", flat=True).distinct():
        OwnedNumber.objects.filter(country=code).update(country_name=phone.country_name(code))


def install(apps, schema_editor):
    cache_triggers.install(schema_editor.connection)


def remove(apps, schema_editor):
    cache_triggers.remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("inventory", "0019_cache_totals_and_indexes")]

    operations = [
        TrigramExtension(),  # PostgreSQL only; nothing on SQLite
        migrations.RunPython(name_countries, migrations.RunPython.noop),
        migrations.RunPython(install, remove),
    ]

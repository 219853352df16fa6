"""The spend by country, type and team, kept by the database (see inventory/cache_triggers.py)."""

from django.db import migrations, models

from inventory import cache_triggers


def install(apps, schema_editor):
    cache_triggers.install_spend(schema_editor.connection)


def remove(apps, schema_editor):
    cache_triggers.remove_spend(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0020_cache_triggers_and_text_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="InventorySpend",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("dimension", models.CharField(max_length=10)),
                ("key", models.CharField(max_length=100)),
                ("numbers", models.BigIntegerField()),
                ("monthly_total", models.DecimalField(decimal_places=4, max_digits=18)),
                ("priced", models.BigIntegerField()),
                ("estimated", models.BigIntegerField()),
                ("estimated_total", models.DecimalField(decimal_places=4, max_digits=18)),
                ("unrouted", models.BigIntegerField()),
                ("unrouted_total", models.DecimalField(decimal_places=4, max_digits=18)),
                ("bought", models.BigIntegerField()),
                ("bought_total", models.DecimalField(decimal_places=4, max_digits=18)),
            ],
            options={
                "db_table": "inventory_ownednumber_spend",
            },
        ),
        migrations.RunPython(install, remove),
    ]

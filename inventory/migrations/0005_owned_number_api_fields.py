from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0004_inventory_filter_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="ownednumber",
            name="limitations",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="ownednumber",
            name="listed_monthly_cost",
            field=models.CharField(blank=True, max_length=20),
        ),
        migrations.AddField(
            model_name="ownednumber",
            name="messages_callback_type",
            field=models.CharField(blank=True, max_length=20, verbose_name="messages webhook type"),
        ),
        migrations.AddField(
            model_name="ownednumber",
            name="messages_callback_value",
            field=models.CharField(blank=True, max_length=500, verbose_name="messages webhook"),
        ),
    ]

"""Indexes for the audit pages: one per filter, each ending in seq (keyset pages)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0007_login_failure_windows"),
    ]

    operations = [
        # (actor_username, seq) serves everything the single-column index did.
        migrations.RemoveIndex(model_name="operation", name="inventory_o_actor_u_1b6a97_idx"),
        migrations.AddIndex(
            model_name="operation",
            index=models.Index(fields=["action", "seq"], name="audit_action_seq"),
        ),
        migrations.AddIndex(
            model_name="operation",
            index=models.Index(fields=["outcome", "seq"], name="audit_outcome_seq"),
        ),
        migrations.AddIndex(
            model_name="operation",
            index=models.Index(fields=["actor_username", "seq"], name="audit_user_seq"),
        ),
        migrations.AddIndex(
            model_name="operation",
            index=models.Index(fields=["country", "seq"], name="audit_country_seq"),
        ),
        migrations.AddIndex(
            model_name="operation",
            index=models.Index(fields=["ip", "seq"], name="audit_ip_seq"),
        ),
        migrations.AddIndex(
            model_name="operation",
            index=models.Index(fields=["request_id", "seq"], name="audit_request_seq"),
        ),
    ]

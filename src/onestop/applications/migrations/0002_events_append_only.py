from django.db import migrations

from onestop.audit.sql import append_only


class Migration(migrations.Migration):
    """The event log is append-only: on PostgreSQL a trigger refuses UPDATE and DELETE."""

    dependencies = [
        ("applications", "0001_initial"),
    ]

    operations = [append_only("applications_applicationevent")]

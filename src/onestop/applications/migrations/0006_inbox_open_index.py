# The inbox reads an agency's open applications (outcome still empty): an index led by
# the agency and the outcome finds them without reading the agency's closed ones, a
# hundred for each open one in a year of history. Created before the old one is dropped,
# so that the inbox is never without one.

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('applications', '0005_fewer_indexes'),
        ('catalogue', '0004_country_national_id_name'),
        ('centres', '0002_queue'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='application',
            index=models.Index(fields=['agency', 'outcome', 'state', 'deadline_at'], name='inbox_open_idx'),
        ),
        migrations.RemoveIndex(
            model_name='application',
            name='inbox_idx',
        ),
    ]

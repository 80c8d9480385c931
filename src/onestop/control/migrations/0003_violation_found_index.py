# The control body reads the newest violations first, a page at a time.

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('applications', '0006_inbox_open_index'),
        ('catalogue', '0004_country_national_id_name'),
        ('centres', '0002_queue'),
        ('control', '0002_initial'),
        ('feedback', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='violation',
            index=models.Index(fields=['found_at', 'id'], name='violation_found'),
        ),
    ]

"""A notice written before both titles were kept holds the title in its member's language
then: an English member's is English, so it becomes the English title too."""

from django.db import migrations
from django.db.models import F


def backfill(apps, schema_editor):
    Notification = apps.get_model("messaging", "Notification")
    Notification.objects.filter(member__language="en", title_en="").update(title_en=F("title"))
    ReleaseNote = apps.get_model("messaging", "ReleaseNote")
    for note in ReleaseNote.objects.all().only("pk", "title_fr", "title_en"):
        Notification.objects.filter(release_note_id=note.pk).update(
            title=note.title_fr[:300], title_en=note.title_en[:300]
        )


class Migration(migrations.Migration):
    dependencies = [("messaging", "0006_notification_title_en")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]

"""The events' foreign keys to their actor and programme lose their own index: the two
composite indexes lead with them (event_actor_program_time, event_program_kind_time), so
every lookup and cascade still has an index, and every event stored updates two fewer.

Dropped by name, not by AlterField: on SQLite an AlterField copies the whole table (twice,
millions of rows), where dropping an index is instant on both databases."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

INDEXES = [
    ("activity_activityevent_actor_id_cf6a831d", "actor_id"),
    ("activity_activityevent_program_id_13959485", "program_id"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("activity", "0001_initial"),
        ("programs", "0004_program_date_and_figure_bounds"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX "{name}" ON "activity_activityevent" ("{column}")',
                )
                for name, column in INDEXES
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="activityevent",
                    name="actor",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="activityevent",
                    name="program",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        help_text="None for a platform sign-in.",
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="programs.program",
                    ),
                ),
            ],
        )
    ]

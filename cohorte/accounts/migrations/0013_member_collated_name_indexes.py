"""Members by name in each language's alphabetical order, on PostgreSQL: the activity
table and the members list sort names with ICU's collations (core.collation), which an
index of the bare columns cannot serve; the top of 100,000 names was then a sort of all of
them (73 ms of a page), through these it is an index scan (0.2 ms). SQLite's collations
are functions each connection registers: an index there would need them to open the file."""

from django.db import migrations

from cohorte.core.collation import POSTGRESQL

ORDERS = {"last": ("last_name", "first_name"), "first": ("first_name", "last_name")}


def _indexes():
    for language, collation in POSTGRESQL.items():
        for order, (one, two) in ORDERS.items():
            name = f"member_name_{order}_{language}_idx"
            yield (
                name,
                (
                    f"CREATE INDEX IF NOT EXISTS {name} ON accounts_member (organisation_id, "
                    f'{one} COLLATE "{collation}", {two} COLLATE "{collation}", id)'
                ),
            )


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for _name, sql in _indexes():
            schema_editor.execute(sql)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, _sql in _indexes():
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0012_member_hired_on")]

    operations = [migrations.RunPython(create, drop)]

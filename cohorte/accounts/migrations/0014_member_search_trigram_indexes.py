"""Members found by a part of their name or e-mail, on PostgreSQL: the search of the
activity table and the members list (programs.selectors.search_members) asks, for each
word, `UPPER(column) LIKE UPPER('%word%')` of the first name, last name and e-mail, which
no B-tree serves: a search among 100,000 members read every one of them, twice (the page
and its count). Trigram indexes (pg_trgm, a trusted extension a database's owner may
create) serve that LIKE on each column, the three ORed as one bitmap. Where the extension
is not installed with PostgreSQL, nothing is created: the search still answers, by a scan.
SQLite has no such index: its search stays a scan."""

from django.db import migrations

COLUMNS = ("first_name", "last_name", "email")


def _available(schema_editor) -> bool:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
        return cursor.fetchone() is not None


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql" or not _available(schema_editor):
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        # the expression Django's icontains writes, so that the planner can match it
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS member_{column}_search_idx ON accounts_member "
            f"USING gin (UPPER({column}::text) gin_trgm_ops)"
        )
    # the indexed expressions' statistics, which the planner's estimates of a search read
    # (without them it expects 4 % of the members to match any word)
    schema_editor.execute("ANALYZE accounts_member")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for column in COLUMNS:
            schema_editor.execute(f"DROP INDEX IF EXISTS member_{column}_search_idx")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0013_member_collated_name_indexes")]

    operations = [migrations.RunPython(create, drop)]

"""Names in each language's alphabetical order, sorted by the database itself.

« Élodie » goes between « Eden » and « Emma », not after « Z » (a byte order) — in French
and in English alike. PostgreSQL has ICU's collations (« fr-x-icu », « en-x-icu »); SQLite
has none, so each connection is given ours: accents and case ignored first, then accents,
then case, as ICU does at its first three strengths for these languages.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Any

from django.db import connection
from django.db.models import F
from django.db.models.functions import Collate
from django.utils.translation import get_language

POSTGRESQL = {"fr": "fr-x-icu", "en": "en-x-icu"}
SQLITE = {"fr": "cohorte_fr", "en": "cohorte_en"}


@lru_cache(maxsize=4096)
def _key(text: str) -> tuple[str, str, str]:
    decomposed = unicodedata.normalize("NFKD", text)
    base = "".join(c for c in decomposed if not unicodedata.combining(c))
    return base.casefold(), decomposed.casefold(), text


def _compare(left: str | None, right: str | None) -> int:
    a, b = _key(left or ""), _key(right or "")
    return (a > b) - (a < b)


def sqlite_register(sender: Any, connection: Any, **kwargs: Any) -> None:
    """connection_created: SQLite learns our collations on each new connection."""
    if connection.vendor == "sqlite":
        for name in SQLITE.values():
            connection.connection.create_collation(name, _compare)


def _language(language: str | None) -> str:
    return "en" if (language or get_language() or "fr").startswith("en") else "fr"


def collated(field: str, language: str | None = None) -> Any:
    """F(field) in the language's alphabetical order (the active language by default)."""
    names = POSTGRESQL if connection.vendor == "postgresql" else SQLITE
    if connection.vendor not in ("postgresql", "sqlite"):
        return F(field)
    return Collate(F(field), names[_language(language)])

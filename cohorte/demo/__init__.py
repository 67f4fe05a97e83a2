"""The demo story (`manage.py demo`) and the bulk filler of the benchmarks."""

from .bulk import BULK_CHUNK, BULK_KINDS, REBUILD_INDEXES_FROM, big_program, bulk_fill
from .names import ENGLISH_FIRST, ENGLISH_LAST, FRENCH_FIRST, FRENCH_LAST
from .story import (
    DEMO_ADMIN_EMAIL,
    DEMO_ADMIN_PASSWORD,
    DEMO_MANAGER_PASSWORD,
    DEMO_ORGANISATION,
    demo_build,
)

__all__ = [
    "BULK_CHUNK",
    "BULK_KINDS",
    "DEMO_ADMIN_EMAIL",
    "DEMO_ADMIN_PASSWORD",
    "DEMO_MANAGER_PASSWORD",
    "DEMO_ORGANISATION",
    "ENGLISH_FIRST",
    "ENGLISH_LAST",
    "FRENCH_FIRST",
    "FRENCH_LAST",
    "REBUILD_INDEXES_FROM",
    "big_program",
    "bulk_fill",
    "demo_build",
]

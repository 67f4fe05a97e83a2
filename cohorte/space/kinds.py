"""The kinds of « À faire » item, in the order an undated one is shown: the API's `kind`
enum (its OpenAPI schema lists exactly these) and the page's order after the dated items.

An app that adds a kind adds it here too: tests/test_space.py makes every kind appear for
one member and checks the API says each of them.
"""

from typing import Literal

#: most urgent first among items with no due date: someone waits for an answer, then what
#: keeps others from booking them, then their profile
TODO_KINDS = (
    "invitation",
    "evaluation",
    "conversation",
    "interview",
    "survey",
    "masterclass",
    "availability",
    "profile",
)

TodoKind = Literal[TODO_KINDS]  # type: ignore[valid-type]

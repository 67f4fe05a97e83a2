"""« À faire »: what waits for a member, gathered from every app that has something to ask.

Each app registers one provider in its AppConfig.ready():

    from cohorte.core import todo
    todo.register(evaluation_items)

A provider takes the member and returns their items; it runs a bounded number of queries
(never one per item) because the header's count calls every provider on each page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cohorte.accounts.models import Member


@dataclass(frozen=True)
class TodoItem:
    #: the API's `kind`: invitation, evaluation, conversation, survey, profile, availability,
    #: masterclass (an app adding a kind documents it in the API schema)
    kind: str
    #: what to do, in the member's language, written for them (« Évaluez votre rencontre… »)
    title: str
    #: the page that does it, one click away
    url: str
    #: when it stops being possible or becomes late; None for « when you can »
    due_at: datetime | None = None
    #: one more line for the page (« avec Léa Martin, mardi 3 à 10:00 »)
    detail: str = ""


Provider = Callable[["Member"], Iterable[TodoItem]]
_providers: list[Provider] = []


def register(provider: Provider) -> Provider:
    """Add a provider (usable as a decorator); registering the same one twice keeps one."""
    if provider not in _providers:
        _providers.append(provider)
    return provider


def items_for(member: Member) -> list[TodoItem]:
    """Every provider's items, most urgent first: dated items by due date, then the rest."""
    items = [item for provider in _providers for item in provider(member)]
    return sorted(items, key=lambda item: (item.due_at is None, item.due_at or 0, item.kind))

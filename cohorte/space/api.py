"""/api/me: the caller's own « À faire », for their token or their signed-in browser."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Router, Schema

from cohorte.core.moments import localtime_or_utc

from .kinds import TodoKind
from .selectors import member_zone, todo_items

me_router = Router(tags=["mon espace"])


class TodoItemOut(Schema):
    #: what is asked: answer an invitation, evaluate a past meeting, reply to a conversation,
    #: fill a survey, sign up for a masterclass, set one's availability, complete one's profile
    kind: TodoKind = Field(
        description="invitation · evaluation · conversation · survey · masterclass · "
        "availability · profile"
    )
    #: what to do, in the member's language
    title: str
    #: ISO 8601 with the member's own offset, or null for « when you can »
    due_at: dt.datetime | None
    #: the page that does it: an absolute path on this site
    url: str
    #: one more line (« Manque : photo, entreprise »), may be empty
    detail: str


@me_router.get("/todo", response=list[TodoItemOut], summary="Mon « À faire »")
def my_todo(request: HttpRequest) -> list[dict]:
    """What waits for the caller, most urgent first: dated items by due date, then the
    others. Another member's items are never reachable: there is no id to ask for."""
    member = request.user
    tz = member_zone(member)  # type: ignore[arg-type]
    return [
        {
            "kind": item.kind,
            "title": item.title,
            "due_at": localtime_or_utc(item.due_at, tz) if item.due_at else None,
            "url": item.url,
            "detail": item.detail,
        }
        for item in todo_items(member)  # type: ignore[arg-type]
    ]

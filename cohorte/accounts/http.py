from typing import Any

from django.http import HttpRequest

from .models import Member


class MemberRequest(HttpRequest):
    """A request behind @login_required: its user is a Member, never anonymous."""

    user: Member
    #: the programme the page is about, for the sidebar (set by the view)
    current_program: Any

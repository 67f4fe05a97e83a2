import datetime as dt
from typing import Literal, get_args

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from cohorte.core.api import ErrorOut
from cohorte.core.parse import ApiDate, ApiId

from . import services
from .models import Group, Program, ProgramKind
from .selectors import program_for, programs_visible_to

router = Router(tags=["programmes"])

Kind = Literal["accompaniment", "mentoring", "training", "interview_campaign"]
assert set(get_args(Kind)) == set(ProgramKind.values)  # noqa: S101 — keep the two in step


class ProgramIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    kind: Kind
    start_date: ApiDate
    end_date: ApiDate
    objective: int = Field(ge=1, le=1000)
    group: ApiId | None = None
    description: str = ""


class ProgramOut(Schema):
    id: int
    name: str
    kind: str
    status: str
    start_date: dt.date
    end_date: dt.date
    objective: int
    group: int | None = Field(None, alias="group_id")
    description: str


def validation_to_http(error: ValidationError) -> HttpError:
    messages = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
    text = " ".join(str(m) for values in messages.values() for m in values)
    return HttpError(400, text)


@router.post("", response={201: ProgramOut, 400: ErrorOut, 403: ErrorOut})
def program_create(request, payload: ProgramIn):
    member = request.auth
    if not member.is_org_admin:
        raise HttpError(403, _("Seul un administrateur de l'organisation peut créer un programme."))
    if payload.end_date < payload.start_date:
        raise HttpError(400, _("La date de fin doit suivre la date de début."))
    group = None
    if payload.group is not None:
        group = Group.objects.filter(pk=payload.group, organisation=member.organisation).first()
        if group is None:
            raise HttpError(400, _("Groupe inconnu dans votre organisation."))
    try:
        program = services.program_create(
            organisation=member.organisation,
            by=member,
            name=payload.name.strip(),
            kind=payload.kind,
            start_date=payload.start_date,
            end_date=payload.end_date,
            objective=payload.objective,
            group=group,
            description=payload.description,
        )
    except ValidationError as error:
        raise validation_to_http(error) from error
    return Status(201, program)


@router.get("", response=list[ProgramOut])
def program_list(request):
    return list(programs_visible_to(request.auth).order_by("name", "pk"))


@router.get("/{int:program_id}", response={200: ProgramOut, 404: ErrorOut})
def program_detail(request, program_id: ApiId) -> Program:
    return program_for(request.auth, program_id)

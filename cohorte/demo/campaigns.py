"""The demo's interview campaign: « Entretiens annuels 2026 », running (started a month ago,
ending in two months), fifteen interviews spread over every status, walked through the
campaigns' own services so that each « Avancement » is a real history. Two of the demo
logins find it in « Mon espace »: Mamadou (a professional) manages interviews still to
plan, Chloé (a participant) has her write-up to sign. Its e-mails are as if already sent:
nobody is e-mailed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from cohorte.accounts.models import Member
from cohorte.campaigns import services
from cohorte.campaigns.models import Campaign, Interview, InterviewEvent
from cohorte.messaging.models import Email, EmailStatus
from cohorte.programs.models import Organisation

DAY = dt.timedelta(days=1)

CIRCUIT = [
    {"role": "collaborator", "deadline_days": 7},
    {"role": "manager", "deadline_days": 5},
    {"role": "second_approver", "deadline_days": 7},
    {"role": "hr", "deadline_days": 10},
]
FORM = [
    {
        "title": {"fr": "Bilan de l'année", "en": "The year in review"},
        "questions": [
            {
                "key": "reussites",
                "kind": "text",
                "label": {"fr": "Les réussites de l'année", "en": "The year's achievements"},
                "required": True,
            },
            {
                "key": "satisfaction",
                "kind": "scale",
                "label": {"fr": "Satisfaction dans le poste", "en": "Job satisfaction"},
            },
            {
                "key": "objectifs_passes",
                "kind": "objectives",
                "label": {"fr": "Objectifs de l'année écoulée", "en": "Last year's objectives"},
            },
        ],
    },
    {
        "title": {"fr": "Perspectives", "en": "Outlook"},
        "questions": [
            {
                "key": "charge",
                "kind": "choice",
                "label": {"fr": "Charge de travail", "en": "Workload"},
                "options": [
                    {"fr": "Légère", "en": "Light"},
                    {"fr": "Adaptée", "en": "Right"},
                    {"fr": "Trop lourde", "en": "Too heavy"},
                ],
            },
            {
                "key": "formation",
                "kind": "text",
                "label": {"fr": "Besoins de formation", "en": "Training needs"},
            },
        ],
    },
]
ANSWERS = {
    "reussites": "Le projet d'accueil des lycéens mené à bien, avec des retours très positifs.",
    "satisfaction": 4,
    "objectifs_passes": [
        {"title": "Organiser deux journées portes ouvertes", "rating": 5},
        {"title": "Former un nouveau collègue", "rating": 3},
    ],
    "charge": "Adaptée",
    "formation": "Animation d'ateliers en groupe.",
}


def _dated(interview: Interview, since: int, at: dt.datetime) -> None:
    """The « Avancement » lines written since event `since`, dated `at` (the demo's past)."""
    InterviewEvent.objects.filter(interview=interview, pk__gt=since).update(at=at)


def _last_event() -> int:
    return InterviewEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def demo_campaign(
    *,
    organisation: Organisation,
    admin: Member,
    hr_manager: Member,
    managers: Sequence[Member],
    collaborators: Sequence[Member],
    chloe: Member,
    now: dt.datetime,
) -> Campaign:
    """managers: [Claire (Chloé's manager), Mamadou (interviews to plan)]; hr_manager
    (James) is Mamadou's own manager, so the N+2 of Mamadou's collaborators."""
    tz = organisation.tzinfo
    today = now.astimezone(tz).date()
    first_email = Email.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    campaign = services.campaign_create(
        organisation=organisation,
        by=admin,
        name="Entretiens annuels 2026",
        kind="annual",
        start_date=today - 30 * DAY,
        end_date=today + 60 * DAY,
        circuit=CIRCUIT,
        form=FORM,
    )
    Campaign.objects.filter(pk=campaign.pk).update(created_at=now - 35 * DAY)
    claire, mamadou = managers
    # Claire: Chloé and six others; Mamadou: six, most still to plan; James: Mamadou himself
    claire_team = [chloe, *collaborators[:6]]
    mamadou_team = list(collaborators[6:13])
    lines = [
        {"collaborator_email": m.email, "manager_email": claire.email} for m in claire_team
    ] + [{"collaborator_email": m.email, "manager_email": mamadou.email} for m in mamadou_team]
    lines.append({"collaborator_email": mamadou.email, "manager_email": hr_manager.email})
    interviews = {
        i.collaborator_id: i
        for i in services.interviews_add(campaign=campaign, by=admin, lines=lines)
    }

    def plan(member: Member, manager: Member, days: int) -> Interview:
        interview = interviews[member.pk]
        mark = _last_event()
        at = (now + days * DAY).astimezone(tz).replace(hour=10, minute=0, second=0, microsecond=0)
        interview = services.interview_plan(
            interview=interview, by=manager, scheduled_at=at, place="Bureau du manager"
        )
        _dated(interview, mark, min(now, at) - 5 * DAY)
        return interview

    def hold(interview: Interview, manager: Member) -> Interview:
        mark = _last_event()
        interview = services.interview_held(interview=interview, by=manager)
        _dated(interview, mark, interview.scheduled_at or now)
        return interview

    def submit(interview: Interview, manager: Member, ago: int) -> Interview:
        mark = _last_event()
        interview = services.interview_submit(interview=interview, by=manager, answers=ANSWERS)
        _dated(interview, mark, now - ago * DAY)
        Interview.objects.filter(pk=interview.pk).update(step_started_at=now - ago * DAY)
        interview.refresh_from_db()
        return interview

    def sign(interview: Interview, by: Member, ago: int, **kw: str) -> Interview:
        mark = _last_event()
        interview = services.interview_sign(interview=interview, by=by, **kw)
        _dated(interview, mark, now - ago * DAY)
        if interview.step_started_at:
            Interview.objects.filter(pk=interview.pk).update(step_started_at=now - ago * DAY)
        interview.refresh_from_db()
        return interview

    a, b, c, d, e, f = claire_team[1:]
    # Chloé: held last week, the write-up submitted three days ago, her signature awaited
    submit(hold(plan(chloe, claire, -8), claire), claire, 3)
    # two closed: signed by everyone (the N+2 of Claire's team: HR, she has none here)
    for member, days in ((a, -25), (b, -22)):
        interview = submit(hold(plan(member, claire, days), claire), claire, 20)
        interview = sign(interview, member, 18, comment="Merci pour cet échange.")
        interview = sign(interview, claire, 16)
        interview = sign(interview, admin, 14)
        sign(interview, admin, 12)
    # one at the manager's step (the collaborator signed with a « réserve »), one at HR's
    interview = submit(hold(plan(c, claire, -12), claire), claire, 9)
    sign(interview, c, 6, reserve="Je ne partage pas l'appréciation de ma charge de travail.")
    interview = submit(hold(plan(d, claire, -15), claire), claire, 13)
    interview = sign(interview, d, 11)
    interview = sign(interview, claire, 10)
    # held, the write-up still being written; planned in the coming days
    hold(plan(e, claire, -2), claire)
    plan(f, claire, 4)
    # Mamadou: one planned, one held, one deleted by the administrator, three to plan
    plan(mamadou_team[0], mamadou, 6)
    hold(plan(mamadou_team[1], mamadou, -3), mamadou)
    mark = _last_event()
    deleted = services.interview_delete(interview=interviews[mamadou_team[2].pk], by=admin)
    _dated(deleted, mark, now - 10 * DAY)
    # James and Mamadou: planned next week
    plan(mamadou, hr_manager, 8)
    # the e-mails of this story as already sent
    Email.objects.filter(pk__gt=first_email, organisation_id=organisation.pk).update(
        status=EmailStatus.SENT, attempts=1, sent_at=now
    )
    return campaign

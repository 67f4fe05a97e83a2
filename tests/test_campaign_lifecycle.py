"""One interview through every status and every step of its circuit, with the wrong actor
refused at each step, and the lock after « Clos » (issue 13 §7)."""

import datetime as dt
from email.header import decode_header, make_header

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from cohorte.campaigns import services
from cohorte.campaigns.models import EventAction, InterviewStatus
from cohorte.campaigns.selectors import campaign_stats, interview_todo_items

from .conftest import body_of, make_member, run_tasks

CIRCUIT = [
    {"role": "collaborator", "deadline_days": 7},
    {"role": "manager", "deadline_days": 3},
    {"role": "second_approver", "deadline_days": 5},
    {"role": "hr", "deadline_days": 10},
]
FORM = [
    {
        "title": {"fr": "Bilan", "en": "Review"},
        "questions": [
            {"key": "bilan", "kind": "text", "label": {"fr": "Bilan de l'année"}, "required": True},
            {"key": "note", "kind": "scale", "label": {"fr": "Satisfaction"}},
            {
                "key": "objectifs",
                "kind": "objectives",
                "label": {"fr": "Objectifs de l'an prochain"},
            },
        ],
    }
]


@pytest.fixture
def people(organisation):
    return {
        "collab": make_member(organisation, "claire.collab@poitiers.example", first="Claire"),
        "manager": make_member(organisation, "marc.manager@poitiers.example", first="Marc"),
        "n2": make_member(organisation, "nina.n2@poitiers.example", first="Nina"),
        "other": make_member(organisation, "oscar.autre@poitiers.example", first="Oscar"),
    }


@pytest.fixture
def campaign(organisation, admin):
    today = timezone.localdate()
    return services.campaign_create(
        organisation=organisation,
        by=admin,
        name="Entretiens annuels 2026",
        kind="annual",
        start_date=today - dt.timedelta(days=1),
        end_date=today + dt.timedelta(days=60),
        circuit=CIRCUIT,
        form=FORM,
    )


def subject(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def refused(action, **kwargs):
    with pytest.raises(PermissionDenied):
        action(**kwargs)


@pytest.mark.django_db(transaction=True)
def test_one_interview_walks_every_status_and_step(campaign, people, admin, smtp):
    collab, manager, n2, other = people["collab"], people["manager"], people["n2"], people["other"]
    # the manager's own interview in the campaign names their manager: the N+2
    services.interviews_add(
        campaign=campaign,
        by=admin,
        lines=[
            {"collaborator_email": collab.email, "manager_email": manager.email},
            {"collaborator_email": manager.email, "manager_email": n2.email},
        ],
    )
    interview = campaign.interviews.get(collaborator=collab)
    assert interview.status == InterviewStatus.NOT_PLANNED
    assert [i.title for i in interview_todo_items(manager)] == ["Planifiez l'entretien de Claire"]

    when = timezone.now() + dt.timedelta(days=3)
    refused(services.interview_plan, interview=interview, by=collab, scheduled_at=when)
    refused(services.interview_held, interview=interview, by=manager)  # out of order
    interview = services.interview_plan(interview=interview, by=manager, scheduled_at=when)
    assert interview.status == InterviewStatus.PLANNED
    services.interview_plan(interview=interview, by=manager, scheduled_at=when)  # a retry
    interview = services.interview_plan(
        interview=interview, by=manager, scheduled_at=when + dt.timedelta(hours=2)
    )
    assert interview.sequence == 1

    refused(services.interview_held, interview=interview, by=other)
    refused(services.interview_submit, interview=interview, by=manager, answers={})
    interview = services.interview_held(interview=interview, by=manager)
    with pytest.raises(ValidationError):  # the required answer is missing
        services.interview_submit(interview=interview, by=manager, answers={"note": 4})
    refused(services.interview_sign, interview=interview, by=collab)  # nothing to sign yet
    interview = services.interview_submit(
        interview=interview,
        by=manager,
        answers={
            "bilan": "Une belle année",
            "note": 4,
            "objectifs": [{"title": "Anglais", "rating": 3}],
        },
    )
    assert (interview.status, interview.step) == (InterviewStatus.CLOSING, 0)

    # step 1: the collaborator, who may record a reserve; nobody else
    for wrong in (manager, n2, other, admin):
        refused(services.interview_sign, interview=interview, by=wrong)
    interview = services.interview_sign(
        interview=interview, by=collab, comment="D'accord", reserve="Sur l'objectif 2"
    )
    # step 2: the manager (a reserve is the collaborator's only)
    refused(services.interview_sign, interview=interview, by=collab)
    with pytest.raises(ValidationError):
        services.interview_sign(interview=interview, by=manager, reserve="non")
    # the manager sends it back: the collaborator's step again
    interview = services.interview_send_back(interview=interview, by=manager, comment="Relis")
    assert interview.step == 0
    interview = services.interview_sign(interview=interview, by=collab)
    interview = services.interview_sign(interview=interview, by=manager)
    # step 3: the N+2, the manager's own manager in the campaign
    assert interview.second_approver == n2
    refused(services.interview_sign, interview=interview, by=admin)
    assert any("Signez" in i.title for i in interview_todo_items(n2))
    interview = services.interview_sign(interview=interview, by=n2)
    # step 4: HR, any administrator (no HR person named)
    refused(services.interview_sign, interview=interview, by=n2)
    interview = services.interview_sign(interview=interview, by=admin, comment="Validé")
    assert interview.status == InterviewStatus.CLOSED and interview.closed_at

    # closed: locked for everything but a reopening
    for action, kwargs in (
        (services.interview_plan, {"by": manager, "scheduled_at": when}),
        (services.interview_held, {"by": manager}),
        (services.interview_submit, {"by": manager, "answers": {}}),
        (services.interview_sign, {"by": admin}),
        (services.interview_delete, {"by": admin}),
    ):
        with pytest.raises(services.InterviewLocked):
            action(interview=interview, **kwargs)
    refused(services.interview_reopen, interview=interview, by=manager, reason="x")
    interview = services.interview_reopen(interview=interview, by=admin, reason="Erreur de note")
    assert interview.status == InterviewStatus.HELD
    version = interview.versions.get()
    assert version.answers["bilan"] == "Une belle année"
    assert [s["role"] for s in version.signatures] == [
        "collaborator", "collaborator", "manager", "second_approver", "hr"
    ]  # fmt: skip
    assert version.signatures[0]["reserve"] == "Sur l'objectif 2"
    assert interview.events.filter(action=EventAction.REOPENED).exists()
    assert campaign_stats(campaign)["held"] == 1

    run_tasks()
    subjects = {(m["X-Envelope-To"], subject(m)) for m in smtp}
    assert any(s.startswith("Votre entretien le") for to, s in subjects if to == collab.email)
    assert any(
        s.startswith("Votre entretien est déplacé") for to, s in subjects if to == collab.email
    )
    closed = [
        m for m in smtp if subject(m) == "Votre entretien « Entretiens annuels 2026 » est clos"
    ]
    assert len(closed) == 1 and "signé par tous" in body_of(closed[0])
    invitation = next(m for m in smtp if subject(m).startswith("Votre entretien le"))
    assert any(p.get_content_type() == "text/calendar" for p in invitation.walk())


def test_a_batch_with_one_bad_line_creates_nothing(campaign, people, admin, outsider):
    collab, manager = people["collab"], people["manager"]
    people["other"].is_active = False
    people["other"].save()
    lines = [
        {"collaborator_email": collab.email, "manager_email": manager.email},
        {"collaborator_email": collab.email.upper(), "manager_email": manager.email},
        {"collaborator_email": manager.email, "manager_email": manager.email},
        {"collaborator_email": "nobody@x.example", "manager_email": manager.email},
        {"collaborator_email": people["other"].email, "manager_email": manager.email},
        {"collaborator_email": outsider.email, "manager_email": manager.email},
    ]
    with pytest.raises(services.BadLines) as refusal:
        services.interviews_add(campaign=campaign, by=admin, lines=lines)
    assert sorted({e["index"] for e in refusal.value.lines}) == [1, 2, 3, 4, 5]
    assert not campaign.interviews.exists()


def test_deleting_a_campaign_needs_its_exact_name(campaign, people, admin):
    services.interviews_add(
        campaign=campaign,
        by=admin,
        lines=[
            {"collaborator_email": people["collab"].email, "manager_email": people["manager"].email}
        ],
    )
    with pytest.raises(ValidationError):
        services.campaign_delete(campaign=campaign, by=admin, confirm="entretiens annuels 2026")
    counts = services.campaign_delete(
        campaign=campaign, by=admin, confirm="Entretiens annuels 2026"
    )
    assert counts["not_planned"] == 1

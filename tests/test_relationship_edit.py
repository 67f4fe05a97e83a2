"""« Créer, modifier ou supprimer des correspondances » (seed 001): a match is edited and
deleted from its page and the API, a pair is matched once at a time, and a match that has
been lived is ended, never deleted."""

import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from cohorte.core.models import AuditEntry
from cohorte.meetings import services
from cohorte.meetings.models import Meeting, MeetingStatus, Relationship
from cohorte.messaging.models import Email
from cohorte.programs.models import Enrolment, Role

from .conftest import make_member, signed_in


@pytest.fixture
def pupil(organisation, program_b):
    member = make_member(organisation, "nina.pupil@poitiers.example", first="Nina", last="Pupil")
    Enrolment.objects.create(program=program_b, member=member, role=Role.MENTEE)
    return member


@pytest.fixture
def match(program_b, mentor, pupil, manager_b):
    manager_b.language = "fr"  # the pages read in French here
    manager_b.save(update_fields=["language"])
    mentor.max_mentees = 3  # room for one more: the refusal below is the twin's, not the load's
    mentor.save(update_fields=["max_mentees"])
    pupil.max_mentors = 3
    pupil.save(update_fields=["max_mentors"])
    return services.relationship_create(program=program_b, mentor=mentor, mentee=pupil, by=None)


def meeting_of(match, *, days: int, status: str) -> Meeting:
    meeting = services.meeting_create(
        program=match.program,
        attendees=[match.mentor, match.mentee],
        starts_at=timezone.now() + dt.timedelta(days=days),
        duration_minutes=30,
        status=status,
        by=None,
    )
    Meeting.objects.filter(pk=meeting.pk).update(relationship=match)
    return meeting


def text(response) -> str:
    return response.content.decode()


def test_a_pair_is_matched_once_at_a_time_on_the_page_in_the_service_and_in_the_database(
    match, program_b, mentor, pupil, manager_b
):
    response = signed_in(manager_b).post(
        f"/programmes/{program_b.pk}/relations/nouvelle/",
        {"mentor": mentor.pk, "mentee": pupil.pk},
        follow=True,
    )
    assert "Marc Mentor et Nina Pupil sont déjà jumelés dans ce programme." in text(response)
    with pytest.raises(ValidationError):
        services.relationship_create(program=program_b, mentor=mentor, mentee=pupil, by=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        Relationship.objects.create(program=program_b, mentor=mentor, mentee=pupil)
    assert Relationship.objects.filter(program=program_b).count() == 1
    # ended, the pair may be matched again: a new relationship, the old one's history stays
    services.relationship_end(relationship=match, by=None)
    again = services.relationship_create(program=program_b, mentor=mentor, mentee=pupil, by=None)
    assert again.pk != match.pk


def test_a_manager_edits_a_match_and_the_audit_log_says_what_changed(match, manager_b):
    client = signed_in(manager_b)
    page = text(client.get(f"/relations/{match.pk}/"))
    assert (
        f"/relations/{match.pk}/modifier/" in page and f"/relations/{match.pk}/supprimer/" in page
    )
    response = client.post(
        f"/relations/{match.pk}/modifier/",
        {
            "status": "completed",
            "started_on": "2026-09-01",
            "agreement_url": "",
            "evaluation_url": "",
        },
        follow=True,
    )
    assert "Relation modifiée." in text(response)
    match.refresh_from_db()
    assert match.status == "completed" and match.ended_at is not None
    assert match.started_on == dt.date(2026, 9, 1)
    entry = AuditEntry.objects.get(action="relationship.updated")
    assert entry.data["status"] == {"old": "matched", "new": "completed"}
    # a date out of range is a message on the field, nothing saved
    response = client.post(
        f"/relations/{match.pk}/modifier/",
        {
            "status": "completed",
            "started_on": "9999-01-01",
            "agreement_url": "",
            "evaluation_url": "",
        },
    )
    assert response.status_code == 200 and "date hors limites" in text(response)
    match.refresh_from_db()
    assert match.started_on == dt.date(2026, 9, 1)


def test_back_in_progress_is_refused_when_the_pair_was_matched_again(match, manager_b):
    services.relationship_end(relationship=match, by=None)
    services.relationship_create(
        program=match.program, mentor=match.mentor, mentee=match.mentee, by=None
    )
    response = signed_in(manager_b).post(
        f"/relations/{match.pk}/modifier/",
        {"status": "matched", "started_on": "", "agreement_url": "", "evaluation_url": ""},
    )
    assert "sont déjà jumelés dans ce programme" in text(response)
    match.refresh_from_db()
    assert match.status == "completed"


def test_deleting_a_match_says_what_goes_with_it_cancels_what_was_to_come_and_is_audited(
    match, manager_b, smtp
):
    upcoming = meeting_of(match, days=3, status=MeetingStatus.SCHEDULED)
    client = signed_in(manager_b)
    page = text(client.get(f"/relations/{match.pk}/supprimer/"))
    assert "Supprimer la relation Marc Mentor — Nina Pupil ?" in page
    assert "1 réunion (aucune tenue)" in page and "dont 1 à venir" in page
    assert Relationship.objects.filter(pk=match.pk).exists()  # the page alone deletes nothing
    response = client.post(f"/relations/{match.pk}/supprimer/", follow=True)
    assert "Relation supprimée." in text(response)
    assert not Relationship.objects.filter(pk=match.pk).exists()
    assert not Meeting.objects.filter(pk=upcoming.pk).exists()
    told = set(
        Email.objects.filter(to_email__in=[match.mentor.email, match.mentee.email]).values_list(
            "to_email", flat=True
        )
    )
    assert told == {match.mentor.email, match.mentee.email}  # the cancellation reached both
    assert AuditEntry.objects.get(action="relationship.deleted").data["meetings"] == 1


def test_a_match_with_a_held_meeting_is_ended_not_deleted(match, manager_b):
    meeting_of(match, days=-2, status=MeetingStatus.CONFIRMED)
    client = signed_in(manager_b)
    page = text(client.get(f"/relations/{match.pk}/supprimer/"))
    assert "elle ne peut pas être supprimée" in page and "Terminer la relation" in page
    client.post(f"/relations/{match.pk}/supprimer/")
    assert Relationship.objects.filter(pk=match.pk).exists()


def test_the_api_reads_edits_and_deletes_a_match_with_the_same_rules(
    api_as, match, manager_b, manager_a, outsider
):
    api = api_as(manager_b)

    def patch(body, who=api):
        return who.client.patch(
            f"/api/relationships/{match.pk}",
            json.dumps(body),
            content_type="application/json",
            headers=who.headers,
        )

    assert api.get(f"/api/relationships/{match.pk}").json()["status"] == "matched"
    for stranger in (api_as(outsider), api_as(manager_a)):  # another organisation, programme
        assert stranger.get(f"/api/relationships/{match.pk}").status_code == 404
        assert patch({"status": "completed"}, stranger).status_code == 404
        assert stranger.delete(f"/api/relationships/{match.pk}").status_code == 404
    assert patch({"started_on": "9999-12-31"}).status_code == 400
    assert patch({"agreement_url": "javascript:alert(1)"}).status_code == 400
    ended = patch({"status": "completed"})
    assert ended.status_code == 200 and ended.json()["ended_at"]
    assert patch({"status": "completed"}).json()["ended_at"] == ended.json()["ended_at"]
    services.relationship_create(
        program=match.program, mentor=match.mentor, mentee=match.mentee, by=None
    )
    refused = patch({"status": "matched"})
    assert refused.status_code == 400 and "déjà jumelés" in json.dumps(
        refused.json(), ensure_ascii=False
    )
    meeting_of(match, days=-1, status=MeetingStatus.CONFIRMED)
    assert api.delete(f"/api/relationships/{match.pk}").status_code == 409
    Meeting.objects.filter(relationship=match).delete()
    assert api.delete(f"/api/relationships/{match.pk}").status_code == 204
    assert api.get(f"/api/relationships/{match.pk}").status_code == 404


def test_the_table_tells_never_opened_the_programme_from_never_signed_in_to_the_platform(
    api_as, program_a, manager_a, mentee, organisation
):
    """Seed 002: « Jamais » for the course, with when they last came to the platform."""
    from cohorte.accounts.models import Member

    ghost = make_member(organisation, "ghost@poitiers.example", first="Gus", last="Ghost")
    Enrolment.objects.create(program=program_a, member=ghost, role=Role.PARTICIPANT)
    came = timezone.now() - dt.timedelta(days=3)
    Member.objects.filter(pk=mentee.pk).update(last_access=came)  # signed in, never opened
    client = signed_in(manager_a)
    html = text(client.get(f"/programmes/{program_a.pk}/"))
    assert "Jamais ouvert ce programme ; connecté à la plateforme le" in html
    assert "Jamais connecté à la plateforme" in html
    only_ghost = text(client.get(f"/programmes/{program_a.pk}/", {"never_platform": "1"}))
    assert "ghost@poitiers.example" in only_ghost and mentee.email not in only_ghost
    both = text(client.get(f"/programmes/{program_a.pk}/", {"never": "1"}))
    assert "ghost@poitiers.example" in both and mentee.email in both
    api = api_as(manager_a)
    rows = {
        row["email"]: row
        for row in api.get(f"/api/programs/{program_a.pk}/participants").json()["results"]
    }
    assert rows[mentee.email]["last_access"] is None
    assert rows[mentee.email]["platform_last_access"].startswith(came.date().isoformat()[:4])
    assert rows[ghost.email]["platform_last_access"] is None
    never = api.get(f"/api/programs/{program_a.pk}/participants", never_on_platform="true").json()
    assert [row["email"] for row in never["results"]] == [ghost.email]

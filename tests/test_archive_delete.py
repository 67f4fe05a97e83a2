"""Archive keeps everything and blocks sign-in; delete for good removes the member and what
is theirs, after a confirmation that names it."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from cohorte.accounts.models import CustomField, CustomFieldValue, Member
from cohorte.activity.models import ActivityEvent, EventKind
from cohorte.core.models import AuditEntry
from cohorte.meetings.models import Meeting, MeetingAttendee, Relationship
from cohorte.meetings.services import relationship_create
from cohorte.programs.models import Enrolment

from .conftest import PASSWORD, hold_meetings, make_member, signed_in


@pytest.fixture
def busy_mentee(organisation, program_a, program_b, mentee, mentor, admin):
    """A mentee with events, meetings, a relationship and a custom answer."""
    Enrolment.objects.create(program=program_b, member=mentee, role="mentee")
    relationship_create(program=program_b, mentor=mentor, mentee=mentee, by=admin)
    hold_meetings(program_a, mentee, mentor, 2)
    for kind in (EventKind.PROFILE_VIEW, EventKind.MESSAGE):
        ActivityEvent.objects.create(
            program=program_a,
            actor=mentee,
            kind=kind,
            target=mentor,
            occurred_at=timezone.now() - dt.timedelta(hours=1),
        )
    field = CustomField.objects.create(organisation=organisation, name_fr="Sport")
    CustomFieldValue.objects.create(member=mentee, field=field, value="Tennis")
    return mentee


def test_archive_keeps_every_datum_blocks_sign_in_and_hides_from_the_list(admin, busy_mentee):
    client = signed_in(admin)
    before = (
        ActivityEvent.objects.count(),
        MeetingAttendee.objects.count(),
        Relationship.objects.count(),
    )
    client.post(f"/membres/{busy_mentee.pk}/archiver/")
    busy_mentee.refresh_from_db()
    assert busy_mentee.archived_at is not None
    assert (
        ActivityEvent.objects.count(),
        MeetingAttendee.objects.count(),
        Relationship.objects.count(),
    ) == before
    assert CustomFieldValue.objects.filter(member=busy_mentee).exists()
    assert busy_mentee.email not in client.get("/membres/").content.decode()
    assert busy_mentee.email in client.get("/membres/", {"archived": "on"}).content.decode()
    refused = Client().post(
        "/compte/connexion/", {"username": busy_mentee.email, "password": PASSWORD}
    )
    assert "Votre compte a été archivé" in refused.content.decode()  # said as such
    assert AuditEntry.objects.filter(
        action="member.archived", target_id=str(busy_mentee.pk)
    ).exists()


def test_archive_can_be_undone(admin, mentee):
    client = signed_in(admin)
    client.post(f"/membres/{mentee.pk}/archiver/")
    client.post(f"/membres/{mentee.pk}/archiver/", {"undo": "1"})
    mentee.refresh_from_db()
    assert mentee.archived_at is None
    assert Client().login(username=mentee.email, password=PASSWORD)


def test_an_archived_members_session_ends(admin, mentee):
    session = signed_in(mentee)
    signed_in(admin).post(f"/membres/{mentee.pk}/archiver/")
    assert session.get("/mon-espace/").status_code == 302


def test_delete_asks_first_and_names_what_will_be_lost(admin, busy_mentee):
    html = signed_in(admin).get(f"/membres/{busy_mentee.pk}/supprimer/").content.decode()
    assert "Cette action est irréversible" in html
    assert "1 relation" in html
    assert "2 participations à des rencontres" in html
    assert "1 message" in html
    assert "2 événements d'activité" in html
    assert Member.objects.filter(pk=busy_mentee.pk).exists()


def test_delete_removes_the_member_and_everything_that_is_theirs(admin, busy_mentee, mentor):
    pk = busy_mentee.pk
    mentor.refresh_from_db()
    assert mentor.relationships_count == 1
    response = signed_in(admin).post(f"/membres/{pk}/supprimer/")
    assert response.status_code == 302
    assert not Member.objects.filter(pk=pk).exists()
    assert not ActivityEvent.objects.filter(actor_id=pk).exists()
    assert not MeetingAttendee.objects.filter(member_id=pk).exists()
    assert not Relationship.objects.filter(mentee_id=pk).exists()
    assert not Enrolment.objects.filter(member_id=pk).exists()
    assert not CustomFieldValue.objects.filter(member_id=pk).exists()
    # the other side keeps its meetings, and its counters follow
    assert Meeting.objects.count() == 2
    mentor.refresh_from_db()
    assert mentor.relationships_count == 0 and mentor.matches_count == 0
    entry = AuditEntry.objects.get(action="member.deleted")
    assert entry.target_id == str(pk) and "lea.mentee@poitiers.example" in entry.target_repr


def test_an_administrator_cannot_delete_themself_or_another_administrator(admin, organisation):
    other = make_member(organisation, "other.admin@x.example", is_org_admin=True)
    client = signed_in(admin)
    for target in (admin, other):
        html = client.get(f"/membres/{target.pk}/supprimer/").content.decode()
        assert "Supprimer définitivement</button>" not in html
        client.post(f"/membres/{target.pk}/supprimer/")
        assert Member.objects.filter(pk=target.pk).exists()


def test_only_administrators_delete(manager_a, mentee):
    assert signed_in(manager_a).post(f"/membres/{mentee.pk}/supprimer/").status_code == 404
    assert Member.objects.filter(pk=mentee.pk).exists()


def test_an_administrator_edits_a_profile_and_names_its_member_administrator(
    admin, manager_a, mentee, program_a
):
    response = signed_in(admin).post(
        f"/membres/{mentee.pk}/",
        {
            "first_name": "Léa",
            "last_name": "Mentee",
            "language": "fr",
            "role": "mentee",
            "city": "Poitiers",
            "administrator": manager_a.pk,
        },
    )
    assert response.status_code == 302
    mentee.refresh_from_db()
    assert (mentee.city, mentee.administrator) == ("Poitiers", manager_a)
    assert AuditEntry.objects.filter(
        action="member.profile_updated", target_id=str(mentee.pk)
    ).exists()
    html = signed_in(admin).get("/membres/").content.decode()
    row = html[html.index(f'data-member="{mentee.pk}"') :]
    assert "Manon Alpha" in row[: row.index("</tr>")]


def test_a_manager_may_read_a_profile_but_not_change_it(manager_a, mentee):
    client = signed_in(manager_a)
    assert client.get(f"/membres/{mentee.pk}/").status_code == 200
    assert (
        client.post(f"/membres/{mentee.pk}/", {"first_name": "X", "language": "fr"}).status_code
        == 403
    )
    mentee.refresh_from_db()
    assert mentee.first_name == "Léa"


# --- issue 9: redirects stay on the site; a profile names only programmes the viewer sees


@pytest.mark.parametrize("action", ["actif", "archiver"])
@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/x", "https:evil.example", "\\\\evil.example"],
)
def test_next_never_leaves_the_site(admin, mentee, action, target):
    response = signed_in(admin).post(
        f"/membres/{mentee.pk}/{action}/", {"active": "0", "next": target}
    )
    assert response.status_code == 302
    assert response["Location"] == "/membres/"


def test_next_on_the_site_is_followed(admin, mentee):
    response = signed_in(admin).post(
        f"/membres/{mentee.pk}/archiver/", {"next": "/membres/?role=mentor"}
    )
    assert response["Location"] == "/membres/?role=mentor"


def test_a_manager_sees_only_their_programmes_on_a_shared_profile(manager_a, admin, mentor):
    html = signed_in(manager_a).get(f"/membres/{mentor.pk}/").content.decode()
    assert "Orientation A" in html
    assert "Mentorat B" not in html
    full = signed_in(admin).get(f"/membres/{mentor.pk}/").content.decode()
    assert "Orientation A" in full and "Mentorat B" in full


@pytest.mark.parametrize(
    "field, value",
    [
        ("years_experience", "81"),
        ("years_experience", "²"),
        ("goals", "x" * 5001),
        ("timezone", "Not/AZone"),
        ("timezone", "../../etc/passwd"),
    ],
)
def test_the_profile_form_bounds_its_fields(admin, mentee, field, value):
    response = signed_in(admin).post(
        f"/membres/{mentee.pk}/", {"language": "fr", "first_name": "Léa", field: value}
    )
    assert response.status_code == 200  # the form again, with its error
    mentee.refresh_from_db()
    assert getattr(mentee, field) in (None, "")

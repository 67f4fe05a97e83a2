"""The Relations page, matching by hand and by suggestion, group sessions and masterclasses."""

import datetime as dt

import pytest
from django.utils import timezone

from cohorte.meetings import matching, services
from cohorte.meetings.models import Meeting, MeetingAttendee, Relationship, Response
from cohorte.messaging.models import Email
from cohorte.programs.models import Enrolment, Role

from .conftest import make_member, signed_in


@pytest.fixture
def people(organisation, program_b):
    def enrol(email, first, enrolment_role, **extra):
        member = make_member(organisation, email, first=first, last="X", **extra)
        Enrolment.objects.create(program=program_b, member=member, role=enrolment_role)
        return member

    return {
        "ana": enrol(
            "ana@x.example",
            "Ana",
            Role.MENTOR,
            role="mentor",
            industry="Santé",
            skills="Leadership, Écoute",
            city="Lyon",
            max_mentees=1,
        ),
        "ben": enrol(
            "ben@x.example",
            "Ben",
            Role.MENTOR,
            role="mentor",
            industry="Numérique",
            skills="Python",
        ),
        "cam": enrol(
            "cam@x.example",
            "Cam",
            Role.MENTEE,
            role="mentee",
            industry="Santé",
            development_areas="leadership",
            city="Lyon",
        ),
        "dan": enrol("dan@x.example", "Dan", Role.MENTEE, role="mentee"),
    }


def test_suggestions_rank_by_shared_profile_and_say_why(program_b, people):
    ranked = matching.suggestions(program=program_b, mentee=people["cam"])
    assert [s.mentor for s in ranked][:2] == [people["ana"], people["ben"]]
    assert any("même secteur" in r for r in ranked[0].reasons)
    assert any("leadership" in r for r in ranked[0].reasons)


def test_a_full_mentor_is_not_suggested_and_cannot_be_matched(admin, program_b, people):
    services.relationship_create(
        program=program_b, mentor=people["ana"], mentee=people["dan"], by=admin
    )
    assert people["ana"] not in [
        s.mentor for s in matching.suggestions(program=program_b, mentee=people["cam"])
    ]
    response = signed_in(admin).post(
        f"/programmes/{program_b.pk}/relations/nouvelle/",
        {"mentor": people["ana"].pk, "mentee": people["cam"].pk},
    )
    assert response.status_code == 200 and "nombre maximal de mentorés" in response.content.decode()
    assert Relationship.objects.count() == 1


def test_matching_by_hand_confirms_to_both(admin, program_b, people):
    response = signed_in(admin).post(
        f"/programmes/{program_b.pk}/relations/nouvelle/",
        {"mentor": people["ben"].pk, "mentee": people["cam"].pk},
    )
    assert response.status_code == 302
    assert Relationship.objects.filter(mentor=people["ben"], mentee=people["cam"]).exists()
    assert sorted(Email.objects.values_list("to_email", flat=True)) == [
        "ben@x.example",
        "cam@x.example",
    ]


def test_tabs_show_live_counts_and_search(admin, program_b, people):
    services.relationship_create(
        program=program_b, mentor=people["ben"], mentee=people["cam"], by=admin
    )
    ended = services.relationship_create(
        program=program_b, mentor=people["ana"], mentee=people["dan"], by=admin
    )
    services.relationship_end(relationship=ended, by=admin)
    client = signed_in(admin)
    html = client.get(f"/programmes/{program_b.pk}/relations/").content.decode()
    assert (
        "Tous (2)" in html
        and "Jumelé (1)" in html
        and "Complété (1)" in html
        and "Rencontres (0)" in html
    )
    searched = client.get(f"/programmes/{program_b.pk}/relations/", {"q": "ana"}).content.decode()
    assert "affichées 1 à 1 sur 1 entrées (filtrées de 2)" in searched


def test_meetings_tab_shows_each_answer(admin, program_b, people):
    relationship = services.relationship_create(
        program=program_b, mentor=people["ben"], mentee=people["cam"], by=admin
    )
    meeting = Meeting.objects.create(
        program=program_b,
        relationship=relationship,
        duration_minutes=30,
        starts_at=timezone.now() + dt.timedelta(days=2),
    )
    MeetingAttendee.objects.create(
        meeting=meeting, member=people["ben"], response=Response.ACCEPTED
    )
    MeetingAttendee.objects.create(meeting=meeting, member=people["cam"], response=Response.PENDING)
    html = (
        signed_in(admin)
        .get(f"/programmes/{program_b.pk}/relations/", {"tab": "meetings"})
        .content.decode()
    )
    assert "✓ Ben X" in html and "? Cam X" in html
    assert (
        f'name="member" value="{people["cam"].pk}"' in html
    )  # to write to those who did not answer


def test_another_managers_relations_are_out_of_reach(manager_a, program_b, people, admin):
    relationship = services.relationship_create(
        program=program_b, mentor=people["ben"], mentee=people["cam"], by=admin
    )
    client = signed_in(manager_a)
    assert client.get(f"/programmes/{program_b.pk}/relations/").status_code == 404
    assert client.get(f"/relations/{relationship.pk}/planifier/").status_code == 404
    assert client.post(f"/relations/{relationship.pk}/terminer/").status_code == 404


def test_group_session_and_masterclass_signup(admin, program_b, people):
    start = (timezone.localtime(timezone.now() + dt.timedelta(days=3))).strftime("%Y-%m-%dT%H:%M")
    client = signed_in(admin)
    client.post(
        f"/programmes/{program_b.pk}/seances/nouvelle/",
        {
            "kind": "masterclass",
            "title": "Prendre la parole",
            "starts_at": start,
            "duration": "90",
            "capacity": "1",
            "led_by": people["ana"].pk,
        },
    )
    masterclass = Meeting.objects.get(kind="masterclass")
    assert masterclass.led_by == people["ana"] and masterclass.capacity == 1
    cam = signed_in(people["cam"])
    assert "Prendre la parole" in cam.get("/compte/cours-de-maitre/").content.decode()
    cam.post("/compte/cours-de-maitre/", {"meeting": masterclass.pk})
    assert masterclass.attendances.filter(member=people["cam"]).exists()
    response = signed_in(people["dan"]).post(
        "/compte/cours-de-maitre/", {"meeting": masterclass.pk}, follow=True
    )
    assert "complet" in response.content.decode()
    client.post(
        f"/programmes/{program_b.pk}/seances/nouvelle/",
        {
            "kind": "group",
            "title": "Groupe",
            "starts_at": start,
            "duration": "60",
            "member": [people["cam"].pk, people["dan"].pk],
        },
    )
    group = Meeting.objects.get(kind="group")
    assert set(group.attendances.values_list("member_id", flat=True)) == {
        people["cam"].pk,
        people["dan"].pk,
    }
    # the calendar's feed (the page draws it): both sessions, by kind, with their title
    day = timezone.localdate() + dt.timedelta(days=3)
    first = day - dt.timedelta(days=day.weekday())
    events = client.get(
        f"/api/programs/{program_b.pk}/calendar",
        {"start": f"{first}T00:00:00", "end": f"{first + dt.timedelta(days=7)}T00:00:00"},
    ).json()
    kinds = {e["extendedProps"]["kind"] for e in events if "kind" in e["extendedProps"]}
    assert {"masterclass", "group"} <= kinds
    assert any("kind-group" in e["classNames"] and e["title"] == "Groupe" for e in events)


def test_custom_fields_weighted_by_the_administrator_count_in_suggestions(
    organisation, program_b, people
):
    from cohorte.accounts.models import CustomField, CustomFieldValue

    sport = CustomField.objects.create(
        organisation=organisation, name_fr="Sport", options="Ski, Judo", match_weight=10
    )
    CustomFieldValue.objects.create(member=people["ben"], field=sport, value="Judo")
    CustomFieldValue.objects.create(member=people["cam"], field=sport, value="Judo")
    ranked = matching.suggestions(program=program_b, mentee=people["cam"])
    assert ranked[0].mentor == people["ben"]  # 10 points beat the shared industry
    assert any("champs personnalisés" in r for r in ranked[0].reasons)
    sport.match_weight = 0
    sport.save()
    assert matching.suggestions(program=program_b, mentee=people["cam"])[0].mentor == people["ana"]

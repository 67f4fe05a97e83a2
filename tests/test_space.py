"""« Mon espace »: a participant with an invitation, an incomplete profile and no
availability reads those three things to do, with their count in the header; answering
from the space takes the item away; the photo is checked and cut square; nobody reaches
another member's items; GET /api/me/todo gives the same list."""

import datetime as dt
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from cohorte.core.models import AuditEntry
from cohorte.meetings.models import Availability, MeetingAttendee, Response
from cohorte.meetings.services import group_session_create, meeting_create, relationship_create
from cohorte.messaging.models import Email, Notification

from .conftest import Api, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def invited(program_a, mentor, mentee):
    """Léa (participant, Europe/Paris by her organisation, then Montréal by her profile)
    is matched with Marc and invited to a meeting in three days."""
    relationship_create(program=program_a, mentor=mentor, mentee=mentee, by=None)
    Availability.objects.create(member=mentor, weekday=1, start=dt.time(9), end=dt.time(12))
    meeting = meeting_create(
        program=program_a,
        attendees=[mentor, mentee],
        starts_at=timezone.now() + dt.timedelta(days=3),
        duration_minutes=45,
        status="scheduled",
        by=None,
    )
    MeetingAttendee.objects.filter(meeting=meeting, member=mentor).update(
        response=Response.ACCEPTED
    )
    return meeting


def _header_count(html: str) -> int:
    found = re.search(r'data-todo-count="(\d+)"', html)
    return int(found.group(1)) if found else 0


def _kinds(html: str) -> list[str]:
    return re.findall(r'data-kind="(\w+)"', html)


def test_participant_reads_what_waits_and_the_header_count(
    invited, mentee, django_assert_max_num_queries
):
    client = signed_in(mentee)
    with django_assert_max_num_queries(30):
        html = client.get(reverse("space:home")).content.decode()
    assert _kinds(html) == ["invitation", "availability", "profile"]  # dated first
    assert "Répondez à l&#x27;invitation" in html
    assert re.search(r"Complétez votre profil \(complété à \d+ %\)", html)
    # the missing fields by name, each one a field of her profile form
    assert "Manque : photo, intitulé du poste, entreprise" in html
    assert "Indiquez vos disponibilités" in html
    assert _header_count(html) == 3
    assert "Marc Mentor" in html  # her relationship, with his availability
    assert reverse("space:relationship", args=[invited.relationship_id or 0]) or True

    # any other page shows the same count in its header, from the cache (no provider runs)
    with django_assert_max_num_queries(12):
        other = client.get(reverse("meetings:availability")).content.decode()
    assert _header_count(other) == 3


def test_a_non_manager_lands_on_their_space_and_a_manager_keeps_theirs(mentee, manager_a):
    assert signed_in(mentee).get(reverse("programs:home")).url == reverse("space:home")
    page = signed_in(manager_a).get(reverse("programs:home"))
    assert page.status_code == 200
    assert reverse("space:home") in page.content.decode()  # « Mon espace » in the header


def test_accepting_from_the_space_takes_the_invitation_away(invited, mentee):
    client = signed_in(mentee)
    client.get(reverse("space:home"))  # the header's count is now cached at 3
    response = client.post(
        reverse("space:answer"), {"meeting": invited.pk, "answer": "accepted"}, follow=True
    )
    html = response.content.decode()
    assert "Invitation acceptée." in html
    assert MeetingAttendee.objects.get(meeting=invited, member=mentee).response == "accepted"
    assert "invitation" not in _kinds(html)
    assert _header_count(html) == 2
    assert AuditEntry.objects.filter(action="meeting.answered", actor=mentee).exists()
    # a second click (another tab) says why, it does not fail
    again = client.post(
        reverse("space:answer"), {"meeting": invited.pk, "answer": "declined"}, follow=True
    )
    assert "Vous avez déjà répondu à cette invitation." in again.content.decode()


def test_asking_to_reschedule_tells_the_partner_and_the_manager_once(
    invited, mentee, mentor, manager_a
):
    client = signed_in(mentee)
    url = reverse("space:reschedule")
    empty = client.post(url, {"meeting": invited.pk, "message": "  "}, follow=True)
    assert "Écrivez un message" in empty.content.decode()
    long = client.post(url, {"meeting": invited.pk, "message": "x" * 1001}, follow=True)
    assert "dépasse 1000 caractères" in long.content.decode()
    done = client.post(
        url, {"meeting": invited.pk, "message": "Jeudi plutôt ?"}, follow=True
    ).content.decode()
    assert "Demande de report envoyée" in done
    # her meeting says she asked, and offers no second request
    mine = done[done.index(f'id="meeting-{invited.pk}"') :].split("</article>")[0]
    assert "Report demandé le" in mine and 'name="message"' not in mine
    told = Email.objects.filter(body_text__contains="Jeudi plutôt ?")
    assert sorted(told.values_list("to_email", flat=True)) == [manager_a.email, mentor.email]
    assert Notification.objects.filter(member=manager_a, url__contains="reporter").exists()
    twice = client.post(url, {"meeting": invited.pk, "message": "Encore ?"}, follow=True)
    assert "déjà demandé un report" in twice.content.decode()
    assert Email.objects.filter(body_text__contains="Encore ?").count() == 0


def test_nobody_reaches_another_members_items(invited, mentee, mentor, outsider, manager_a):
    # the outsider cannot answer or ask about Léa's meeting, nor open her relationship
    client = signed_in(outsider)
    assert (
        client.post(
            reverse("space:answer"), {"meeting": invited.pk, "answer": "accepted"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            reverse("space:reschedule"), {"meeting": invited.pk, "message": "x"}
        ).status_code
        == 404
    )
    assert (
        client.get(reverse("space:relationship", args=[invited.relationship_id or 1])).status_code
        == 404
    )
    assert MeetingAttendee.objects.get(meeting=invited, member=mentee).response == "pending"
    # a manager of the programme is no attendee either; nor a programme she is not in
    assert (
        signed_in(manager_a).get(reverse("space:program", args=[invited.program_id])).status_code
        == 404
    )
    # each token reads its own items only: Marc (who answered) has no invitation
    mine = Api(mentee).get("/api/me/todo").json()
    his = Api(mentor).get("/api/me/todo").json()
    assert "invitation" in [i["kind"] for i in mine]
    assert "invitation" not in [i["kind"] for i in his]
    assert all(invited.program.name not in i["title"] for i in his if i["kind"] == "invitation")


def test_api_me_todo_shape_order_and_credentials(invited, mentee, client):
    mentee.timezone = "America/Montreal"
    mentee.save(update_fields=["timezone"])
    assert client.get("/api/me/todo").status_code == 401
    items = Api(mentee).get("/api/me/todo").json()
    assert [i["kind"] for i in items] == ["invitation", "availability", "profile"]
    first = items[0]
    assert set(first) >= {"kind", "title", "due_at", "url"}
    assert first["url"].startswith("/") and first["url"].endswith(f"#meeting-{invited.pk}")
    due = dt.datetime.fromisoformat(first["due_at"])
    assert abs(due - invited.starts_at) < dt.timedelta(seconds=1) and due.utcoffset() in (
        dt.timedelta(hours=-5),
        dt.timedelta(hours=-4),
    )  # Montréal's offset, hers
    assert items[2]["due_at"] is None
    # the signed-in browser reads the same list
    session = signed_in(mentee).get("/api/me/todo").json()
    assert [i["kind"] for i in session] == [i["kind"] for i in items]


def test_masterclass_open_to_sign_up_is_an_item_until_joined(program_a, mentor, mentee):
    session = group_session_create(
        program=program_a,
        by=program_a.managers.first(),
        kind="masterclass",
        title="Réussir son entretien",
        starts_at=timezone.now() + dt.timedelta(days=5),
        duration_minutes=60,
        led_by=mentor,
        capacity=10,
    )
    client = signed_in(mentee)
    html = client.get(reverse("space:home")).content.decode()
    assert "masterclass" in _kinds(html) and "Réussir son entretien" in html
    client.post(reverse("meetings:masterclasses"), {"meeting": session.pk})
    assert "masterclass" not in _kinds(client.get(reverse("space:home")).content.decode())


# --- The photo ----------------------------------------------------------------------------


def _image(size, fmt="JPEG", exif=None) -> bytes:
    out = io.BytesIO()
    picture = Image.new("RGB", size, "teal")
    kwargs = {"exif": exif} if exif is not None else {}
    picture.save(out, fmt, **kwargs)
    return out.getvalue()


def _upload(client, name, content, content_type="image/jpeg"):
    return client.post(
        reverse("accounts:profile"),
        {"language": "fr", "photo": SimpleUploadedFile(name, content, content_type)},
        follow=True,
    ).content.decode()


def test_photo_is_cut_square_resized_and_stripped(mentee):
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0132] = "2026:01:01 10:00:00"
    html = _upload(signed_in(mentee), "me.jpg", _image((1200, 800), exif=exif.tobytes()))
    assert "Profil enregistré" in html
    mentee.refresh_from_db()
    with mentee.photo.open("rb") as handle, Image.open(handle) as kept:
        assert kept.size == (512, 512)
        assert kept.format == "JPEG"
        assert not kept.getexif()
    assert signed_in(mentee).get(mentee.photo_url).status_code == 200  # the checked view


def test_photo_not_an_image_or_too_big_gets_a_clear_message(mentee):
    client = signed_in(mentee)
    html = _upload(client, "cv.jpg", b"%PDF-1.4 not a picture", "application/pdf")
    assert "Ce fichier n&#x27;est pas une image" in html
    huge = _image((8000, 6000), fmt="PNG")  # 48 million pixels in a small file
    assert len(huge) < 5 * 1024 * 1024
    assert "L&#x27;image est trop grande (8000 × 6000 pixels)" in _upload(client, "big.png", huge)
    heavy = b"\xff\xd8\xff" + b"0" * (5 * 1024 * 1024 + 10)
    assert "La photo dépasse 5 Mo" in _upload(client, "heavy.jpg", heavy)
    mentee.refresh_from_db()
    assert not mentee.photo


# --- Every kind, in its place ---------------------------------------------------------------


def _past_one_to_one(program, *people, hours_ago=3):
    return meeting_create(
        program=program,
        attendees=list(people),
        starts_at=timezone.now() - dt.timedelta(hours=hours_ago),
        duration_minutes=30,
        status="scheduled",
        by=None,
    )


@pytest.fixture
def everything_waits(invited, program_a, manager_a, mentor, mentee):
    """Léa has one item of each kind: an invitation (in three days), a past meeting to
    evaluate, Marc's message to answer, a survey closing in ten days, a masterclass in five
    days, an interview to plan as a manager, no availability of her own, an incomplete
    profile."""
    from cohorte.campaigns import services as campaigns
    from cohorte.conversations import services as conversations
    from cohorte.surveys import services as surveys

    _past_one_to_one(program_a, mentor, mentee)
    conversation = conversations.conversation_start(
        program=program_a, author=mentor, others=[mentee]
    )
    conversations.message_send(conversation=conversation, sender=mentor, body="Une question ?")
    survey = surveys.survey_create(
        program=program_a,
        title_fr="Bilan du trimestre",
        questions=[{"key": "q", "kind": "scale", "label": "Satisfaction", "required": True}],
        opens_at=timezone.now() - dt.timedelta(hours=1),
        closes_at=timezone.now() + dt.timedelta(days=10),
        by=manager_a,
    )
    surveys.invitations_create(survey=survey, members=[mentee], now=timezone.now())
    group_session_create(
        program=program_a,
        by=manager_a,
        kind="masterclass",
        title="Réussir son entretien",
        starts_at=timezone.now() + dt.timedelta(days=5),
        duration_minutes=60,
        led_by=mentor,
        capacity=10,
    )
    campaign = campaigns.campaign_create(
        organisation=mentee.organisation,
        by=manager_a,
        name="Entretiens annuels",
        kind="annual",
        start_date=timezone.localdate(),
        end_date=timezone.localdate() + dt.timedelta(days=30),
        circuit=[{"role": "collaborator", "deadline_days": 7}],
    )
    campaigns.interviews_add(
        campaign=campaign,
        by=manager_a,
        lines=[{"collaborator_email": mentor.email, "manager_email": mentee.email}],
    )
    return invited


def test_every_kind_waits_most_urgent_first_in_the_page_the_api_and_its_schema(
    everything_waits, mentee, client, django_assert_max_num_queries
):
    from cohorte.space.kinds import TODO_KINDS

    with django_assert_max_num_queries(60):
        html = signed_in(mentee).get(reverse("space:home")).content.decode()
    # dated by their due date (invitation in 3 days, masterclass in 5, evaluation's wait of
    # 7 days after the meeting, survey closing in 10), then the undated by how much waits
    assert _kinds(html) == [
        "invitation",
        "masterclass",
        "evaluation",
        "survey",
        "conversation",
        "interview",
        "availability",
        "profile",
    ]
    assert _header_count(html) == 8
    assert "Répondez à Marc Mentor" in html and "Bilan du trimestre" in html
    items = Api(mentee).get("/api/me/todo").json()
    assert [i["kind"] for i in items] == _kinds(html)
    assert all(i["url"].startswith("/") and i["title"] for i in items)
    dated = [dt.datetime.fromisoformat(i["due_at"]) for i in items if i["due_at"]]
    assert len(dated) == 4 and dated == sorted(dated)
    # the schema names exactly these kinds, as an enum
    schema = client.get("/api/openapi.json").json()
    kind = schema["components"]["schemas"]["TodoItemOut"]["properties"]["kind"]
    assert kind["enum"] == list(TODO_KINDS)
    assert set(TODO_KINDS) == set(_kinds(html))


def test_evaluating_a_past_meeting_from_todo_takes_one_click(program_a, mentor, mentee, outsider):
    meeting = _past_one_to_one(program_a, mentor, mentee)
    client = signed_in(mentee)
    html = client.get(reverse("space:home")).content.decode()
    assert "evaluation" in _kinds(html)
    assert "En attente d&#x27;évaluation" in html and "Elle a eu lieu" in html
    before = _header_count(html)
    done = client.post(
        reverse("space:evaluate"),
        {"meeting": meeting.pk, "took_place": "yes", "next": "/mon-espace/#todo"},
        follow=True,
    ).content.decode()
    assert "Merci : votre évaluation est enregistrée." in done
    assert "evaluation" not in _kinds(done) and _header_count(done) == before - 1
    assert "Vous avez dit qu'elle a eu lieu" in done
    assert MeetingAttendee.objects.get(meeting=meeting, member=mentee).took_place is True
    meeting.refresh_from_db()
    assert meeting.status == "scheduled"  # one side only: not confirmed yet
    # his side, from his space too: both said yes, the meeting is held (« Tenue »)
    signed_in(mentor).post(reverse("space:evaluate"), {"meeting": meeting.pk, "took_place": "yes"})
    meeting.refresh_from_db()
    assert meeting.status == "confirmed"
    assert ">Tenue<" in client.get(reverse("space:home")).content.decode()
    assert AuditEntry.objects.filter(action="meeting.evaluated", actor=mentee).count() == 1


def test_a_quick_evaluation_keeps_the_rating_and_refuses_what_it_must(
    program_a, mentor, mentee, outsider, invited
):
    from cohorte.meetings.evaluations import meeting_evaluate

    meeting = _past_one_to_one(program_a, mentor, mentee)
    meeting_evaluate(meeting=meeting, member=mentee, took_place=True, rating=4, comment="Utile")
    client = signed_in(mentee)
    client.post(reverse("space:evaluate"), {"meeting": meeting.pk, "took_place": "no"})
    kept = MeetingAttendee.objects.get(meeting=meeting, member=mentee)
    assert (kept.took_place, kept.rating, kept.comment) == (False, 4, "Utile")
    page = client.get(reverse("space:home")).content.decode()
    assert "Vous avez dit qu'elle n'a pas eu lieu · note 4/5" in page
    assert ">Non tenue<" in page
    # a meeting still to come, a made-up answer, someone else's meeting, a bad id
    early = client.post(
        reverse("space:evaluate"), {"meeting": invited.pk, "took_place": "yes"}, follow=True
    ).content.decode()
    assert "n&#x27;est pas terminée" in early
    odd = client.post(
        reverse("space:evaluate"), {"meeting": meeting.pk, "took_place": "maybe"}, follow=True
    ).content.decode()
    assert "Dites si la rencontre a eu lieu." in odd
    assert (
        signed_in(outsider)
        .post(reverse("space:evaluate"), {"meeting": meeting.pk, "took_place": "yes"})
        .status_code
        == 404
    )
    assert (
        client.post(reverse("space:evaluate"), {"meeting": "1e9", "took_place": "yes"}).status_code
        == 404
    )
    assert client.get(reverse("space:evaluate")).status_code == 405


def test_past_meetings_read_the_rencontres_words(program_a, mentor, mentee):
    from cohorte.meetings.models import Meeting

    cancelled = _past_one_to_one(program_a, mentor, mentee, hours_ago=30)
    _past_one_to_one(program_a, mentor, mentee, hours_ago=5)
    meeting_create(
        program=program_a,
        attendees=[mentor, mentee],
        starts_at=timezone.now() - dt.timedelta(minutes=10),
        duration_minutes=60,
        status="scheduled",
        by=None,
    )
    # cancelled before it began (an ended meeting is no longer cancelled: it is not held)
    Meeting.objects.filter(pk=cancelled.pk).update(status="cancelled")
    html = signed_in(mentee).get(reverse("space:home")).content.decode()
    past = html[html.index('id="past-title"') :]
    assert ">En ce moment<" in past  # started ten minutes ago, ends in fifty
    assert ">En attente d&#x27;évaluation<" in past
    assert ">Annulée<" in past
    assert ">Programmé<" not in past and ">Programmée<" not in past
    # only the one that is over and not cancelled asks « A-t-elle eu lieu ? »
    assert past.count("A-t-elle eu lieu ?") == 1


# --- A partner's week, in the member's hours ------------------------------------------------


def test_a_partners_windows_read_in_the_members_zone_across_the_clock_change():
    from zoneinfo import ZoneInfo

    from cohorte.space.windows import same_zone, windows_in_zone

    montreal, paris = ZoneInfo("America/Montreal"), ZoneInfo("Europe/Paris")
    monday_9_to_12 = Availability(weekday=0, start=dt.time(9), end=dt.time(12))
    sunday_late = Availability(weekday=6, start=dt.time(20), end=dt.time(23))

    def read(week_of):
        return [
            (w.weekday, w.start, w.end, w.end_weekday)
            for w in windows_in_zone(
                [sunday_late, monday_9_to_12], source=montreal, target=paris, week_of=week_of
            )
        ]

    # in January, 6 hours apart; Sunday 20h–23h in Montréal is Monday 2h–5h in Paris
    assert read(dt.date(2027, 1, 4)) == [
        (0, dt.time(2), dt.time(5), 0),
        (0, dt.time(15), dt.time(18), 0),
    ]
    # the week America moved its clocks (14 March 2027) and Europe not yet: 5 hours apart
    assert read(dt.date(2027, 3, 15))[1] == (0, dt.time(14), dt.time(17), 0)
    # a window that crosses midnight where it is read says on which day it ends
    late = Availability(weekday=0, start=dt.time(16), end=dt.time(20))
    (shown,) = windows_in_zone([late], source=montreal, target=paris, week_of=dt.date(2027, 1, 4))
    assert (shown.day_name, shown.start, shown.end_day_name, shown.end) == (
        "lun",
        dt.time(22),
        "mar",
        dt.time(2),
    )
    assert same_zone(paris, ZoneInfo("Europe/Brussels"), on=dt.date(2027, 1, 4))
    assert not same_zone(paris, montreal, on=dt.date(2027, 1, 4))


def test_her_mentors_week_shows_in_her_hours_on_her_space_and_his_page(invited, mentee, mentor):
    mentor.timezone = "America/Montreal"
    mentor.save(update_fields=["timezone"])
    Availability.objects.filter(member=mentor).delete()
    Availability.objects.create(member=mentor, weekday=2, start=dt.time(9), end=dt.time(11))
    client = signed_in(mentee)  # Léa is in Paris, as her organisation
    from zoneinfo import ZoneInfo

    # next Wednesday, 9h and 11h in Montréal, read in Paris (15h–17h but for a few weeks)
    today = timezone.localdate(timezone=ZoneInfo("Europe/Paris"))
    wednesday = today + dt.timedelta(days=(2 - today.weekday()) % 7)
    start, end = (
        dt.datetime.combine(wednesday, dt.time(h), ZoneInfo("America/Montreal"))
        .astimezone(ZoneInfo("Europe/Paris"))
        .strftime("%Hh%M")
        for h in (9, 11)
    )
    home = client.get(reverse("space:home")).content.decode()
    relations = home[home.index('id="relations-title"') : home.index('id="programs-title"')]
    assert f"mer {start}–{end}" in relations, relations
    from cohorte.meetings.models import Relationship

    pair = Relationship.objects.get(mentor=mentor, mentee=mentee)
    page = client.get(reverse("space:relationship", args=[pair.pk])).content.decode()
    assert f"mer {start}–{end}" in page
    assert "Son fuseau horaire : America/Montreal." in page


def test_her_relationship_page_leads_to_writing_to_him_and_their_notes(invited, mentee, mentor):
    from cohorte.meetings.models import Relationship

    pair = Relationship.objects.get(mentor=mentor, mentee=mentee)
    client = signed_in(mentee)
    page = client.get(reverse("space:relationship", args=[pair.pk])).content.decode()
    write = re.search(r'href="([^"]+)">Écrire à Marc<', page).group(1).replace("&amp;", "&")
    start = client.get(write)
    assert start.status_code == 200 and "Marc Mentor" in start.content.decode()
    notes = re.search(r'href="([^"]+)">Nos notes<', page).group(1)
    assert client.get(notes).status_code == 200


def test_the_header_count_follows_what_she_does_elsewhere(everything_waits, mentee, mentor):
    from cohorte.campaigns.models import Interview
    from cohorte.campaigns.services import interview_plan
    from cohorte.conversations.models import Conversation
    from cohorte.conversations.services import message_send
    from cohorte.surveys.models import Invitation
    from cohorte.surveys.services import response_save

    client = signed_in(mentee)
    assert _header_count(client.get(reverse("space:home")).content.decode()) == 8
    elsewhere = reverse("meetings:availability")
    Availability.objects.create(member=mentee, weekday=0, start=dt.time(9), end=dt.time(10))
    assert _header_count(client.get(elsewhere).content.decode()) == 7
    message_send(conversation=Conversation.objects.get(), sender=mentee, body="Voici ma réponse.")
    assert _header_count(client.get(elsewhere).content.decode()) == 6
    response_save(
        invitation=Invitation.objects.get(member=mentee), answers=[{"question": "q", "value": 4}]
    )
    assert _header_count(client.get(elsewhere).content.decode()) == 5
    interview_plan(
        interview=Interview.objects.get(manager=mentee),
        by=mentee,
        scheduled_at=timezone.now() + dt.timedelta(days=2),
    )
    assert _header_count(client.get(elsewhere).content.decode()) == 4


def test_in_her_language_and_her_time_zone_with_her_programmes_and_notices(invited, mentee, mentor):
    from zoneinfo import ZoneInfo

    mentee.language, mentee.timezone = "en", "America/Montreal"
    mentee.save(update_fields=["language", "timezone"])
    # Marc asks to move their meeting: Léa's bell and her space say so
    signed_in(mentor).post(
        reverse("space:reschedule"), {"meeting": invited.pk, "message": "Vendredi ?"}
    )
    client = signed_in(mentee)
    html = client.get(reverse("space:home")).content.decode()
    assert "My space" in html and "To do" in html and "Upcoming meetings" in html
    assert "America/Montreal" in html
    local = invited.starts_at.astimezone(ZoneInfo("America/Montreal"))
    assert f"{local:%H}:{local:%M}" in html  # her hours, not Paris's
    notices = html[html.index('id="notices-title"') : html.index('id="past-title"')]
    assert "Marc Mentor" in notices  # « … asks to reschedule the meeting … »
    # her programme, one click away, with the meeting in it
    link = reverse("space:program", args=[invited.program_id])
    assert f'href="{link}"' in html
    program = client.get(link).content.decode()
    assert invited.program.name in program and f'id="meeting-{invited.pk}"' in program


def test_her_space_leads_to_her_conversations_and_her_surveys(mentee):
    client = signed_in(mentee)
    html = client.get(reverse("space:home")).content.decode()
    for name in ("conversations:inbox", "surveys:mine"):
        url = reverse(name)
        assert f'href="{url}"' in html, name
        assert client.get(url).status_code == 200, name

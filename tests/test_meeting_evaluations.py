"""Meetings evaluated by both sides (issue 12 §3): a 1:1 counts as confirmed only when both
said it took place; one « non » makes it not held; the manager's override is audited; each
attendee is asked once, after the end, by e-mail and in « À faire »."""

import datetime as dt
import zoneinfo
from email.header import decode_header, make_header
from html import unescape

import pytest
from django.utils import timezone

from cohorte.core.models import AuditEntry
from cohorte.meetings import evaluations
from cohorte.meetings.models import Meeting, MeetingAttendee, MeetingStatus
from cohorte.meetings.services import meeting_create

from .conftest import body_of, run_tasks, signed_in


def past_meeting(program, *people, hours_ago=2, minutes=30, status="scheduled") -> Meeting:
    return meeting_create(
        program=program,
        attendees=list(people),
        starts_at=timezone.now() - dt.timedelta(hours=hours_ago),
        duration_minutes=minutes,
        status=status,
        by=None,
    )


def participant_row(api, program, member):
    rows = api.get(f"/api/programs/{program.pk}/participants").json()["results"]
    return next(row for row in rows if row["member_id"] == member.pk)


def evaluate(api, meeting, took_place=True, **extra):
    return api.post(f"/api/meetings/{meeting.pk}/evaluation", {"took_place": took_place, **extra})


@pytest.mark.django_db
def test_one_side_leaves_it_unconfirmed_both_sides_confirm_it_and_counts_move(
    api_as, program_a, manager_a, mentor, mentee
):
    meeting = past_meeting(program_a, mentee, mentor)
    manager = api_as(manager_a)
    mentor.refresh_from_db()
    assert mentor.mentoring_minutes == 0
    assert manager.get(f"/api/meetings/{meeting.pk}").json()["status"] == "awaiting_evaluation"

    first = evaluate(api_as(mentee), meeting, rating=5, comment="Très utile, merci.")
    assert first.status_code == 200, first.content
    assert first.json()["status"] == "awaiting_evaluation"
    assert participant_row(manager, program_a, mentee)["confirmed_meetings"] == 0

    second = evaluate(api_as(mentor), meeting, rating=4, comment="Léa a bien préparé.")
    body = second.json()
    assert body["status"] == "confirmed"
    assert {e["email"]: (e["took_place"], e["rating"], e["comment"]) for e in body["evaluations"]}
    assert sorted((e["email"], e["rating"]) for e in body["evaluations"]) == [
        ("lea.mentee@poitiers.example", 5),
        ("marc.mentor@poitiers.example", 4),
    ]
    row = participant_row(manager, program_a, mentee)
    assert (row["confirmed_meetings"], row["progress"]) == (1, 33)
    mentor.refresh_from_db()
    assert mentor.mentoring_minutes == 30  # the hours follow
    # the existing fields are still there
    assert {"id", "uid", "program", "kind", "starts_at", "attendees"} <= set(body)
    page = signed_in(manager_a).get(f"/programmes/{program_a.pk}/relations/?tab=meetings")
    html = page.content.decode()
    assert "Tenue" in html and "Très utile, merci." in html and "Léa a bien préparé." in html
    assert "Programmée" not in html


@pytest.mark.django_db
def test_one_no_makes_it_not_held_flags_the_disagreement_and_the_override_is_audited(
    api_as, program_a, manager_a, mentor, mentee
):
    meeting = past_meeting(program_a, mentee, mentor)
    evaluate(api_as(mentee), meeting, rating=3)
    answer = evaluate(api_as(mentor), meeting, took_place=False, comment="Personne n'est venu.")
    assert answer.json()["status"] == "not_held"
    manager = api_as(manager_a)
    row = participant_row(manager, program_a, mentee)
    assert row["confirmed_meetings"] == 0 and "unsettled_evaluation" in row["flags"]
    table = signed_in(manager_a).get(f"/programmes/{program_a.pk}/").content.decode()
    assert "les deux côtés ne sont pas d&#x27;accord" in table
    tab = signed_in(manager_a).get(f"/programmes/{program_a.pk}/relations/?tab=meetings")
    assert "Non tenue" in tab.content.decode() and "Désaccord" in tab.content.decode()

    assert signed_in(manager_a).post(f"/rencontres/{meeting.pk}/tenue/").status_code == 302
    meeting.refresh_from_db()
    assert (meeting.status, meeting.status_overridden) == (MeetingStatus.CONFIRMED, True)
    entry = AuditEntry.objects.get(action="meeting.held")
    assert entry.actor_id == manager_a.pk
    assert entry.data == {"old": "not_held", "new": "confirmed", "override": True}
    row = participant_row(manager, program_a, mentee)
    assert row["confirmed_meetings"] == 1 and "unsettled_evaluation" not in row["flags"]
    # an evaluation after the override no longer moves it
    evaluate(api_as(mentor), meeting, took_place=False)
    assert Meeting.objects.get(pk=meeting.pk).status == MeetingStatus.CONFIRMED


@pytest.mark.django_db
def test_who_may_evaluate_when_and_with_what(
    api_as, program_a, manager_a, manager_b, mentor, mentee, outsider
):
    meeting = past_meeting(program_a, mentee, mentor)
    assert evaluate(api_as(manager_a), meeting).status_code == 403  # sees it, did not attend
    assert evaluate(api_as(manager_b), meeting).status_code == 404  # another programme
    assert evaluate(api_as(outsider), meeting).status_code == 404
    assert api_as(manager_b).get(f"/api/meetings/{meeting.pk}").status_code == 404
    assert api_as(mentee).get(f"/api/meetings/{meeting.pk}").status_code == 200
    lea = api_as(mentee)
    assert evaluate(lea, meeting, rating=6).status_code == 400
    assert evaluate(lea, meeting, rating=0).status_code == 400
    too_long = evaluate(lea, meeting, comment="x" * 2001)
    assert too_long.status_code == 400 and too_long.json()["errors"][0]["field"]
    assert evaluate(lea, meeting, rating=2, comment="Bof").status_code == 200
    assert evaluate(lea, meeting, rating=4, comment="En fait, bien").status_code == 200
    attendance = MeetingAttendee.objects.get(meeting=meeting, member=mentee)
    assert (attendance.rating, attendance.comment) == (4, "En fait, bien")
    assert AuditEntry.objects.filter(action="meeting.evaluated").count() == 2

    soon = meeting_create(
        program=program_a,
        attendees=[mentee, mentor],
        starts_at=timezone.now() - dt.timedelta(minutes=29, seconds=58),
        duration_minutes=30,
        status="scheduled",
        by=None,
    )
    refused = evaluate(lea, soon)
    assert refused.status_code == 409 and "terminée" in refused.json()["message"]
    assert lea.get(f"/api/meetings/{soon.pk}").json()["status"] == "scheduled"


def test_the_end_is_compared_in_utc_to_the_second():
    paris = dt.timezone(dt.timedelta(hours=1))
    meeting = Meeting(starts_at=dt.datetime(2026, 3, 1, 10, 0, tzinfo=paris), duration_minutes=30)
    end = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
    assert not meeting.has_ended(end - dt.timedelta(seconds=1))
    assert meeting.has_ended(end) and meeting.has_ended(end + dt.timedelta(milliseconds=400))
    assert meeting.shown_status(end) == "awaiting_evaluation"
    assert meeting.shown_status(end - dt.timedelta(seconds=1)) == "scheduled"


@pytest.mark.django_db
def test_a_past_meeting_never_shows_programmee_with_reporter_annuler(
    program_a, manager_a, mentor, mentee
):
    past = past_meeting(program_a, mentee, mentor)
    future = past_meeting(program_a, mentee, mentor, hours_ago=-48)
    late = past_meeting(program_a, mentee, mentor, hours_ago=24 * 8)
    html = unescape(
        signed_in(manager_a)
        .get(f"/programmes/{program_a.pk}/relations/?tab=meetings")
        .content.decode()
    )
    rows = {
        pk: html.split(f'data-meeting="{pk}"')[1].split("</tr>")[0]
        for pk in (past.pk, future.pk, late.pk)
    }
    assert "En attente d'évaluation" in rows[past.pk] and "Reporter" not in rows[past.pk]
    assert "Marquer comme tenue" in rows[past.pk]
    assert "Programmée" in rows[future.pk] and "Reporter" in rows[future.pk]
    assert "Sans évaluation" in rows[late.pk] and "Sans évaluation" not in rows[past.pk]


@pytest.mark.django_db
def test_no_answer_after_the_wait_raises_the_flag_with_its_reason(
    api_as, program_a, manager_a, mentor, mentee
):
    recent = past_meeting(program_a, mentee, mentor)
    manager = api_as(manager_a)
    assert "unsettled_evaluation" not in participant_row(manager, program_a, mentee)["flags"]
    Meeting.objects.filter(pk=recent.pk).update(
        starts_at=timezone.now() - dt.timedelta(days=evaluations.EVALUATION_WAIT_DAYS, hours=1)
    )
    assert "unsettled_evaluation" in participant_row(manager, program_a, mentee)["flags"]
    flagged = manager.get(f"/api/programs/{program_a.pk}/participants", flagged="true").json()
    assert [row["member_id"] for row in flagged["results"]] == [mentee.pk]
    table = signed_in(manager_a).get(f"/programmes/{program_a.pk}/").content.decode()
    assert "sans évaluation après 7 jours" in table
    # the manager settles it: not held, audited, no more ❗
    assert signed_in(manager_a).post(f"/rencontres/{recent.pk}/non-tenue/").status_code == 302
    assert Meeting.objects.get(pk=recent.pk).status == MeetingStatus.NOT_HELD
    assert AuditEntry.objects.get(action="meeting.not_held").actor_id == manager_a.pk
    assert "unsettled_evaluation" not in participant_row(manager, program_a, mentee)["flags"]


@pytest.mark.django_db
def test_the_evaluation_page_and_the_todo_item(program_a, manager_a, mentor, mentee, outsider):
    meeting = past_meeting(program_a, mentee, mentor)
    url = f"/rencontres/{meeting.pk}/evaluation/"
    items = evaluations.evaluation_items(mentee)
    assert [(i.kind, i.url) for i in items] == [("evaluation", url)]
    assert "Marc Mentor" in items[0].title
    client = signed_in(mentee)
    page = client.get(url).content.decode()
    assert 'name="took_place"' in page and 'name="rating"' in page
    missing = client.post(url, {"rating": "4"})
    assert (
        missing.status_code == 400
        and "Dites si la rencontre a eu lieu." in missing.content.decode()
    )
    bad = client.post(url, {"took_place": "yes", "rating": "9"})
    assert bad.status_code == 400 and "La note va de 1 à 5." in bad.content.decode()
    assert (
        client.post(url, {"took_place": "yes", "rating": "4", "comment": "Top"}).status_code == 302
    )
    attendance = MeetingAttendee.objects.get(meeting=meeting, member=mentee)
    assert (attendance.took_place, attendance.rating, attendance.comment) == (True, 4, "Top")
    assert evaluations.evaluation_items(mentee) == []
    assert "Évaluée le" in client.get(url).content.decode()
    assert signed_in(manager_a).get(url).status_code == 403
    assert signed_in(outsider).get(url).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_how_was_your_meeting_is_sent_once_per_attendee_even_when_the_task_runs_twice(
    program_a, mentor, mentee, smtp
):
    from cohorte.meetings.tasks import meeting_feedback_send

    meeting = past_meeting(program_a, mentee, mentor)
    past_meeting(program_a, mentee, mentor, hours_ago=-2)  # to come: nobody asked yet
    meeting_feedback_send.enqueue()
    meeting_feedback_send.enqueue()
    run_tasks()
    run_tasks()
    meeting_feedback_send.enqueue()
    run_tasks()
    assert sorted(m["X-Envelope-To"] for m in smtp) == [
        "lea.mentee@poitiers.example",
        "marc.mentor@poitiers.example",
    ]
    to_lea = next(m for m in smtp if m["X-Envelope-To"] == "lea.mentee@poitiers.example")
    subject = str(make_header(decode_header(to_lea["Subject"])))
    assert subject == "Comment s'est passée votre rencontre ?"
    text = body_of(to_lea)
    assert f"/rencontres/{meeting.pk}/evaluation/" in text and "Marc Mentor" in text


@pytest.mark.django_db
def test_the_api_takes_a_json_boolean_and_a_whole_rating_from_1_to_5(
    api_as, program_a, mentor, mentee
):
    meeting = past_meeting(program_a, mentee, mentor)
    lea = api_as(mentee)
    for body, field in [
        ({"took_place": True, "rating": 0}, "rating"),
        ({"took_place": True, "rating": 6}, "rating"),
        ({"took_place": True, "rating": "3"}, "rating"),
        ({"took_place": True, "rating": 3.0}, "rating"),
        ({"took_place": True, "rating": True}, "rating"),
        ({"rating": 4}, "took_place"),
        ({"took_place": None}, "took_place"),
        ({"took_place": "yes"}, "took_place"),
        ({"took_place": "false"}, "took_place"),
        ({"took_place": 1}, "took_place"),
    ]:
        answer = lea.post(f"/api/meetings/{meeting.pk}/evaluation", body)
        assert answer.status_code == 400, (body, answer.content)
        [error] = answer.json()["errors"]
        assert error["field"] == field and error["reason"][0].islower(), (body, error)
        assert "Input should" not in error["reason"]  # pydantic's English never leaks
    assert MeetingAttendee.objects.get(meeting=meeting, member=mentee).evaluated_at is None
    # null or no rating and comment: none given
    answer = evaluate(lea, meeting, took_place=False, rating=None, comment=None)
    assert answer.status_code == 200, answer.content
    mine = next(e for e in answer.json()["evaluations"] if e["email"] == mentee.email)
    assert mine == {"email": mentee.email, "took_place": False, "rating": None, "comment": ""}
    assert answer.json()["status"] == "not_held"


@pytest.mark.django_db
def test_from_the_very_end_on_whatever_the_zone_the_meeting_was_given_in(program_a, mentor, mentee):
    montreal = zoneinfo.ZoneInfo("America/Montreal")
    start = (timezone.now() - dt.timedelta(hours=3)).astimezone(montreal).replace(microsecond=0)
    meeting = meeting_create(
        program=program_a,
        attendees=[mentee, mentor],
        starts_at=start,
        duration_minutes=45,
        status="scheduled",
        by=None,
    )
    end = start.astimezone(dt.UTC) + dt.timedelta(minutes=45)
    with pytest.raises(evaluations.EvaluationRefused) as refused:
        evaluations.meeting_evaluate(
            meeting=meeting, member=mentee, took_place=True, now=end - dt.timedelta(seconds=1)
        )
    assert refused.value.status == 409
    evaluations.meeting_evaluate(meeting=meeting, member=mentee, took_place=True, now=end)
    assert MeetingAttendee.objects.get(meeting=meeting, member=mentee).took_place is True
    # the night clocks go back in Paris: 02:30 CEST + 60 minutes is 01:30 UTC, not 02:30
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    night = Meeting(starts_at=dt.datetime(2026, 10, 25, 2, 30, tzinfo=paris), duration_minutes=60)
    assert night.ends_at == dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC)
    assert night.has_ended(dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC))


@pytest.mark.django_db
def test_a_group_session_takes_each_attendees_evaluation_and_the_manager_decides(
    api_as, program_a, manager_a, mentor, mentee
):
    session = past_meeting(program_a, mentee, mentor)
    Meeting.objects.filter(pk=session.pk).update(kind="masterclass", title="Atelier CV")
    for member in (mentee, mentor):
        answer = evaluate(api_as(member), session, rating=5, comment="Clair")
        assert answer.status_code == 200
        assert answer.json()["status"] == "awaiting_evaluation"  # theirs, not decisive
    assert [e["rating"] for e in answer.json()["evaluations"]] == [5, 5]
    assert evaluate(api_as(manager_a), session).status_code == 403
    assert signed_in(manager_a).post(f"/rencontres/{session.pk}/tenue/").status_code == 302
    assert api_as(manager_a).get(f"/api/meetings/{session.pk}").json()["status"] == "confirmed"
    assert AuditEntry.objects.get(action="meeting.held").data["override"] is True


@pytest.mark.django_db
def test_the_comment_columns_hold_each_sides_own_words(program_a, manager_a, mentor, mentee):
    from cohorte.meetings.models import Relationship

    # recorded through the API without a relationship, the professional listed first
    loose = past_meeting(program_a, mentor, mentee)
    # a relationship's meeting, its mentee listed first
    paired = past_meeting(program_a, mentee, mentor, hours_ago=5)
    relationship = Relationship.objects.create(program=program_a, mentor=mentor, mentee=mentee)
    Meeting.objects.filter(pk=paired.pk).update(relationship=relationship)
    for meeting, words in ((loose, "sans relation"), (paired, "jumelés")):
        evaluations.meeting_evaluate(
            meeting=meeting, member=mentor, took_place=True, comment=f"Marc {words}"
        )
        evaluations.meeting_evaluate(
            meeting=meeting, member=mentee, took_place=True, comment=f"Léa {words}"
        )
    html = unescape(
        signed_in(manager_a)
        .get(f"/programmes/{program_a.pk}/relations/?tab=meetings")
        .content.decode()
    )
    for meeting, words in ((loose, "sans relation"), (paired, "jumelés")):
        row = html.split(f'data-meeting="{meeting.pk}"')[1].split("</tr>")[0]
        cells = row.split("<td")
        mentor_cell = next(c for c in cells if "mentor-comment" in c)
        mentee_cell = next(c for c in cells if "mentee-comment" in c)
        assert f"Marc {words}" in mentor_cell and "Léa" not in mentor_cell
        assert f"Léa {words}" in mentee_cell and "Marc" not in mentee_cell
        assert "Tenue" in row
        # the names above the columns are the same people
        assert "Marc Mentor" in cells[1] and "Léa Mentee" in cells[2]


@pytest.mark.django_db
def test_a_past_meeting_reads_awaiting_evaluation_in_every_api_and_page(
    api_as, program_a, manager_a, mentor, mentee
):
    from cohorte.meetings.models import Relationship

    past = past_meeting(program_a, mentee, mentor)
    relationship = Relationship.objects.create(program=program_a, mentor=mentor, mentee=mentee)
    Meeting.objects.filter(pk=past.pk).update(relationship=relationship)
    manager = api_as(manager_a)
    today = timezone.localdate(timezone=program_a.organisation.tzinfo)
    window = {"from": str(today - dt.timedelta(days=1)), "to": str(today + dt.timedelta(days=1))}
    [row] = manager.get(f"/api/programs/{program_a.pk}/meetings", **window).json()
    assert row["id"] == past.pk and row["status"] == "awaiting_evaluation"
    created = manager.post(
        f"/api/programs/{program_a.pk}/meetings",
        {
            "attendees": [mentee.email, mentor.email],
            "starts_at": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
            "duration_minutes": 30,
        },
    )
    assert created.status_code == 201 and created.json()["status"] == "awaiting_evaluation"
    # the calendar: no « Reporter / Annuler » on a session that is over (two hours ago may
    # be yesterday: the window holds both days)
    feed = signed_in(manager_a).get(
        f"/api/programs/{program_a.pk}/calendar",
        {
            "start": f"{today - dt.timedelta(days=1)}T00:00:00",
            "end": f"{today + dt.timedelta(days=1)}T00:00:00",
        },
    )
    event = next(e for e in feed.json() if e["id"] == str(past.pk))
    props = event["extendedProps"]
    assert props["statusLabel"] == "En attente d'évaluation" and props["status"] == (
        "awaiting_evaluation"
    )
    assert props["rescheduleUrl"] == "" and props["cancelUrl"] == ""
    assert event["startEditable"] is False
    # the relationship's page, and what every other page prints of it
    page = unescape(signed_in(manager_a).get(f"/relations/{relationship.pk}/").content.decode())
    past_rows = page.split("Réunions passées")[1]
    assert "En attente d'évaluation" in past_rows and "Programmée" not in past_rows
    assert "Reporter" not in past_rows
    assert Meeting.objects.get(pk=past.pk).get_status_display() == "En attente d'évaluation"
    # the member's own page (« Mon espace », its past meetings)
    mine = unescape(signed_in(mentee).get("/mon-espace/").content.decode())
    past_part = mine.split("Rencontres passées")[1]
    assert f'id="meeting-{past.pk}"' in past_part
    assert "En attente d'évaluation" in past_part and "Programmé" not in past_part
    evaluations.meeting_evaluate(meeting=past, member=mentee, took_place=False)
    assert Meeting.objects.get(pk=past.pk).get_status_display() == "Non tenue"


@pytest.mark.django_db(transaction=True)
def test_the_scheduler_asks_once_and_the_todo_lists_it_until_answered(
    api_as, program_a, mentor, mentee, smtp
):
    from cohorte.activity.tasks import scheduler_tick
    from cohorte.core import todo

    meeting = past_meeting(program_a, mentee, mentor)
    scheduler_tick.enqueue()
    run_tasks()
    scheduler_tick.enqueue()
    run_tasks()
    asked = [m for m in smtp if "rencontre ?" in str(make_header(decode_header(m["Subject"])))]
    assert sorted(m["X-Envelope-To"] for m in asked) == [mentee.email, mentor.email]
    url = f"/rencontres/{meeting.pk}/evaluation/"
    assert [(i.kind, i.url) for i in todo.items_for(mentee) if i.kind == "evaluation"] == [
        ("evaluation", url)
    ]
    listed = api_as(mentee).get("/api/me/todo").json()  # « Mon espace »'s API
    assert [i["url"] for i in listed if i["kind"] == "evaluation"] == [url]
    evaluate(api_as(mentee), meeting)
    assert [i for i in todo.items_for(mentee) if i.kind == "evaluation"] == []
    assert [i.kind for i in todo.items_for(mentor)].count("evaluation") == 1


@pytest.mark.django_db
def test_a_meeting_recorded_as_held_counts_and_is_an_override(
    api_as, program_a, manager_a, mentor, mentee
):
    manager = api_as(manager_a)
    created = manager.post(
        f"/api/programs/{program_a.pk}/meetings",
        {
            "attendees": [mentee.email, mentor.email],
            "starts_at": (timezone.now() - dt.timedelta(days=1)).isoformat(),
            "duration_minutes": 30,
            "status": "confirmed",
        },
    ).json()
    assert participant_row(manager, program_a, mentee)["confirmed_meetings"] == 1
    entry = AuditEntry.objects.get(action="meeting.created")
    assert entry.actor_id == manager_a.pk and entry.data == {
        "status": "confirmed",
        "override": True,
    }
    meeting = Meeting.objects.get(pk=created["id"])
    evaluate(api_as(mentor), meeting, took_place=False)
    assert participant_row(manager, program_a, mentee)["confirmed_meetings"] == 1


@pytest.mark.django_db
def test_a_meeting_that_has_ended_is_not_cancelled_but_marked_not_held(
    api_as, program_a, manager_a, mentor, mentee
):
    meeting = past_meeting(program_a, mentee, mentor)
    refused = api_as(manager_a).post(f"/api/meetings/{meeting.pk}/cancel", {"scope": "one"})
    assert refused.status_code == 409 and "non tenue" in refused.json()["message"]
    page = signed_in(manager_a).post(f"/rencontres/{meeting.pk}/annuler/", follow=True)
    assert "elle ne s&#x27;annule plus" in page.content.decode()
    assert Meeting.objects.get(pk=meeting.pk).status == MeetingStatus.SCHEDULED
    to_come = past_meeting(program_a, mentee, mentor, hours_ago=-24)
    done = api_as(manager_a).post(f"/api/meetings/{to_come.pk}/cancel", {"scope": "one"})
    assert done.json() == {"cancelled": 1}


@pytest.mark.django_db
def test_a_meeting_that_has_ended_is_not_moved_and_keeps_its_evaluations(
    api_as, program_a, manager_a, mentor, mentee
):
    meeting = past_meeting(program_a, mentee, mentor)
    evaluate(api_as(mentee), meeting, rating=4)
    later = (timezone.now() + dt.timedelta(days=3)).replace(hour=10, minute=0).isoformat()
    refused = api_as(manager_a).post(
        f"/api/meetings/{meeting.pk}/reschedule", {"starts_at": later, "scope": "one"}
    )
    assert refused.status_code == 409 and "ne se reporte plus" in refused.json()["message"]
    page = signed_in(manager_a).post(
        f"/rencontres/{meeting.pk}/reporter/",
        {"start": later},
        follow=True,
    )
    assert "elle ne se reporte plus" in page.content.decode()
    kept = Meeting.objects.get(pk=meeting.pk)
    assert kept.starts_at == meeting.starts_at
    body = api_as(manager_a).get(f"/api/meetings/{meeting.pk}").json()
    assert [e["rating"] for e in body["evaluations"] if e["email"] == mentee.email] == [4]


@pytest.mark.django_db
def test_one_side_silent_after_the_wait_is_named_in_the_rencontres_tab(
    api_as, program_a, manager_a, mentor, mentee
):
    meeting = past_meeting(program_a, mentee, mentor)
    evaluate(api_as(mentee), meeting, rating=4)
    Meeting.objects.filter(pk=meeting.pk).update(
        starts_at=timezone.now() - dt.timedelta(days=evaluations.EVALUATION_WAIT_DAYS, hours=1)
    )
    assert "unsettled_evaluation" in participant_row(api_as(manager_a), program_a, mentee)["flags"]
    html = unescape(
        signed_in(manager_a)
        .get(f"/programmes/{program_a.pk}/relations/?tab=meetings")
        .content.decode()
    )
    row = html.split(f'data-meeting="{meeting.pk}"')[1].split("</tr>")[0]
    assert "Sans évaluation de Marc Mentor après 7 jours." in row
    assert "En attente d'évaluation" in row and "Reporter" not in row

"""Acting on several participants, and on finished programmes (issue 15 §3): remove several
at once after a confirmation that lists them; in a finished programme, reminding, matching
and booking say it has ended and the reminder's text follows; inactive or archived members
are marked in the table and, chosen for a reminder, are said not to receive it."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cohorte.meetings.services import relationship_create
from cohorte.programs.models import Enrolment, Role

from .conftest import body_of, make_member, run_tasks, signed_in


@pytest.fixture
def three(organisation, program_a):
    people = []
    for last in ("Arnaud", "Bellec", "Caron"):
        member = make_member(organisation, f"{last.lower()}@x.example", first="Test", last=last)
        Enrolment.objects.create(program=program_a, member=member, role=Role.PARTICIPANT)
        people.append(member)
    return people


def test_several_participants_are_removed_after_a_confirmation_that_lists_them(
    program_a, manager_a, three
):
    client = signed_in(manager_a)
    url = reverse("activity:remove", args=[program_a.pk])
    back = reverse("activity:program", args=[program_a.pk]) + "?sort=first_name&order=desc"
    chosen = [three[0].pk, three[2].pk]
    confirm = client.post(url, {"member": chosen, "next": back}).content.decode()
    assert "Retirer 2 participants" in confirm
    assert "Test Arnaud" in confirm and "Test Caron" in confirm and "Bellec" not in confirm
    assert Enrolment.objects.filter(program=program_a, ended_at__isnull=False).count() == 0
    done = client.post(url, {"member": chosen, "next": back, "confirm": "1"})
    assert done.status_code == 302 and done["Location"] == back
    ended = Enrolment.objects.filter(program=program_a, ended_at__isnull=False)
    assert sorted(e.member_id for e in ended) == sorted(chosen)
    # nobody chosen, or ids that are not ids: a message, never a 500
    assert client.post(url, {"member": ["x"]}).status_code == 302
    assert client.post(url, {}).status_code == 302


def test_inactive_and_archived_are_marked_and_left_out_of_a_reminder_with_the_reason(
    program_a, manager_a, three
):
    inactive, archived, active = three
    inactive.is_active = False
    inactive.save()
    archived.archived_at = timezone.now()
    archived.save()
    client = signed_in(manager_a)
    table = client.get(reverse("activity:program", args=[program_a.pk])).content.decode()
    assert ">inactif</span>" in table and ">archivé</span>" in table
    page = client.post(
        reverse("activity:remind", args=[program_a.pk]),
        {"member": [inactive.pk, archived.pk, active.pk], "next": "/programmes/?q=x"},
    ).content.decode()
    assert "2 participants choisis ne recevront pas cette relance" in page
    assert "Test Arnaud — inactif·ve" in page and "Test Bellec — archivé·e" in page
    assert f'name="member" value="{active.pk}" checked' in page


@pytest.mark.django_db(transaction=True)
def test_a_finished_programme_warns_and_its_reminder_does_not_say_running(
    program_a, manager_a, mentor, three, smtp
):
    program_a.start_date = timezone.localdate() - dt.timedelta(days=90)
    program_a.end_date = timezone.localdate() - dt.timedelta(days=2)
    program_a.save()
    client = signed_in(manager_a)
    remind = reverse("activity:remind", args=[program_a.pk])
    page = client.post(remind, {"member": [three[0].pk]}).content.decode()
    assert "Ce programme est terminé depuis le" in page
    assert "en cours jusqu" not in page and "merci de votre participation" in page
    client.post(remind, {"member": [three[0].pk], "confirm": "1"})
    run_tasks()
    text = body_of(next(m for m in smtp if m["X-Envelope-To"] == three[0].email))
    assert "s'est terminé le" in text and "en cours jusqu" not in text
    assert (
        "Ce programme est terminé"
        in client.get(reverse("meetings:new", args=[program_a.pk])).content.decode()
    )
    relationship = relationship_create(
        program=program_a, mentor=mentor, mentee=three[1], by=manager_a
    )
    booking = client.get(reverse("meetings:book", args=[relationship.pk]))
    assert "Ce programme est terminé" in booking.content.decode()

"""Real-time presence: a request marks a person online for two minutes, in a store that
every app server shares (the database here, Redis in CI's second pass)."""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from cohorte.activity import presence

from .conftest import database_url, signed_in

ROOT = Path(__file__).resolve().parent.parent


def test_a_request_marks_online_and_two_minutes_later_offline(mentee, manager_a, program_a):
    signed_in(mentee).get("/compte/mon-espace/")
    assert presence.online([mentee.pk]) == {mentee.pk}
    later = timezone.now() + dt.timedelta(minutes=3)
    assert presence.online([mentee.pk], now=later) == set()


def test_the_pages_own_poll_does_not_keep_anyone_online(mentee, manager_a, program_a):
    client = signed_in(manager_a)
    response = client.get(
        "/presence/", {"ids": f"{mentee.pk},{manager_a.pk}"}, headers={"X-Presence-Poll": "1"}
    )
    assert response.json() == {"online": []}
    signed_in(mentee).get("/compte/mon-espace/")
    assert client.get(
        "/presence/", {"ids": str(mentee.pk)}, headers={"X-Presence-Poll": "1"}
    ).json() == {"online": [mentee.pk]}


def test_presence_of_people_one_may_not_see_is_not_told(mentee, outsider, manager_b):
    signed_in(outsider).get("/compte/mon-espace/")
    signed_in(mentee).get("/compte/mon-espace/")
    response = signed_in(manager_b).get("/presence/", {"ids": f"{outsider.pk},{mentee.pk}"})
    assert response.json() == {"online": []}  # neither is in Bob's programmes


def test_pages_draw_a_dot_beside_each_person(manager_a, program_a, mentee):
    html = signed_in(manager_a).get(f"/programmes/{program_a.pk}/").content.decode()
    assert f'data-presence="{mentee.pk}"' in html


def test_api_presence(api_as, manager_a, program_a, mentee, outsider):
    signed_in(mentee).get("/compte/mon-espace/")
    body = api_as(manager_a).get(f"/api/programs/{program_a.pk}/presence").json()
    assert body["online"] == [mentee.pk]
    assert api_as(outsider).get(f"/api/programs/{program_a.pk}/presence").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_two_app_processes_share_the_store(organisation, mentee):
    """Marked online by this process, seen online by another one."""
    presence.touch(mentee)
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "cohorte.settings",
    }
    if settings.COHORTE_PRESENCE_STORE == "redis":
        env["CACHE_KEY_PREFIX"] = settings.CACHES["default"].get("KEY_PREFIX", "cohorte")
    code = (
        "import django; django.setup(); from cohorte.activity import presence; "
        f"print(sorted(presence.online([{mentee.pk}])))"
    )
    other = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert other.returncode == 0, other.stderr[-2000:]
    assert other.stdout.strip() == f"[{mentee.pk}]"


def test_signing_out_is_offline_at_once_not_two_minutes_later(mentee, manager_a, program_a):
    """A member stayed green several minutes after signing out."""
    member_client = signed_in(mentee)
    member_client.get("/compte/mon-espace/")
    manager = signed_in(manager_a)
    ask = {"ids": str(mentee.pk)}
    assert manager.get("/presence/", ask, headers={"X-Presence-Poll": "1"}).json() == {
        "online": [mentee.pk]
    }
    member_client.post("/compte/deconnexion/")
    assert manager.get("/presence/", ask, headers={"X-Presence-Poll": "1"}).json() == {"online": []}


def test_a_member_switched_off_is_offline_at_once(
    admin, mentee, manager_a, program_a, django_capture_on_commit_callbacks
):
    signed_in(mentee).get("/compte/mon-espace/")
    assert presence.online([mentee.pk]) == {mentee.pk}
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(admin).post(f"/membres/{mentee.pk}/actif/", {"active": "0"})
    assert response.status_code in (200, 302)
    mentee.refresh_from_db()
    assert not mentee.is_active
    assert presence.online([mentee.pk]) == set()


def test_members_switched_off_by_file_are_offline_at_once(
    admin, mentee, mentor, program_a, django_capture_on_commit_callbacks
):
    from cohorte.accounts.services import members_deactivate

    for member in (mentee, mentor):
        signed_in(member).get("/compte/mon-espace/")
    assert presence.online([mentee.pk, mentor.pk]) == {mentee.pk, mentor.pk}
    with django_capture_on_commit_callbacks(execute=True):
        members_deactivate(
            organisation_id=admin.organisation_id, emails=[(2, mentee.email)], by=admin
        )
    assert presence.online([mentee.pk, mentor.pk]) == {mentor.pk}

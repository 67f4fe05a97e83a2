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

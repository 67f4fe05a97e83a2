"""« Ce cycle contre le précédent »: ending a cycle keeps the Home's figures as they stood
(counted just before anyone was touched); the Home shows them in a column of their own and
the dashboard API as `previous_cycle`; a cycle end that fails keeps none."""

import pytest

from cohorte.accounts.models import Member
from cohorte.demo import demo_build
from cohorte.programs.models import Program
from cohorte.reports import home
from cohorte.reports.models import CycleSnapshot

from .conftest import make_member, signed_in
from .test_cycle_end import finish

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    organisation = demo_build()
    admin = Member.objects.get(email="admin@cohorte.example")
    mentoring = Program.objects.get(organisation=organisation, kind="mentoring")
    return organisation, admin, mentoring


def test_the_home_and_the_api_compare_with_the_cycle_before(demo, api_as):
    organisation, admin, mentoring = demo
    client = signed_in(admin)
    html = client.get(f"/programmes/{mentoring.pk}/accueil/").content.decode()
    assert "Cycle précédent" not in html  # no cycle ended yet: no empty column
    assert (
        api_as(admin).get(f"/api/programs/{mentoring.pk}/dashboard").json()["previous_cycle"]
        is None
    )
    before = home.home_figures(program=mentoring, fresh=True)["values"]
    assert before["enrolled"] > 0 and before["confirmed_meetings"] > 0

    finish(client, mentoring, "full")

    snapshot = CycleSnapshot.objects.get(program=mentoring)
    assert snapshot.figures["enrolled"] == before["enrolled"]  # counted before anyone left
    assert snapshot.figures["adoption_rate"] == before["adoption_rate"]
    assert (snapshot.start_date, snapshot.end_date) == (mentoring.start_date, mentoring.end_date)
    html = client.get(f"/programmes/{mentoring.pk}/accueil/").content.decode()
    assert "Cycle précédent (du" in html
    row = html.split('data-figure="enrolled"', 1)[1].split("</tr>", 1)[0]
    assert f'<td class="num" data-previous>{before["enrolled"]}</td>' in row
    rate = html.split('data-figure="adoption_rate"', 1)[1].split("</tr>", 1)[0]
    assert f"data-previous>{round(before['adoption_rate'] * 100)} %</td>" in rate
    now = home.home_figures(program=mentoring, fresh=True)["values"]
    assert now["enrolled"] < before["enrolled"]  # the new cycle starts with fewer people

    previous = api_as(admin).get(f"/api/programs/{mentoring.pk}/dashboard").json()["previous_cycle"]
    assert previous["start_date"] == mentoring.start_date.isoformat()
    values = {figure["key"]: figure["value"] for figure in previous["figures"]}
    assert values["enrolled"] == before["enrolled"]
    assert values["repeat_rate"] == before["repeat_rate"]


def test_a_manager_of_another_programme_never_reads_its_previous_cycle(demo, api_as):
    organisation, admin, mentoring = demo
    finish(signed_in(admin), mentoring, "full")
    other = Program.objects.filter(organisation=organisation).exclude(pk=mentoring.pk).first()
    outsider = make_member(organisation, "autre.resp@cohorte.example")
    other.managers.add(outsider)
    assert api_as(outsider).get(f"/api/programs/{mentoring.pk}/dashboard").status_code == 404
    assert signed_in(outsider).get(f"/programmes/{mentoring.pk}/accueil/").status_code == 404

"""The campaign's pages (issue 13 §2, §3): « Détail campagne » (the figures and their
links), « Détail entretiens » (grouped by manager, filtered, bulk deletion on the whole
filter after a confirmation) and one interview's page, where each action is done by the
right person and refused, with a clear message, to anyone else."""

import datetime as dt
import re
import zoneinfo
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from cohorte.campaigns import services
from cohorte.campaigns.models import Interview, InterviewStatus
from cohorte.campaigns.selectors import interview_todo_items
from cohorte.core.models import AuditEntry

from .conftest import make_member, signed_in

pytestmark = pytest.mark.django_db

CIRCUIT = [
    {"role": "collaborator", "deadline_days": 7},
    {"role": "manager", "deadline_days": 3},
    {"role": "hr", "deadline_days": 10},
]
FORM = [
    {
        "title": {"fr": "Bilan", "en": "Review"},
        "questions": [
            {"key": "bilan", "kind": "text", "label": {"fr": "Bilan de l'année"}, "required": True},
            {"key": "note", "kind": "scale", "label": {"fr": "Satisfaction"}},
            {
                "key": "climat",
                "kind": "choice",
                "label": {"fr": "Climat"},
                "options": [{"fr": "Bon"}, {"fr": "Tendu"}],
            },
            {"key": "objectifs", "kind": "objectives", "label": {"fr": "Objectifs"}},
        ],
    }
]


def text_of(response) -> str:
    html = response.content.decode()
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def table_of(response) -> str:
    """The text of « Détail entretiens »'s table (after the filters and their choices)."""
    return text_of(response).split("Entretiens classés par responsable")[1]


@pytest.fixture
def people(organisation):
    return {
        "collab": make_member(
            organisation, "claire.collab@poitiers.example", first="Claire", last="Collab"
        ),
        "manager": make_member(
            organisation,
            "marc.manager@poitiers.example",
            first="Marc",
            last="Manager",
            timezone="America/Montreal",
        ),
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


@pytest.fixture
def interview(campaign, people, admin) -> Interview:
    services.interviews_add(
        campaign=campaign,
        by=admin,
        lines=[
            {"collaborator_email": people["collab"].email, "manager_email": people["manager"].email}
        ],
    )
    return campaign.interviews.get(collaborator=people["collab"])


def crowd(organisation, campaign, admin, managers: int, each: int, prefix: str = "p"):
    """`managers` managers with `each` collaborators each."""
    lines = []
    for m in range(managers):
        boss = make_member(
            organisation, f"{prefix}boss{m}@poitiers.example", first="Chef", last=f"Z{m:02d}"
        )
        for c in range(each):
            person = make_member(
                organisation,
                f"{prefix}{m}-{c}@poitiers.example",
                first=f"Agent{c:02d}",
                last=f"Equipe{m:02d}",
            )
            lines.append({"collaborator_email": person.email, "manager_email": boss.email})
    services.interviews_add(campaign=campaign, by=admin, lines=lines)


def walk_to_closed(interview, people, admin):
    manager, collab = people["manager"], people["collab"]
    when = timezone.now() + dt.timedelta(days=2)
    interview = services.interview_plan(interview=interview, by=manager, scheduled_at=when)
    interview = services.interview_held(interview=interview, by=manager)
    interview = services.interview_submit(
        interview=interview, by=manager, answers={"bilan": "Première version"}
    )
    interview = services.interview_sign(interview=interview, by=collab)
    interview = services.interview_sign(interview=interview, by=manager)
    return services.interview_sign(interview=interview, by=admin)


# --- « Détail campagne » --------------------------------------------------------------------


def test_statistics_show_each_status_with_its_figure_and_link(campaign, interview, admin, people):
    services.interview_plan(
        interview=interview,
        by=people["manager"],
        scheduled_at=timezone.now() + dt.timedelta(days=3),
    )
    crowd(campaign.organisation, campaign, admin, 1, 2)
    response = signed_in(admin).get(reverse("campaigns:detail", args=[campaign.pk]))
    assert response.status_code == 200
    page = text_of(response)
    for label in (
        "Non planifiés",
        "Planifiés",
        "Effectués",
        "En cours de clôture",
        "Clos",
        "Supprimés",
    ):
        assert label in page
    html = response.content.decode()
    base = reverse("campaigns:interviews", args=[campaign.pk])
    assert f'href="{base}?status=not_planned" aria-label="Non planifiés : 2 entretiens">2<' in html
    assert f'href="{base}?status=planned" aria-label="Planifiés : 1 entretien">1<' in html
    assert 'class="colour-yellow" data-status="not_planned"' in html
    assert 'class="colour-green" data-status="closed"' in html
    assert 'class="colour-red" data-status="deleted"' in html
    remind = reverse("campaigns:remind", args=[campaign.pk])
    for status in ("not_planned", "planned", "held", "closing"):
        assert f'href="{remind}?status={status}"' in html
    assert f'href="{remind}?status=closed"' not in html
    # the facts and « Autres actions »
    assert "Entretien annuel" in page and "En cours" in page and "Anne Admin" in page
    assert "Collaborateur — 7 jours" in page and "RH — 10 jours" in page
    assert "Exporter en Excel" in page and "Exporter en PDF" in page
    assert 'name="format" value="xlsx"' in html and 'name="format" value="pdf"' in html
    assert reverse("campaigns:delete", args=[campaign.pk]) in html
    # the tabs
    assert "Détail campagne" in page and "Détail entretiens" in page


def test_a_manager_sees_only_their_own_figures(campaign, interview, admin, people):
    crowd(campaign.organisation, campaign, admin, 1, 3)
    response = signed_in(people["manager"]).get(reverse("campaigns:detail", args=[campaign.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-label="Non planifiés : 1 entretien">1<' in html
    assert "Relancer" not in text_of(response)
    assert "Autres actions" not in text_of(response)


def test_outsiders_get_404_everywhere(campaign, interview, people, outsider):
    other_admin = make_member(
        outsider.organisation, "adm@ailleurs.example", is_org_admin=True, first="A"
    )
    urls = [
        reverse("campaigns:detail", args=[campaign.pk]),
        reverse("campaigns:interviews", args=[campaign.pk]),
        reverse("campaigns:interview", args=[interview.pk]),
        reverse("campaigns:interview-delete", args=[interview.pk]),
    ]
    for member in (outsider, other_admin, people["other"]):
        client = signed_in(member)
        for url in urls:
            assert client.get(url).status_code == 404, (member, url)
        assert client.post(urls[2], {"action": "held"}).status_code == 404
    # the collaborator opens their interview, not the campaign's pages
    client = signed_in(people["collab"])
    assert client.get(urls[0]).status_code == 404
    assert client.get(urls[2]).status_code == 200


# --- « Détail entretiens » ------------------------------------------------------------------


def test_interviews_are_grouped_by_manager_and_filtered(campaign, interview, admin, people):
    crowd(campaign.organisation, campaign, admin, 2, 2)
    client = signed_in(admin)
    url = reverse("campaigns:interviews", args=[campaign.pk])
    response = client.get(url)
    page = text_of(response)
    assert "Chef Z00 — 2 entretiens" in page and "Chef Z01 — 2 entretiens" in page
    assert "Marc Manager — 1 entretien " in page
    assert "5 entretiens correspondent à ces critères." in page
    table = page.split("Entretiens classés par responsable")[1]
    assert table.index("Chef Z00") < table.index("Agent00 Equipe00") < table.index("Chef Z01")
    assert "Relancer le responsable" in page
    html = response.content.decode()
    assert f'name="manager" value="{people["manager"].pk}"' in html

    # by status, by collaborator, by manager
    services.interview_plan(
        interview=interview, by=people["manager"], scheduled_at=timezone.now() + dt.timedelta(1)
    )
    response = client.get(url, {"status": "planned"})
    assert "1 entretien correspond à ces critères." in text_of(response)
    assert "Claire Collab" in table_of(response) and "Agent00" not in table_of(response)
    response = client.get(url, {"q": "equipe01"})
    assert "2 entretiens correspondent" in text_of(response)
    assert "Chef Z01" in table_of(response) and "Chef Z00" not in table_of(response)
    response = client.get(url, {"manager": "pboss0@poitiers.example"})
    assert "2 entretiens correspondent" in text_of(response)
    assert "Equipe00" in table_of(response) and "Equipe01" not in table_of(response)
    # a bad status is a message, not an error
    response = client.get(url, {"status": "nope", "page": "x"})
    assert response.status_code == 200 and "Statut inconnu" in text_of(response)

    # htmx asks for the table only
    response = client.get(
        url, {"q": "claire"}, headers={"HX-Request": "true", "HX-Target": "interviews"}
    )
    html = response.content.decode()
    assert html.startswith('<div id="interviews">') and "<html" not in html
    assert "Claire Collab" in html


def test_a_manager_lists_only_their_interviews(campaign, interview, admin, people):
    crowd(campaign.organisation, campaign, admin, 1, 2)
    response = signed_in(people["manager"]).get(reverse("campaigns:interviews", args=[campaign.pk]))
    page = text_of(response)
    assert "Claire Collab" in table_of(response) and "Agent00" not in page
    assert "Imprimer (PDF)" not in page and "Relancer le responsable" not in page


def test_the_dates_are_in_the_viewers_time_zone(campaign, interview, admin, people):
    when = dt.datetime(2027, 3, 10, 15, 0, tzinfo=dt.UTC)
    services.interview_plan(interview=interview, by=people["manager"], scheduled_at=when)
    url = reverse("campaigns:interviews", args=[campaign.pk])
    paris = text_of(signed_in(admin).get(url))  # the organisation's zone: Paris, 16:00
    montreal = text_of(signed_in(people["manager"]).get(url))  # his own: Montreal, 10:00
    assert "10 mars 2027 16h00" in paris and "10 mars 2027 10h00" in montreal


def test_the_list_pages_by_rows_in_a_bounded_number_of_queries(
    campaign, admin, django_assert_max_num_queries
):
    crowd(campaign.organisation, campaign, admin, 3, 25)
    client = signed_in(admin)
    url = reverse("campaigns:interviews", args=[campaign.pk])
    # the layout's own ~17 (session, sidebar, badges) + 5 for the table, whatever its size
    with django_assert_max_num_queries(24):
        response = client.get(url)
    page = text_of(response)
    assert "75 entretiens correspondent" in page
    assert "Page 1 / 2" in page
    assert "Chef Z00 — 25 entretiens" in page and "Chef Z01 — 25 entretiens" in page
    page2 = table_of(client.get(url, {"page": 2}))
    assert "Chef Z02 — 25 entretiens" in page2 and "Chef Z00" not in page2


def test_bulk_delete_applies_to_the_whole_filter_after_a_confirmation(
    campaign, interview, admin, people
):
    crowd(campaign.organisation, campaign, admin, 3, 25)
    walk_to_closed(interview, people, admin)
    client = signed_in(admin)
    url = reverse("campaigns:interviews-delete", args=[campaign.pk])
    # everything the filter selects (76 interviews, 2 pages), the closed one kept
    response = client.post(url, {"status": "", "manager": "", "q": ""})
    assert response.status_code == 200
    page = text_of(response)
    assert "75 entretiens seront supprimés" in page
    assert "et 25 autres" in page
    assert "1 entretien clos est conservé" in page
    assert page.count("Agent") == 50
    assert Interview.objects.filter(status=InterviewStatus.DELETED).count() == 0
    # confirmed, for one manager only
    response = client.post(url, {"manager": "pboss1@poitiers.example"})
    assert "25 entretiens seront supprimés" in text_of(response)
    assert "et " not in text_of(response).split("supprimés")[1].split("Les entretiens")[0]
    response = client.post(url, {"manager": "pboss1@poitiers.example", "confirm": "1"})
    assert response.status_code == 302
    assert campaign.interviews.filter(status=InterviewStatus.DELETED).count() == 25
    # then every other one the filter selects, beyond the first page
    client.post(url, {"confirm": "1"})
    assert campaign.interviews.filter(status=InterviewStatus.DELETED).count() == 75
    assert campaign.interviews.get(pk=interview.pk).status == InterviewStatus.CLOSED
    page = text_of(client.get(reverse("campaigns:detail", args=[campaign.pk])))
    assert "Supprimés" in page
    assert AuditEntry.objects.filter(action="campaign.interviews_deleted").count() == 2


def test_bulk_delete_of_chosen_ids_and_refusals(campaign, interview, admin, people):
    crowd(campaign.organisation, campaign, admin, 1, 3)
    chosen = list(campaign.interviews.exclude(pk=interview.pk).values_list("pk", flat=True))[:2]
    client = signed_in(admin)
    url = reverse("campaigns:interviews-delete", args=[campaign.pk])
    assert "2 entretiens seront supprimés" in text_of(client.post(url, {"ids": chosen}))
    client.post(url, {"ids": chosen, "confirm": "1"})
    assert set(
        campaign.interviews.filter(status=InterviewStatus.DELETED).values_list("pk", flat=True)
    ) == set(chosen)
    assert client.post(url, {"ids": "abc"}).status_code == 302  # a message, no error
    # a manager may not
    assert signed_in(people["manager"]).post(url, {"confirm": "1"}).status_code == 403
    assert Interview.objects.get(pk=interview.pk).status == InterviewStatus.NOT_PLANNED


def test_one_interview_is_deleted_after_a_confirmation(campaign, interview, admin, people):
    url = reverse("campaigns:interview-delete", args=[interview.pk])
    assert signed_in(people["manager"]).post(url).status_code == 403
    client = signed_in(admin)
    page = text_of(client.get(url))
    assert "Supprimer l'entretien de Claire Collab avec Marc Manager" in page
    assert client.post(url).status_code == 302
    interview.refresh_from_db()
    assert interview.status == InterviewStatus.DELETED
    response = client.post(url)
    assert response.status_code == 409 and "supprimé" in text_of(response)


# --- One interview --------------------------------------------------------------------------


def post(client, interview, **data):
    return client.post(reverse("campaigns:interview", args=[interview.pk]), data)


def test_each_action_by_the_right_person_and_refused_to_the_others(
    campaign, interview, admin, people
):
    manager, collab, other = people["manager"], people["collab"], people["other"]
    as_manager, as_collab, as_admin = signed_in(manager), signed_in(collab), signed_in(admin)
    url = reverse("campaigns:interview", args=[interview.pk])

    # the collaborator prepares; the manager sees it beside the question
    page = text_of(as_collab.get(url))
    assert "Ma préparation" in page and "Planifier" not in page
    response = post(as_collab, interview, action="prepare", p_bilan="Mes réussites", p_note="4")
    assert response.status_code == 302
    response = post(as_collab, interview, action="prepare", p_note="9")
    assert response.status_code == 400 and "Une note de 1 à 5." in text_of(response)

    # plan: the manager, in his time zone (Montreal)
    response = post(as_collab, interview, action="plan", scheduled_at="2027-03-10T10:00")
    assert response.status_code == 403
    assert "Seul le manager de cet entretien peut faire cela." in text_of(response)
    response = post(as_manager, interview, action="plan", scheduled_at="demain")
    assert response.status_code == 400 and "date et heure" in text_of(response)
    response = post(
        as_manager,
        interview,
        action="plan",
        scheduled_at="2027-03-10T10:00",
        duration_minutes="45",
        place="Salle 2",
    )
    assert response.status_code == 302
    interview.refresh_from_db()
    assert interview.status == InterviewStatus.PLANNED
    assert interview.scheduled_at == dt.datetime(
        2027, 3, 10, 10, 0, tzinfo=zoneinfo.ZoneInfo("America/Montreal")
    )
    assert interview.duration_minutes == 45 and interview.place == "Salle 2"
    page = text_of(as_manager.get(url))
    assert "Déplacer l'entretien" in page and "Marquer comme effectué" in page

    # held
    assert post(as_admin, interview, action="held").status_code == 403
    assert post(as_manager, interview, action="held").status_code == 302
    page = text_of(as_manager.get(url))
    assert "Enregistrer le brouillon" in page and "Soumettre le compte-rendu" in page
    assert "Mes réussites" in page  # the preparation beside the question

    # draft, then submit (the required answer first missing)
    response = post(
        as_manager,
        interview,
        action="draft",
        a_note="3",
        a_climat="Bon",
        a_objectifs_title=["Anglais", "", "Excel"],
        a_objectifs_rating=["4", "", ""],
    )
    assert response.status_code == 302
    interview.refresh_from_db()
    assert interview.answers == {
        "note": 3,
        "climat": "Bon",
        "objectifs": [{"title": "Anglais", "rating": 4}, {"title": "Excel", "rating": None}],
    }
    response = post(as_manager, interview, action="submit", a_note="3")
    assert response.status_code == 400 and "Réponse obligatoire." in text_of(response)
    response = post(as_collab, interview, action="submit", a_bilan="x")
    assert response.status_code == 403
    response = post(
        as_manager,
        interview,
        action="submit",
        a_bilan="Une belle année",
        a_note="3",
        a_objectifs_title=["Anglais"],
        a_objectifs_rating=["4"],
    )
    assert response.status_code == 302
    interview.refresh_from_db()
    assert (interview.status, interview.step) == (InterviewStatus.CLOSING, 0)

    # the collaborator's step: signed with a réserve; nobody else's
    assert "Réserve (facultative)" in text_of(as_collab.get(url))
    assert post(signed_in(other), interview, action="sign").status_code == 404
    for wrong in (as_manager, as_admin):
        response = post(wrong, interview, action="sign")
        assert response.status_code == 403
        assert "Cette étape du circuit n'est pas la vôtre." in text_of(response)
    response = post(as_collab, interview, action="sign", comment="D'accord", reserve="Objectif 2")
    assert response.status_code == 302
    # the manager sends it back, then it comes again
    response = post(as_manager, interview, action="send_back", comment="")
    assert response.status_code == 400 and "Ce champ est obligatoire." in text_of(response)
    assert post(as_manager, interview, action="send_back", comment="Relis").status_code == 302
    assert post(as_collab, interview, action="sign").status_code == 302
    response = post(as_manager, interview, action="sign", reserve="non")
    assert response.status_code == 400
    assert "Seul le collaborateur peut émettre une réserve." in text_of(response)
    assert post(as_manager, interview, action="sign", comment="Vu").status_code == 302
    page = text_of(as_admin.get(url))
    assert "Réserve : Objectif 2" in page and "Renvoyé : Relis" in page
    assert "Signé par Claire Collab" in page and "Signé par Marc Manager" in page
    assert post(as_admin, interview, action="sign", comment="Validé").status_code == 302
    interview.refresh_from_db()
    assert interview.status == InterviewStatus.CLOSED

    # closed: locked (409), read-only, the PDF link, « Rouvrir » for admins only
    response = post(as_manager, interview, action="draft", a_bilan="changé")
    assert response.status_code == 409
    response = post(as_manager, interview, action="plan", scheduled_at="2027-03-11T10:00")
    assert response.status_code == 409 and "Cet entretien est clos" in text_of(response)
    page = text_of(as_collab.get(url))
    assert "Clos : le compte-rendu est signé par tous et verrouillé" in page
    assert "Une belle année" in page and "Anglais — 4 / 5" in page
    assert "Enregistrer le brouillon" not in page and "Rouvrir" not in page
    assert (
        reverse("campaigns:interview-pdf", args=[interview.pk])
        in as_collab.get(url).content.decode()
    )
    assert post(as_manager, interview, action="reopen", reason="x").status_code == 403
    response = post(as_admin, interview, action="reopen", reason="")
    assert response.status_code == 400 and "Ce champ est obligatoire." in text_of(response)
    assert post(as_admin, interview, action="reopen", reason="Erreur de note").status_code == 302
    interview.refresh_from_db()
    assert interview.status == InterviewStatus.HELD

    # both versions readable: the signed one under « Versions signées », the new draft
    post(as_manager, interview, action="draft", a_bilan="Deuxième version")
    page = text_of(as_manager.get(url))
    assert "Versions signées" in page and "Version 1" in page
    assert "Motif de la réouverture : Erreur de note" in page
    assert "Une belle année" in page and "Deuxième version" in page
    assert "Objectif 2" in page  # the réserve in the signed version's signatures
    assert AuditEntry.objects.filter(action="interview.reopened").exists()
    # an unknown action, hostile values: messages, never a 500
    assert post(as_manager, interview, action="??").status_code == 400
    assert post(as_manager, interview, action="submit", a_note="x" * 50).status_code == 400


def test_the_admin_changes_the_circuit_of_one_interview(campaign, interview, admin, people):
    url = reverse("campaigns:interview", args=[interview.pk])
    data = {"action": "circuit", "step_role": ["manager", "hr", ""], "step_days": ["2", "5", "7"]}
    response = signed_in(people["manager"]).post(url, data)
    assert response.status_code == 403
    response = signed_in(admin).post(url, {**data, "step_days": ["-1", "5", "7"]})
    assert response.status_code == 400
    response = signed_in(admin).post(url, data)
    assert response.status_code == 302
    interview.refresh_from_db()
    assert interview.circuit == [
        {"role": "manager", "deadline_days": 2},
        {"role": "hr", "deadline_days": 5},
    ]
    campaign.refresh_from_db()
    assert len(campaign.circuit) == 3  # the others keep theirs
    assert AuditEntry.objects.filter(action="campaign.circuit_changed").exists()
    page = text_of(signed_in(admin).get(url))
    assert "1. Manager" in page and "2. RH" in page


def test_the_admin_changes_the_circuit_of_the_whole_campaign(campaign, interview, admin):
    url = reverse("campaigns:interview", args=[interview.pk])
    data = {"action": "circuit", "step_role": ["hr", "", ""], "step_days": ["4", "", ""]}
    response = signed_in(admin).post(url, {**data, "scope": "all"}, follow=True)
    assert "Circuit de validation modifié pour" in text_of(response)
    campaign.refresh_from_db()
    interview.refresh_from_db()
    assert campaign.circuit == interview.circuit == [{"role": "hr", "deadline_days": 4}]
    entry = AuditEntry.objects.filter(action="campaign.circuit_changed").latest("pk")
    assert entry.data["new"] == [{"role": "hr", "deadline_days": 4}]


def test_todo_items_land_on_the_right_action(campaign, interview, admin, people):
    manager, collab = people["manager"], people["collab"]
    [item] = interview_todo_items(manager)
    assert "Planifier l'entretien" in text_of(signed_in(manager).get(item.url))
    interview = services.interview_plan(
        interview=interview, by=manager, scheduled_at=timezone.now() + dt.timedelta(days=1)
    )
    interview = services.interview_held(interview=interview, by=manager)
    [item] = interview_todo_items(manager)
    assert "Soumettre le compte-rendu" in text_of(signed_in(manager).get(item.url))
    services.interview_submit(interview=interview, by=manager, answers={"bilan": "Bien"})
    [item] = interview_todo_items(collab)
    page = text_of(signed_in(collab).get(item.url))
    assert "Votre étape du circuit" in page and "Signer" in page and "Réserve" in page


def test_hostile_input_gets_a_message_never_a_server_error(campaign, interview, admin, people):
    as_manager = signed_in(people["manager"])
    for value in ("1900-01-01T10:00", "2027-02-30T10:00", "x" * 5000, ""):
        response = post(as_manager, interview, action="plan", scheduled_at=value)
        assert response.status_code == 400, value
    response = post(
        as_manager,
        interview,
        action="plan",
        scheduled_at="2027-03-10T10:00",
        duration_minutes="9e9",
    )
    assert response.status_code == 400 and "nombre entier attendu" in text_of(response)
    url = reverse("campaigns:interviews", args=[campaign.pk])
    client = signed_in(admin)
    for params in (
        {"q": "é" * 10_000},
        {"page": "99999"},
        {"manager": "a" * 300},
        {"status": "\x00"},
    ):
        assert client.get(url, params).status_code == 200, params
    delete = reverse("campaigns:interviews-delete", args=[campaign.pk])
    assert client.get(delete).status_code == 405
    assert client.post(delete, {"ids": ["1", "-4"]}).status_code == 302

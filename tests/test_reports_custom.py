"""Custom reports (« Rapport personnalisé »): the members list's advanced filters applied to
the prepared reports, checked strictly on the page and in the API, saved in the definition
and applied again at every run; saved reports renamed, edited, deleted after a
confirmation, by their owner (or an administrator) only; their sending scheduled weekly or
monthly to the programme's managers, stopped on demand."""

import datetime as dt
import zoneinfo
from urllib.parse import urlparse

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from cohorte.accounts.models import CustomField, CustomFieldValue
from cohorte.core.models import AuditEntry, Job
from cohorte.core.selectors import ACTION_LABELS
from cohorte.programs.models import Cohort, Enrolment, Organisation, Role
from cohorte.reports import custom
from cohorte.reports.models import SavedReport, Schedule
from cohorte.reports.prepared import PREPARED, Scope, filters_clean

from .conftest import make_member, run_tasks, signed_in

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


@pytest.fixture
def people(organisation, program_a, manager_a, mentor, mentee):
    """Programme A: Léa (participant, cohort « Promo 2026 », signed in on 10 March 2026,
    joined in 2025, answered « Sport : Basket »); Paul (participant, deactivated, never
    signed in, tag « Boursier »); Marc (professional, signed in in January 2026)."""
    paul = make_member(organisation, "paul.passif@poitiers.example", first="Paul", last="Passif")
    Enrolment.objects.create(program=program_a, member=paul, role=Role.PARTICIPANT)
    promo = Cohort.objects.create(organisation=organisation, name="Promo 2026")
    boursier = Cohort.objects.create(organisation=organisation, name="Boursier", kind="tag")
    promo.members.add(mentee)
    boursier.members.add(paul)
    type(mentee).objects.filter(pk=mentee.pk).update(
        last_access=dt.datetime(2026, 3, 10, 9, tzinfo=PARIS),
        date_joined=dt.datetime(2025, 9, 1, 9, tzinfo=PARIS),
        profile_completion=40,
    )
    type(mentee).objects.filter(pk=mentor.pk).update(
        last_access=dt.datetime(2026, 1, 5, 9, tzinfo=PARIS),
        date_joined=dt.datetime(2026, 2, 1, 9, tzinfo=PARIS),
        profile_completion=90,
    )
    type(mentee).objects.filter(pk=paul.pk).update(
        is_active=False, last_access=None, date_joined=dt.datetime(2026, 2, 1, 9, tzinfo=PARIS)
    )
    sport = CustomField.objects.create(
        organisation=organisation, name_fr="Sport", options="Basket, Foot"
    )
    secret = CustomField.objects.create(
        organisation=organisation, name_fr="Note interne", admin_only=True
    )
    CustomFieldValue.objects.create(member=mentee, field=sport, value="Basket")
    CustomFieldValue.objects.create(member=mentor, field=sport, value="Foot")
    CustomFieldValue.objects.create(member=mentee, field=secret, value="x")
    elsewhere = Organisation.objects.create(name="Ailleurs")
    foreign = Cohort.objects.create(organisation=elsewhere, name="Leur promo")
    return {
        "paul": paul, "promo": promo, "boursier": boursier, "sport": sport,
        "secret": secret, "foreign": foreign,
    }  # fmt: skip


def emails(program, by, name="members", **filters):
    scope = Scope(organisation=program.organisation, program=program, by=by, filters=filters)
    report = PREPARED[name].build(scope).only(["email"] if name == "members" else None)
    return sorted(row[0] for row in report.rows) if name == "members" else list(report.rows)


LEA, MARC, PAUL = (
    "lea.mentee@poitiers.example",
    "marc.mentor@poitiers.example",
    "paul.passif@poitiers.example",
)


# --- The filters applied ----------------------------------------------------------------


def test_the_members_report_applies_each_advanced_filter(people, program_a, manager_a):
    cohort, tag = str(people["promo"].pk), str(people["boursier"].pk)
    sport = str(people["sport"].pk)
    assert emails(program_a, manager_a) == [LEA, MARC, PAUL]
    assert emails(program_a, manager_a, cohort=cohort) == [LEA]
    assert emails(program_a, manager_a, tag=tag) == [PAUL]
    assert emails(program_a, manager_a, status="inactive") == [PAUL]
    assert emails(program_a, manager_a, status="active") == [LEA, MARC]
    assert emails(program_a, manager_a, role="professional") == [MARC]
    assert emails(program_a, manager_a, signed_in="never") == [PAUL]
    assert emails(program_a, manager_a, signed_in="yes") == [LEA, MARC]
    # « depuis le » includes its day, « avant le » excludes its own
    assert emails(program_a, manager_a, last_access_after="2026-03-10") == [LEA]
    assert emails(program_a, manager_a, last_access_before="2026-03-10") == [MARC]
    assert emails(
        program_a, manager_a, created_after="2026-01-01", created_before="2026-02-02"
    ) == [MARC, PAUL]
    assert emails(program_a, manager_a, created_before="2026-02-01") == [LEA]
    assert emails(program_a, manager_a, completion_below="50") == [LEA, PAUL]
    assert emails(program_a, manager_a, custom_field=sport) == [LEA, MARC]
    assert emails(program_a, manager_a, custom_field=sport, option="basket") == [LEA]
    assert emails(program_a, manager_a, relationship="matched") == []
    # an archived member leaves the report, unless asked for
    type(manager_a).objects.filter(pk=people["paul"].pk).update(archived_at=timezone.now())
    assert emails(program_a, manager_a) == [LEA, MARC]
    assert emails(program_a, manager_a, status="archived") == [PAUL]


def test_a_saved_foreign_id_finds_nobody_and_a_manager_never_filters_on_a_private_field(
    people, program_a, manager_a, admin
):
    # a definition stored before the check (or edited in the database) leaks nothing
    assert emails(program_a, manager_a, cohort=str(people["foreign"].pk)) == []
    secret = str(people["secret"].pk)
    assert emails(program_a, admin, custom_field=secret) == [LEA]
    assert emails(program_a, manager_a, custom_field=secret) == []


def test_the_other_reports_take_the_filters_that_make_sense_for_them(
    people, program_a, manager_a, mentor, mentee
):
    from cohorte.meetings.models import Relationship
    from cohorte.meetings.services import meeting_create

    relationship = Relationship.objects.create(program=program_a, mentor=mentor, mentee=mentee)
    meeting = meeting_create(
        program=program_a, attendees=[mentor, mentee],
        starts_at=dt.datetime(2026, 3, 2, 10, tzinfo=PARIS), duration_minutes=60,
        status="confirmed", by=None,
    )  # fmt: skip
    type(meeting).objects.filter(pk=meeting.pk).update(relationship=relationship)

    def count(name, **filters):
        scope = Scope(
            organisation=program_a.organisation, program=program_a, by=manager_a, filters=filters
        )
        return sum(1 for _row in PREPARED[name].build(scope).rows)

    assert count("relationship_meetings") == 1
    assert count("relationship_meetings", after="2026-03-02", before="2026-03-03") == 1
    assert count("relationship_meetings", after="2026-03-03") == 0
    assert count("member_meetings") == 3
    assert count("member_meetings", cohort=str(people["promo"].pk)) == 1
    assert count("member_meetings", signed_in="never") == 1
    assert count("relationships", started_before="2000-01-02") == 0
    assert count("relationships", started_after="2000-01-01") == 1
    assert set(PREPARED["surveys"].filters) == set()


# --- The filters checked ----------------------------------------------------------------


@pytest.mark.parametrize(
    "filters, words",
    [
        ({"nope": "1"}, "Filtre inconnu pour ce rapport : nope."),
        ({"no\x00pe": "1"}, "Filtre inconnu pour ce rapport : nope."),
        ({"created_after": "2026-13-01"}, "« Inscrit depuis le » : date attendue (AAAA-MM-JJ)"),
        ({"created_after": "2026-02-30"}, "date attendue (AAAA-MM-JJ)"),
        ({"created_after": "1899-01-01"}, "date hors limites"),
        ({"last_access_before": "2026-01-01\x00"}, "caractère interdit (NUL)"),
        ({"cohort": "FOREIGN"}, "aucune cohorte n'a cet identifiant dans votre organisation"),
        ({"cohort": "TAG"}, "aucune cohorte n'a cet identifiant"),
        ({"tag": "PROMO"}, "aucune étiquette n'a cet identifiant"),
        ({"cohort": "99999999999999999999999"}, "« Cohorte » : identifiant invalide"),
        ({"cohort": "9223372036854775807"}, "aucune cohorte n'a cet identifiant"),
        ({"cohort": "-3"}, "identifiant invalide"),
        ({"completion_below": "1e9"}, "nombre entier attendu"),
        ({"completion_below": "999999999999999999999"}, "nombre entier attendu"),
        ({"completion_below": "0"}, "doit être au moins 1"),
        ({"status": "pirate"}, "valeurs possibles active, inactive, archived"),
        ({"option": "Basket"}, "choisissez d'abord « Champ personnalisé »"),
        ({"custom_field": "SECRET"}, "aucun champ personnalisé n'a cet identifiant"),
        ({"option": "x" * 201, "custom_field": "SPORT"}, "200 caractères"),
        (
            {"created_after": "2026-02-01", "created_before": "2026-01-01"},
            "« Inscrit depuis le » doit précéder « Inscrit avant le ».",
        ),
        ({"role": 3}, "une valeur écrite en texte est attendue"),
        ({f"k{n}": "" for n in range(31)}, "Trop de filtres : 30 au plus."),
    ],
)
def test_bad_filters_are_refused_with_a_clear_message(people, program_a, manager_a, filters, words):
    ids = {
        "FOREIGN": people["foreign"].pk, "TAG": people["boursier"].pk,
        "PROMO": people["promo"].pk, "SECRET": people["secret"].pk, "SPORT": people["sport"].pk,
    }  # fmt: skip
    filters = {key: str(ids.get(value, value)) if isinstance(value, str) else value
               for key, value in filters.items()}  # fmt: skip
    clean, problems = filters_clean(
        PREPARED["members"], filters, organisation=program_a.organisation, by=manager_a
    )
    assert any(words in problem for problem in problems), problems


def test_good_filters_are_stored_one_way_and_empty_ones_dropped(people, program_a, manager_a):
    clean, problems = filters_clean(
        PREPARED["members"],
        {"cohort": f" {people['promo'].pk} ", "completion_below": "+50", "status": "",
         "created_after": "2026-01-05"},
        organisation=program_a.organisation,
        by=manager_a,
    )  # fmt: skip
    assert problems == []
    assert clean == {
        "cohort": str(people["promo"].pk), "completion_below": "50", "created_after": "2026-01-05",
    }  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_the_api_run_checks_the_filters_the_same_way_and_applies_them(
    people, api_as, program_a, manager_a
):
    api = api_as(manager_a)
    path = "/api/reports/members/runs"
    base = {"format": "csv", "program": program_a.pk, "columns": ["email"]}
    for filters, words in (
        ({"cohort": str(people["foreign"].pk)}, "aucune cohorte n'a cet identifiant"),
        ({"created_after": "31/12/2025"}, "date attendue (AAAA-MM-JJ)"),
        ({"option": "a\x00b", "custom_field": str(people["sport"].pk)}, "caractère nul"),
        ({"cohort": "1" * 40}, "identifiant invalide"),
        ({"created_after": "2026-02-01", "created_before": "2026-01-01"}, "doit précéder"),
    ):
        refused = api.post(path, {**base, "filters": filters})
        assert refused.status_code == 400, refused.content
        said = [refused.json()["message"]] + [e["reason"] for e in refused.json()["errors"]]
        assert any(words in reason for reason in said), said
    huge = api.post(path, {**base, "filters": {"cohort": 10**30}})
    assert huge.status_code in (400, 422)
    nul = api.post(path, {**base, "columns": ["email\x00"]})
    assert nul.status_code == 400 and "nul" in nul.json()["message"]
    assert Job.objects.count() == 0

    definition = {"name": "Promo", "report": "members", "program": program_a.pk,
                  "columns": ["email"]}  # fmt: skip
    foreign = api.post(
        "/api/reports/saved", {**definition, "filters": {"tag": str(people["foreign"].pk)}}
    )
    assert foreign.status_code == 400
    assert "aucune étiquette n'a cet identifiant" in foreign.json()["errors"][0]["reason"]
    saved = api.post(
        "/api/reports/saved", {**definition, "filters": {"cohort": f"{people['promo'].pk} "}}
    )
    assert saved.status_code == 201 and saved.json()["filters"] == ["cohort"]
    assert SavedReport.objects.get().filters == {"cohort": str(people["promo"].pk)}

    run = api.post(path, {**base, "filters": {"cohort": str(people["promo"].pk)}})
    assert run.status_code == 202, run.content
    run_tasks()
    url = api.get(f"/api/report-runs/{run.json()['id']}").json()["download_url"]
    text = b"".join(signed_in(manager_a).get(urlparse(url).path).streaming_content)
    assert text.decode("utf-8-sig").splitlines() == ["Courriel", LEA]


# --- The page: filters saved, applied again ---------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_custom_page_saves_the_filters_and_each_run_applies_them_again(
    people, program_a, manager_a
):
    client = signed_in(manager_a)
    url = reverse("reports:generate-custom", args=[program_a.pk])
    page = client.get(url).content.decode()
    assert "Filtres avancés" in page and "Promo 2026" in page and "Boursier" in page
    assert "Note interne" not in page  # an administrator's field: not offered to a manager
    assert "Leur promo" not in page  # another organisation's cohort
    started = client.get(url, {"filter-cohort": people["promo"].pk, "filter-status": "x\x00"})
    assert f'<option value="{people["promo"].pk}" selected>' in started.content.decode()
    refused = client.post(
        url,
        {"report": "members", "name": "Promo", "columns": ["email"],
         "filter-cohort": str(people["foreign"].pk), "filter-created_after": "2026-99-01"},
    )  # fmt: skip
    assert refused.status_code == 400
    text = refused.content.decode()
    assert escape("aucune cohorte n'a cet identifiant dans votre organisation") in text
    assert "date attendue (AAAA-MM-JJ)" in text
    assert 'value="Promo"' in text  # what was typed stays
    nul = client.post(url, {"report": "members", "name": "a\x00b", "columns": ["email"]})
    assert nul.status_code == 400 and "accepté dans aucun champ" in nul.content.decode()
    line = client.post(url, {"report": "members", "name": "a\nb", "columns": ["email"]})
    assert line.status_code == 400 and "imprimables" in line.content.decode()
    assert SavedReport.objects.count() == 0

    saved = client.post(
        url,
        {"report": "members", "name": "Promo sans connexion récente",
         "columns": ["email", "last_name"], "order-email": "2", "order-last_name": "1",
         "filter-cohort": str(people["promo"].pk), "filter-status": "active",
         "filter-last_access_before": "2026-04-01", "filter-tag": ""},
    )  # fmt: skip
    assert saved.status_code == 302
    report = SavedReport.objects.get()
    assert report.columns == ["last_name", "email"]
    assert report.filters == {
        "cohort": str(people["promo"].pk), "status": "active",
        "last_access_before": "2026-04-01",
    }  # fmt: skip
    listing = client.get(reverse("reports:generate", args=[program_a.pk])).content.decode()
    assert "2 colonnes, 3 filtres" in listing and "privé" in listing
    assert (
        "Statut du compte : Actif · Cohorte : Promo 2026 · Dernière connexion avant le : 2026-04-01"
        in listing
    )

    # Marc joins the cohort afterwards: the next run finds him too — filters run again
    people["promo"].members.add(type(manager_a).objects.get(email=MARC))
    client.post(
        reverse("reports:generate-run", args=[program_a.pk]), {"name": report.key, "format": "csv"}
    )
    run_tasks()
    job = Job.objects.get(kind="report")
    assert job.payload["filters"] == report.filters
    data = b"".join(client.get(reverse("reports:run-file", args=[job.pk])).streaming_content)
    assert data.decode("utf-8-sig").splitlines() == [
        "Nom;Courriel", f"Mentee;{LEA}", f"Mentor;{MARC}",
    ]  # fmt: skip


# --- Edit, rename, delete ---------------------------------------------------------------


def _saved(program, owner, *, shared=False, name="Suivi", filters=None):
    return custom.saved_report_save(
        by=owner, name=name, report="members", program=program,
        columns=["email", "first_name"], filters=filters or {}, shared=shared,
    )  # fmt: skip


def test_the_owner_edits_and_renames_a_saved_report_on_the_same_page(people, program_a, manager_a):
    saved = _saved(program_a, manager_a, filters={"status": "active"})
    client = signed_in(manager_a)
    url = reverse("reports:generate-custom", args=[program_a.pk])
    page = client.get(url, {"saved": saved.pk}).content.decode()
    assert escape("Modifier « Suivi »") in page and 'value="Suivi"' in page
    assert '<option value="active" selected>' in page
    # the saved order first: Courriel, then Prénom, then the others
    assert page.index('value="email" checked') < page.index('value="first_name" checked')
    assert page.index('value="first_name" checked') < page.index('value="last_name"')
    assert "Rapport de départ" not in page  # the report it starts from is fixed

    posted = client.post(
        url,
        {"saved": saved.pk, "report": "surveys", "name": "Suivi renommé", "shared": "1",
         "columns": ["first_name", "email"], "order-first_name": "1", "order-email": "2",
         "filter-signed_in": "never"},
    )  # fmt: skip
    assert posted.status_code == 302
    saved.refresh_from_db()
    assert (saved.name, saved.report, saved.shared) == ("Suivi renommé", "members", True)
    assert saved.columns == ["first_name", "email"] and saved.filters == {"signed_in": "never"}
    entry = AuditEntry.objects.get(action="report.updated")
    assert entry.data["old"]["name"] == "Suivi" and entry.data["new"]["name"] == "Suivi renommé"
    listing = client.get(reverse("reports:generate", args=[program_a.pk])).content.decode()
    assert escape("Rapport « Suivi renommé » modifié.") in listing
    assert "Suivi renommé" in listing and "partagé" in listing
    assert client.get(url, {"saved": "abc"}).status_code == 404
    assert client.get(url, {"saved": "9" * 30}).status_code == 404
    assert client.get(url, {"saved": "999999"}).status_code == 404


def test_a_saved_report_whose_cohort_is_gone_says_so_when_run_from_the_page(
    people, program_a, manager_a
):
    cohort = Cohort.objects.create(organisation=program_a.organisation, name="Promo partie")
    saved = _saved(program_a, manager_a, name="Promo", filters={"cohort": str(cohort.pk)})
    cohort.delete()
    client = signed_in(manager_a)
    run = reverse("reports:generate-run", args=[program_a.pk])
    response = client.post(run, {"name": saved.key, "format": "csv"}, headers={"HX-Request": "1"})
    # htmx shows no error answer: it is told to load the page, which says why
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("reports:generate", args=[program_a.pk])
    page = client.get(response["HX-Redirect"]).content.decode()
    assert "« Promo » ne peut plus être lancé tel quel" in page and "Modifiez-le" in page
    assert not Job.objects.exists()


def test_deleting_asks_for_a_confirmation_first(people, program_a, manager_a):
    saved = _saved(program_a, manager_a)
    client = signed_in(manager_a)
    url = reverse("reports:saved-delete", args=[program_a.pk, saved.pk])
    confirm = client.get(url).content.decode()
    assert escape("Supprimer « Suivi » ?") in confirm and "Supprimer définitivement" in confirm
    assert SavedReport.objects.filter(pk=saved.pk).exists()  # a GET deletes nothing
    done = client.post(url)
    assert done.status_code == 302 and not SavedReport.objects.filter(pk=saved.pk).exists()
    entry = AuditEntry.objects.get(action="report.deleted")
    assert entry.data["name"] == "Suivi"
    assert client.post(url).status_code == 404


def test_only_the_owner_or_an_administrator_changes_a_shared_report(
    people, organisation, program_a, manager_a, manager_b, admin
):
    colleague = make_member(organisation, "celia@poitiers.example", first="Célia", last="Co")
    program_a.managers.add(colleague)
    shared = _saved(program_a, manager_a, shared=True, name="Partagé")
    private = _saved(program_a, manager_a, name="Privé")
    edit = reverse("reports:generate-custom", args=[program_a.pk])
    delete = reverse("reports:saved-delete", args=[program_a.pk, shared.pk])
    schedule = reverse("reports:saved-schedule", args=[program_a.pk, shared.pk])

    # a colleague on the same programme sees and runs it, but changes nothing
    other = signed_in(colleague)
    listing = other.get(reverse("reports:generate", args=[program_a.pk])).content.decode()
    assert "Partagé" in listing and "Manon Alpha" in listing and "Privé" not in listing
    assert escape("Supprimer « Partagé »") not in listing
    assert other.get(edit, {"saved": shared.pk}).status_code == 403
    assert (
        other.post(edit, {"saved": shared.pk, "name": "x", "columns": ["email"]}).status_code == 403
    )
    assert other.post(delete).status_code == 403
    assert other.get(schedule).status_code == 403
    assert (
        other.get(reverse("reports:saved-delete", args=[program_a.pk, private.pk])).status_code
        == 404
    )

    # another programme's manager: nothing exists, wherever the URL says
    stranger = signed_in(manager_b)
    assert stranger.get(edit, {"saved": shared.pk}).status_code == 404
    assert stranger.post(delete).status_code == 404
    assert stranger.post(schedule, {"schedule": "weekly"}).status_code == 404
    program_b = manager_b.managed_programs.get()
    across = reverse("reports:saved-delete", args=[program_b.pk, shared.pk])
    assert stranger.post(across).status_code == 404
    assert (
        stranger.get(
            reverse("reports:generate-custom", args=[program_b.pk]), {"saved": shared.pk}
        ).status_code
        == 404
    )
    shared.refresh_from_db()
    assert shared.name == "Partagé"  # nobody above changed it

    # an administrator may rename a shared one, within what its owner may have
    boss = signed_in(admin)
    data = {"saved": shared.pk, "name": "Partagé (admin)", "shared": "1", "columns": ["email"]}
    refused = boss.post(edit, {**data, "filter-custom_field": people["secret"].pk})
    assert refused.status_code == 400
    assert escape("aucun champ personnalisé n'a cet identifiant") in refused.content.decode()
    assert boss.post(edit, data).status_code == 302
    shared.refresh_from_db()
    assert shared.name == "Partagé (admin)" and shared.owner == manager_a
    # and delete a shared one left behind
    assert boss.post(delete).status_code == 302
    assert not SavedReport.objects.filter(pk=shared.pk).exists()


# --- Scheduled sending ------------------------------------------------------------------


def test_next_run_falls_on_the_chosen_day_at_seven_local_time_across_summer_time():
    next_run = custom._next_run
    # Saturday 28 March 2026, 08:00 Paris; clocks go forward on Sunday 29 March
    after = dt.datetime(2026, 3, 28, 8, tzinfo=PARIS)
    monday = next_run(Schedule.WEEKLY, after, day=0, tz=PARIS)
    assert monday == dt.datetime(2026, 3, 30, 7, tzinfo=PARIS)
    assert monday.utcoffset() == dt.timedelta(hours=2)
    assert next_run(Schedule.WEEKLY, after, day=5, tz=PARIS) == dt.datetime(
        2026, 4, 4, 7, tzinfo=PARIS
    )  # the same weekday, already past 7 h: next week
    before_seven = dt.datetime(2026, 3, 28, 6, tzinfo=PARIS)
    assert next_run(Schedule.WEEKLY, before_seven, day=5, tz=PARIS).date() == dt.date(2026, 3, 28)
    assert next_run(Schedule.MONTHLY, after, day=28, tz=PARIS) == dt.datetime(
        2026, 4, 28, 7, tzinfo=PARIS
    )
    december = dt.datetime(2026, 12, 20, 8, tzinfo=PARIS)
    assert next_run(Schedule.MONTHLY, december, day=5, tz=PARIS) == dt.datetime(
        2027, 1, 5, 7, tzinfo=PARIS
    )


@pytest.mark.django_db(transaction=True)
def test_the_owner_schedules_a_report_to_the_programmes_managers_and_stops_it(
    people, organisation, program_a, manager_a, manager_b, admin, mentee
):
    saved = _saved(program_a, manager_a, filters={"cohort": str(people["promo"].pk)})
    client = signed_in(manager_a)
    url = reverse("reports:saved-schedule", args=[program_a.pk, saved.pk])
    page = client.get(url).content.decode()
    assert "Programmer l'envoi de « Suivi »" in page
    assert admin.email in page and manager_a.email in page
    assert mentee.email not in page and manager_b.email not in page  # not B's programme
    assert "Arrêter l'envoi" not in page  # nothing to stop yet

    for data, words in (
        ({"schedule": "weekly", "weekday": "2", "format": "csv", "recipients": [mentee.pk]},
         "parmi les responsables du programme"),
        ({"schedule": "weekly", "weekday": "2", "format": "csv", "recipients": ["abc"]},
         "identifiant invalide"),
        ({"schedule": "weekly", "weekday": "2", "format": "csv", "recipients": ["9" * 25]},
         "identifiant invalide"),
        ({"schedule": "weekly", "weekday": "9", "format": "csv", "recipients": [admin.pk]},
         "Jour de la semaine inconnu"),
        ({"schedule": "monthly", "monthday": "31", "format": "csv", "recipients": [admin.pk]},
         "doit être au plus 28"),
        ({"schedule": "monthly", "monthday": "0", "format": "csv", "recipients": [admin.pk]},
         "Jour du mois entre 1 et 28"),
        ({"schedule": "daily", "weekday": "1", "format": "csv", "recipients": [admin.pk]},
         "chaque semaine ou chaque mois"),
        ({"schedule": "weekly", "weekday": "1", "format": "docx", "recipients": [admin.pk]},
         "Format inconnu"),
        ({"schedule": "weekly", "weekday": "1\x00", "format": "csv", "recipients": [admin.pk]},
         "accepté dans aucun champ"),
        ({"schedule": "weekly", "weekday": "un", "format": "csv", "recipients": [admin.pk]},
         "nombre entier attendu"),
        ({"schedule": "weekly", "weekday": "1", "format": "csv"},
         "au moins un destinataire"),
    ):  # fmt: skip
        refused = client.post(url, data)
        assert refused.status_code == 400, data
        assert escape(words) in refused.content.decode(), (data, words)
    saved.refresh_from_db()
    assert saved.schedule == ""

    done = client.post(
        url,
        {"schedule": "weekly", "weekday": "2", "monthday": "1", "format": "csv",
         "recipients": [manager_a.pk, admin.pk]},
    )  # fmt: skip
    assert done.status_code == 302
    saved.refresh_from_db()
    assert saved.schedule == Schedule.WEEKLY and saved.schedule_day == 2
    local = saved.next_run_at.astimezone(PARIS)
    assert local.weekday() == 2 and (local.hour, local.minute) == (7, 0)
    assert set(saved.recipients.values_list("email", flat=True)) == {manager_a.email, admin.email}
    assert AuditEntry.objects.filter(action="report.scheduled").count() == 1
    listing = client.get(reverse("reports:generate", args=[program_a.pk])).content.decode()
    assert "Chaque semaine, CSV" in listing and "prochain envoi le" in listing
    page = client.get(url).content.decode()
    assert "Arrêter l'envoi" in page and "jamais" in page  # not sent yet

    # the worker's clock: one run per recipient, with the saved filters; the last run shown
    assert custom.scheduled_reports_run(now=saved.next_run_at) == 2
    jobs = Job.objects.filter(kind="report")
    assert {job.payload["filters"]["cohort"] for job in jobs} == {str(people["promo"].pk)}
    saved.refresh_from_db()
    assert saved.last_run_at is not None
    listing = client.get(reverse("reports:generate", args=[program_a.pk])).content.decode()
    assert "dernier envoi le" in listing

    stopped = client.post(url, {"stop": "1"})
    assert stopped.status_code == 302
    saved.refresh_from_db()
    assert saved.schedule == "" and saved.next_run_at is None and not saved.recipients.exists()
    assert AuditEntry.objects.filter(action="report.schedule_stopped").count() == 1
    listing = client.get(reverse("reports:generate", args=[program_a.pk])).content.decode()
    assert escape("Envoi de « Suivi » arrêté.") in listing


def test_a_schedule_stopped_after_failures_says_so(people, program_a, manager_a):
    saved = _saved(program_a, manager_a)
    SavedReport.objects.filter(pk=saved.pk).update(
        schedule="monthly", failures=custom.FAILURES_MAX, stopped_at=timezone.now()
    )
    client = signed_in(manager_a)
    listing = client.get(reverse("reports:generate", args=[program_a.pk])).content.decode()
    assert "après des échecs répétés" in listing
    page = client.get(reverse("reports:saved-schedule", args=[program_a.pk, saved.pk]))
    assert "après des échecs répétés" in page.content.decode()


def test_the_page_lists_saved_reports_in_a_fixed_number_of_queries(
    people, organisation, program_a, manager_a, admin, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = signed_in(manager_a)
    url = reverse("reports:generate", args=[program_a.pk])
    promo = {"cohort": str(people["promo"].pk), "tag": str(people["boursier"].pk)}
    _saved(program_a, manager_a, name="Un", filters=promo)
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for n in range(6):
        report = _saved(
            program_a, admin if n % 2 else manager_a, shared=True, name=f"R{n}", filters=promo
        )
        SavedReport.objects.filter(pk=report.pk).update(
            schedule="weekly", next_run_at=timezone.now(), last_run_at=timezone.now()
        )
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = client.get(url).content.decode()
    assert page.count("data-saved=") == 7 and "Anne Admin" in page
    assert page.count("Cohorte : Promo 2026 · Étiquette : Boursier") == 7


def test_every_new_action_has_a_french_label():
    for action in ("report.updated", "report.deleted", "report.schedule_stopped"):
        assert action in ACTION_LABELS

"""« Importer des membres »: CSV or Excel, columns mapped (our own report maps by itself),
a preview with the problems, then all rows or none, as a background task."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from cohorte.accounts import services
from cohorte.accounts.models import CustomField, CustomFieldValue, Member
from cohorte.core.models import AuditEntry, Job

from .conftest import make_member, run_tasks, signed_in

pytestmark = pytest.mark.django_db(transaction=True)


def send_file(client, name: str, content: bytes):
    response = client.post("/membres/importer/", {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 302, response.content.decode()[-3000:]
    return response["Location"]


def go(client, mapping_url: str, **extra):
    page = client.get(mapping_url)
    form = page.context["columns"]
    data = {f"col_{index}": target for index, _name, target, _samples in form}
    data.update({"go": "1", **extra})
    response = client.post(mapping_url, data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    run_tasks()
    return Job.objects.get(kind="members_import")


@pytest.fixture
def sport(organisation):
    return CustomField.objects.create(
        organisation=organisation,
        name_fr="Sport préféré",
        name_en="Favorite sport",
        options="Baseball, Hockey, Soccer",
        multiple=True,
    )


def test_the_seeds_spreadsheet_maps_by_itself_and_imports(admin, organisation, sport):
    existing = make_member(organisation, "joe@x.example", first="Joe", city="Ancienne")
    csv = (
        b"First Name,Last Name,Email,Country,State/Province,City,Development Areas,Favorite Sport\n"
        b"Charlotte,Test,charlotte@x.example,Canada,Quebec,Laval,"
        b'"Adaptability, Leadership","Baseball, Hockey"\n'
        b'joe,smith,JOE@x.example,Canada,Ontario,,,"Soccer"\n'
    )
    client = signed_in(admin)
    mapping_url = send_file(client, "reimport.csv", csv)
    page = client.get(mapping_url)
    targets = [target for _i, _n, target, _s in page.context["columns"]]
    assert targets == [
        "first_name",
        "last_name",
        "email",
        "country",
        "province",
        "city",
        "development_areas",
        f"custom:{sport.pk}",
    ]
    assert "Charlotte" in page.content.decode()
    job = go(client, mapping_url)
    assert job.status == "done", job.result
    assert job.result["created"] == 1 and job.result["updated"] == 1
    charlotte = Member.objects.get(email="charlotte@x.example")
    assert (charlotte.first_name, charlotte.province, charlotte.organisation_id) == (
        "Charlotte",
        "Quebec",
        organisation.pk,
    )
    assert sorted(
        CustomFieldValue.objects.filter(member=charlotte).values_list("value", flat=True)
    ) == ["Baseball", "Hockey"]
    assert not charlotte.has_usable_password()
    existing.refresh_from_db()
    assert existing.last_name == "smith" and existing.city == "Ancienne"  # empty cell keeps
    assert Member.objects.filter(email__iexact="joe@x.example").count() == 1
    job = Job.objects.get(pk=job.pk)
    assert not job.chunks.exists() and "sample" not in job.payload  # the upload does not linger
    history = AuditEntry.objects.filter(action="member.imported", target_id=str(charlotte.pk))
    assert history.get().data == {"created": True}  # in each member's history


def test_a_bad_row_imports_nothing_and_every_problem_is_listed(admin, organisation, sport):
    csv = (
        "courriel;prénom;rôle;années d'expérience;sport préféré\n"
        "ok@x.example;Ok;mentor;3;Hockey\n"
        "pas-un-courriel;Non;mentor;3;\n"
        "bad@x.example;Bad;pilote;cent;Curling\n"
        "ok@x.example;Double;mentee;;\n"
    ).encode("cp1252")
    client = signed_in(admin)
    mapping_url = send_file(client, "bad.csv", csv)
    assert "pas-un-courriel" in client.get(mapping_url).content.decode()  # shown in the preview
    job = go(client, mapping_url)
    assert job.status == "failed"
    lines = [(error["line"], error["field"]) for error in job.result["errors"]]
    assert (3, "Courriel") in lines and (4, "Rôle") in lines and (4, "Années d'expérience") in lines
    assert (4, "Sport préféré") in lines and (5, "Courriel") in lines
    assert not Member.objects.filter(email__in=["ok@x.example", "bad@x.example"]).exists()
    html = client.get(f"/taches/{job.pk}/").content.decode()
    assert "Rien n&#x27;a été importé" in html and "Curling" in html


def test_excel_file_with_invitations(admin, organisation, smtp):
    book = Workbook()
    sheet = book.active
    sheet.append(["Courriel", "Prénom", "Nom", "Langue", "Années d'expérience"])
    sheet.append(["new.one@x.example", "Nina", "New", "en", 12])
    sheet.append([None, None, None, None, None])
    sheet.append(["new.two@x.example", "Noé", "Neuf", "fr", None])
    buffer = io.BytesIO()
    book.save(buffer)
    client = signed_in(admin)
    job = go(client, send_file(client, "membres.xlsx", buffer.getvalue()), invite="1")
    assert job.status == "done", job.result
    nina = Member.objects.get(email="new.one@x.example")
    assert nina.years_experience == 12 and nina.language == "en"
    assert sorted(m["X-Envelope-To"] for m in smtp) == ["new.one@x.example", "new.two@x.example"]
    english = next(m for m in smtp if m["X-Envelope-To"] == "new.one@x.example")
    assert "/compte/mot-de-passe/" in english.get_payload()


def test_our_own_members_report_reimports_as_is(admin, organisation, sport):
    """Method 3 of the end of a cycle: export the report, re-import it."""
    member = make_member(
        organisation,
        "back@x.example",
        first="Retour",
        last="Ancien",
        role="mentor",
        city="Lyon",
        job_title="Chef",
    )
    CustomFieldValue.objects.create(member=member, field=sport, value="Soccer")
    client = signed_in(admin)
    report = b"".join(client.get("/membres/rapport.csv").streaming_content)
    services.members_delete(members=[member], by=admin)
    mapping_url = send_file(client, "membres.csv", report)
    targets = {target for _i, _n, target, _s in client.get(mapping_url).context["columns"]}
    assert {"email", "first_name", "role", "city", "job_title", f"custom:{sport.pk}"} <= targets
    job = go(client, mapping_url)
    assert job.status == "done", job.result
    back = Member.objects.get(email="back@x.example")
    assert (back.first_name, back.role, back.city, back.job_title) == (
        "Retour",
        "mentor",
        "Lyon",
        "Chef",
    )
    assert list(back.field_values.values_list("value", flat=True)) == ["Soccer"]


def test_an_email_of_another_organisation_is_refused(admin, outsider):
    client = signed_in(admin)
    job = go(client, send_file(client, "x.csv", b"email\nolga@ailleurs.example\n"))
    assert job.status == "failed" and job.result["errors"][0]["line"] == 2
    outsider.refresh_from_db()
    assert outsider.organisation_id != admin.organisation_id


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("vide.csv", b"", "Le fichier est vide."),
        ("x.xlsx", b"PK\x03\x04garbage", "Ce fichier Excel est illisible"),
        ("x.csv", b"email\n", "aucune ligne de membre"),
    ],
)
def test_unreadable_files_are_explained(admin, name, content, message):
    response = signed_in(admin).post(
        "/membres/importer/", {"file": SimpleUploadedFile(name, content)}
    )
    assert response.status_code == 200 and message in response.content.decode()


def test_without_an_email_column_there_is_no_import(admin):
    client = signed_in(admin)
    mapping_url = send_file(client, "x.csv", b"nom\nDupont\n")
    response = client.post(mapping_url, {"col_0": "last_name", "go": "1"})
    assert "Associez une colonne au courriel" in response.content.decode()
    assert Job.objects.get().status == "queued"


def test_digits_that_are_not_ascii_are_a_line_error_not_a_server_error(admin, organisation):
    csv = "courriel;années d'expérience\nun@x.example;²\ndeux@x.example;٣\n".encode()
    client = signed_in(admin)
    mapping_url = send_file(client, "chiffres.csv", csv)
    page = client.get(mapping_url)
    assert page.status_code == 200
    assert "Années d&#x27;expérience : un nombre entier de 0 à 80" in page.content.decode()
    job = go(client, mapping_url)
    assert job.status == "failed" and [e["line"] for e in job.result["errors"]] == [2, 3]
    assert not Member.objects.filter(email__in=["un@x.example", "deux@x.example"]).exists()


def test_a_column_mapped_to_an_unknown_target_is_ignored(admin, organisation):
    client = signed_in(admin)
    mapping_url = send_file(client, "m.csv", b"courriel;sport\na@x.example;Hockey\n")
    for target in ("custom:²", "custom:99999999999999999999", "password", "is_org_admin"):
        response = client.post(mapping_url, {"col_0": "email", "col_1": target, "go": "1"})
        assert response.status_code in (200, 302)
        Job.objects.filter(kind="members_import").update(status="queued")
    run_tasks()
    member = Member.objects.get(email="a@x.example")
    assert not member.is_org_admin and not member.has_usable_password()

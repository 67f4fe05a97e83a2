"""Switching members off: the « Actif » box, and a CSV of e-mails that changes nothing
until it is clean."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cohorte.accounts.models import Member
from cohorte.core.models import AuditEntry

from .conftest import PASSWORD, make_member, signed_in


@pytest.fixture
def crew(organisation):
    return [make_member(organisation, f"m{n}@x.example", first=f"M{n}") for n in range(3)]


def active_flags(*members):
    return [Member.objects.get(pk=m.pk).is_active for m in members]


def test_unticking_actif_switches_off_at_once_and_is_audited(admin, mentee):
    client = signed_in(admin)
    response = client.post(
        f"/membres/{mentee.pk}/actif/", {"active": "0"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert 'id="active-' in response.content.decode()
    mentee.refresh_from_db()
    assert not mentee.is_active and mentee.deactivated_at is not None
    entry = AuditEntry.objects.get(action="member.deactivated")
    assert entry.actor == admin and entry.target_id == str(mentee.pk)
    client.post(f"/membres/{mentee.pk}/actif/", {"active": "1"}, headers={"HX-Request": "true"})
    mentee.refresh_from_db()
    assert mentee.is_active and mentee.deactivated_at is None
    assert AuditEntry.objects.filter(action="member.activated").count() == 1


def test_a_deactivated_member_is_refused_with_the_message_and_loses_their_session(admin, mentee):
    session = signed_in(mentee)
    assert session.get("/mon-espace/").status_code == 200
    signed_in(admin).post(f"/membres/{mentee.pk}/actif/", {"active": "0"})
    assert session.get("/mon-espace/").status_code == 302  # signed out
    response = Client().post("/compte/connexion/", {"username": mentee.email, "password": PASSWORD})
    assert (
        "Votre compte a été désactivé. Veuillez envoyer un courriel à admin@poitiers.example"
        in response.content.decode()
    )


def test_an_administrator_cannot_switch_themself_off(admin):
    response = signed_in(admin).post(
        f"/membres/{admin.pk}/actif/", {"active": "0"}, headers={"HX-Request": "true"}
    )
    assert "Vous ne pouvez pas désactiver votre propre compte." in response.content.decode()
    admin.refresh_from_db()
    assert admin.is_active


def upload(client, content: bytes, name="liste.csv"):
    return client.post(
        "/membres/desactiver/", {"file": SimpleUploadedFile(name, content, "text/csv")}
    )


@pytest.mark.parametrize(
    "content",
    [
        b"courriel\nm0@x.example\nm1@x.example\n",
        "\ufeffEmail;Nom\nM0@X.example;Zéro\n m1@x.example ;Un\n".encode(),
        "Nom,COURRIEL\nZéro,m0@x.example\nUn,m1@x.example\n\n".encode("cp1252"),
        "courriel\r\nm0@x.example\r\nm1@x.example\r\nm0@x.example\r\n".encode("utf-8-sig"),
    ],
    ids=["plain", "bom-semicolon-case", "windows-1252-comma", "crlf-duplicate"],
)
def test_a_clean_file_switches_off_exactly_those_members(admin, crew, content):
    response = upload(signed_in(admin), content)
    assert response.status_code == 302
    assert active_flags(*crew) == [False, False, True]
    assert AuditEntry.objects.filter(action="member.deactivated").count() == 2


@pytest.mark.parametrize(
    "content, message",
    [
        (
            b"nom\nm0@x.example\n",
            "La première ligne doit contenir une colonne « courriel » ou « email »",
        ),
        (b"courriel\nm0@x.example\ninconnu@x.example\n", '<td class="num">3</td><td>Aucun membre'),
        (b"courriel\nm0@x.example\npas-un-courriel\n", "n&#x27;est pas un courriel valide"),
        ("courriel\nm0@x.example\n".encode("utf-16"), "CSV lisible"),
        (b"courriel\nm0@x.example\n\x81\x8d\n", "Encodage illisible"),
        (b"", "Le fichier est vide."),
        (b"   \n\n", "Le fichier est vide."),
        (b"courriel\n", "Le fichier ne contient aucun courriel."),
        (
            b"courriel\nm0@x.example\nadmin@poitiers.example\n",
            "un fichier ne désactive jamais un administrateur",
        ),
    ],
    ids=[
        "wrong-header",
        "unknown-email",
        "malformed",
        "utf-16",
        "bad-bytes",
        "empty",
        "blank",
        "header-only",
        "admin",
    ],
)
def test_a_bad_file_changes_nothing_and_says_why(admin, crew, content, message):
    response = upload(signed_in(admin), content)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert active_flags(*crew, admin) == [True, True, True, True]
    assert not AuditEntry.objects.filter(action="member.deactivated").exists()


def test_every_bad_line_is_listed(admin, crew):
    content = b"courriel\nm0@x.example\nx1@x.example\nm1@x.example\nx2@x.example\n"
    html = upload(signed_in(admin), content).content.decode()
    assert "Aucun membre n&#x27;a le courriel x1@x.example" in html
    assert "Aucun membre n&#x27;a le courriel x2@x.example" in html
    assert html.index("x1@x.example") < html.index("x2@x.example")


def test_a_5_mb_file_is_refused_before_reading(admin, crew):
    content = b"courriel\n" + b"m0@x.example\n" * (5 * 1024 * 1024 // 13)
    html = upload(signed_in(admin), content).content.decode()
    assert "Le fichier dépasse 2 Mo" in html
    assert active_flags(*crew) == [True, True, True]


def test_another_organisations_member_is_unknown(admin, crew, outsider):
    html = upload(signed_in(admin), b"courriel\nolga@ailleurs.example\n").content.decode()
    assert "Aucun membre n&#x27;a le courriel olga@ailleurs.example" in html
    assert Member.objects.get(pk=outsider.pk).is_active


def test_errors_speak_the_administrators_language(organisation, crew):
    english_admin = make_member(organisation, "boss@x.example", is_org_admin=True, language="en")
    html = upload(signed_in(english_admin), b"courriel\nnobody@x.example\n").content.decode()
    assert "No member has the e-mail nobody@x.example" in html


def test_the_sample_is_the_template_to_fill(admin):
    response = signed_in(admin).get("/membres/desactiver/echantillon.csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert text.splitlines()[0] == "courriel"


def test_only_administrators_deactivate_by_file(manager_a, crew):
    response = upload(signed_in(manager_a), b"courriel\nm0@x.example\n")
    assert response.status_code == 404
    assert active_flags(*crew) == [True, True, True]

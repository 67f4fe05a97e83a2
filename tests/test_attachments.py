"""Attachments by an allow-list of what the content is (PDF, images, office documents),
agreeing with the file's extension; programs and disguises are refused. Stored under a
random name and never served on a URL."""

import io
import re
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import Workbook
from PIL import Image

from cohorte.messaging.attachments import attachment_check, content_type_of
from cohorte.messaging.models import Attachment, Message

from .conftest import run_tasks, signed_in

REFUSED = "ce type de fichier n'est pas accepté"


def zipped(entries: dict[str, bytes], *, stored_first: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for n, (name, content) in enumerate(entries.items()):
            method = zipfile.ZIP_STORED if stored_first and n == 0 else zipfile.ZIP_DEFLATED
            archive.writestr(name, content, compress_type=method)
    return buffer.getvalue()


CONTENT_TYPES = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'


def docx() -> bytes:
    return zipped(
        {
            "[Content_Types].xml": CONTENT_TYPES,
            "_rels/.rels": b"<Relationships/>",
            "word/document.xml": b"<w:document/>",
        }
    )


def xlsx() -> bytes:
    book = Workbook()
    book.active.append(["Nom", "Courriel"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def image(kind: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, kind)
    return buffer.getvalue()


def odf(mime: str) -> bytes:
    return zipped(
        {"mimetype": mime.encode(), "content.xml": b"<office:document-content/>"},
        stored_first=True,
    )


def ole(marker: bytes) -> bytes:
    """An OLE2 compound file header; Word puts its marker at offset 512."""
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504 + marker + b"\0" * 3000


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"

ACCEPTED = [
    ("programme.pdf", PDF, "application/pdf"),
    ("photo.png", image("PNG"), "image/png"),
    ("photo.JPG", image("JPEG"), "image/jpeg"),
    ("photo.jpeg", image("JPEG"), "image/jpeg"),
    ("anim.gif", image("GIF"), "image/gif"),
    ("photo.webp", image("WEBP"), "image/webp"),
    (
        "lettre.docx",
        docx(),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    (
        "tableau.xlsx",
        xlsx(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("texte.odt", odf("application/vnd.oasis.opendocument.text"), None),
    ("calc.ods", odf("application/vnd.oasis.opendocument.spreadsheet"), None),
    ("ancien.doc", ole(b"\xec\xa5\xc1\x00"), "application/msword"),
]

MACHO = b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + b"\0" * 200
JAVA = b"\xca\xfe\xba\xbe\x00\x00\x00\x34" + b"\0" * 200
ELF = b"\x7fELF\x02\x01\x01" + b"\0" * 200
PE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\0" * 56 + b"PE\0\0" + b"\0" * 200
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"

REFUSED_FILES = [
    ("programme.pdf", MACHO),  # Mach-O
    ("cours.pdf", JAVA),  # Java class
    ("Main.class", JAVA),
    ("photo.png", ELF),
    ("rapport.docx", PE),
    ("setup.exe", PE),
    ("facture.pdf", HTML),  # HTML named .pdf
    ("page.html", HTML),
    ("lettre.docx", zipped({"evil.js": b"WScript.Echo(1)"})),  # a zip named .docx
    ("lettre.docx", zipped({"[Content_Types].xml": CONTENT_TYPES})),  # no word/ inside
    ("lettre.docx", xlsx()),  # a spreadsheet is not a letter
    (
        "lettre.docx",
        zipped(
            {
                "[Content_Types].xml": CONTENT_TYPES,
                "word/document.xml": b"<w:document/>",
                "word/vbaProject.bin": b"macros",
            }
        ),
    ),  # macros under a .docx name
    ("texte.odt", odf("application/vnd.oasis.opendocument.spreadsheet")),
    ("ancien.doc", ole(b"\0\0\0\0")),  # another OLE file (an .msi is one) named .doc
    ("photo.png", image("JPEG")),  # the content and the name disagree
    ("programme.pdf", image("PNG")),
    ("notes.txt", b"just text"),  # plain text and CSV are not on the list
    ("liste.csv", b"a;b\n1;2\n"),
    ("vide.pdf", b""),
    ("sans-extension", PDF),
    ("archive.zip", zipped({"a.pdf": PDF})),
]


@pytest.mark.parametrize("name, content, mime", ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_documents_and_images_are_accepted(name, content, mime):
    upload = SimpleUploadedFile(name, content)
    assert attachment_check(upload) is None
    if mime:
        assert content_type_of(upload) == mime
    assert upload.read() == content  # the check leaves the file at its start


@pytest.mark.parametrize(
    "name, content", REFUSED_FILES, ids=[f"{n}-{i}" for i, (n, _c) in enumerate(REFUSED_FILES)]
)
def test_programs_and_disguises_are_refused(name, content):
    problem = attachment_check(SimpleUploadedFile(name, content, "application/pdf"))
    assert problem is not None and REFUSED in problem


def test_a_zip_with_too_many_entries_is_refused():
    many = {"[Content_Types].xml": CONTENT_TYPES, **{f"word/{n}.xml": b"" for n in range(6000)}}
    assert attachment_check(SimpleUploadedFile("gros.docx", zipped(many))) is not None


@pytest.mark.django_db(transaction=True)
def test_an_attachment_is_stored_under_a_random_name_and_never_served(
    admin, program_b, mentee, smtp, settings, tmp_path
):
    from cohorte.programs.models import Enrolment, Role

    Enrolment.objects.create(program=program_b, member=mentee, role=Role.MENTEE)
    settings.MEDIA_ROOT = tmp_path
    client = signed_in(admin)
    response = client.post(
        "/messages/",
        {
            "program": program_b.pk,
            "audience": "mentees",
            "subject_fr": "Le planning",
            "body_fr": "<p>Ci-joint</p>",
            "attachments": [
                SimpleUploadedFile("planning-secret.pdf", PDF, "application/pdf"),
                SimpleUploadedFile("tableau.xlsx", xlsx(), "application/octet-stream"),
            ],
        },
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    stored = {a.name: a for a in Attachment.objects.all()}
    assert set(stored) == {"planning-secret.pdf", "tableau.xlsx"}
    for attachment in stored.values():
        assert re.fullmatch(r"attachments/[0-9a-f]{32}\.(pdf|xlsx)", attachment.file.name)
        assert "planning" not in attachment.file.name
    assert stored["tableau.xlsx"].content_type.endswith("spreadsheetml.sheet")
    page = client.get(response["Location"]).content.decode()
    assert "planning-secret.pdf" in page and "/media/" not in page
    assert "/media/" not in client.get("/messages/").content.decode()
    for attachment in stored.values():
        assert Client().get(f"/media/{attachment.file.name}").status_code == 404
        assert client.get(f"/media/{attachment.file.name}").status_code == 404
    client.post(f"/messages/{Message.objects.get().pk}/envoyer/", {"when": "now"})
    run_tasks()
    names = sorted(p.get_filename() for p in smtp[0].walk() if p.get_filename())
    assert names == ["planning-secret.pdf", "tableau.xlsx"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name, content",
    [
        ("programme.pdf", MACHO),
        ("cours.pdf", JAVA),
        ("facture.pdf", HTML),
        ("lettre.docx", zipped({"evil.js": b"WScript.Echo(1)"})),
        ("photo.png", ELF),
        ("rapport.docx", PE),
    ],
    ids=["mach-o", "java-class", "html-as-pdf", "zip-as-docx", "elf", "pe"],
)
def test_a_disguised_file_on_the_compose_page_saves_nothing(admin, program_b, name, content):
    response = signed_in(admin).post(
        "/messages/",
        {
            "program": program_b.pk,
            "audience": "mentees",
            "subject_fr": "Facture",
            "body_fr": "<p>Voir pièce jointe</p>",
            "attachments": SimpleUploadedFile(name, content, "application/pdf"),
        },
    )
    assert response.status_code == 200
    assert "ce type de fichier n&#x27;est pas accepté" in response.content.decode()
    assert not Message.objects.exists() and not Attachment.objects.exists()

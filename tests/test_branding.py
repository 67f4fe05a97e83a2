"""The Programme tab (Info and Design) and the brand it gives the programme's pages,
e-mails and summary PDF; who may see the brand's files."""

import html
import io
import re
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from cohorte.messaging import services as messaging
from cohorte.messaging.models import Message
from cohorte.programs import branding
from cohorte.programs.models import Enrolment, Program, ProgramPartnerLogo, Role

from .conftest import body_of, make_member, run_tasks, signed_in
from .test_browser import browser, signed_in_page  # noqa: F401 (the Chromium fixture)

pytestmark = pytest.mark.django_db(transaction=True)

GOOD = {"color_primary": "#1d4ed8", "color_secondary": "#334155", "font": "georgia"}


def png(size=(40, 20), colour=(200, 30, 30), extra=b"") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue() + extra


def upload(name: str, data: bytes, kind: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=kind)


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def design(client, program, **fields):
    return client.post(f"/programmes/{program.pk}/design/", {**GOOD, **fields})


# --- Rules, alone ----------------------------------------------------------------------------


def test_contrast_ratio_is_wcags():
    assert branding.contrast_ratio("#000000", "#ffffff") == pytest.approx(21)
    assert branding.contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1)
    assert round(branding.contrast_ratio("#767676", "#ffffff"), 2) == 4.54
    # the page's background is a little darker than white: that is the binding pair
    assert branding.brand_contrast("#767676") < 4.5 < branding.brand_contrast("#1d4ed8")


# --- Design: the form refuses what would not read -------------------------------------------


def test_a_colour_that_is_not_hex_is_refused(admin, program_b):
    response = design(signed_in(admin), program_b, color_primary="#12345g")
    assert response.status_code == 400
    assert "n'est pas une couleur : écrivez-la #RRVVBB" in text_of(response)
    program_b.refresh_from_db()
    assert program_b.color_primary == branding.DEFAULT_PRIMARY


def test_a_colour_too_light_for_white_text_is_refused_with_its_ratio(admin, program_b):
    response = design(signed_in(admin), program_b, color_primary="#ffcc00")
    page = text_of(response)
    assert response.status_code == 400
    # #ffcc00: 1.51:1 on white, 1.41:1 on the page's background #f6f7f9: the lower, rounded down
    assert "La couleur principale #ffcc00 n'a qu'un contraste de 1,4:1" in page
    assert "il faut au moins 4,5:1 (WCAG AA)" in page
    response = design(signed_in(admin), program_b, color_secondary="#9ca3af")
    assert "La couleur secondaire #9ca3af n'a qu'un contraste de 2,3:1" in text_of(response)
    program_b.refresh_from_db()
    assert program_b.color_secondary == branding.DEFAULT_SECONDARY


def test_a_good_design_is_saved_and_its_logo_re_encoded(manager_b, program_b):
    payload = b"<script>alert(1)</script>"
    response = design(signed_in(manager_b), program_b, logo=upload("logo.png", png(extra=payload)))
    assert response.status_code == 302
    program_b.refresh_from_db()
    assert (program_b.color_primary, program_b.font) == ("#1d4ed8", "georgia")
    assert program_b.logo.name.startswith("brand/") and "logo" not in program_b.logo.name
    stored = program_b.logo.read()
    assert stored.startswith(b"\x89PNG") and payload not in stored  # pixels kept, bytes not
    served = signed_in(manager_b).get(program_b.logo_url)
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert served["Content-Security-Policy"] == "default-src 'none'; sandbox"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("big.png", png() + b"\0" * (2 * 1024 * 1024), "dépasse 2 Mo"),
        ("fake.png", b"GIF89a" + b"not an image at all" * 10, "n'est pas une image lisible"),
        (
            "script.png",
            b"<svg onload=alert(1)></svg>",
            "n'est pas une image PNG, JPEG, GIF ou WebP",
        ),
    ],
)
def test_an_oversize_or_fake_image_is_refused(admin, program_b, name, data, message):
    response = design(signed_in(admin), program_b, image=upload(name, data))
    assert response.status_code == 400
    assert message in text_of(response)
    program_b.refresh_from_db()
    assert not program_b.image


def test_partner_logos_are_added_shown_and_removed(manager_b, program_b):
    client = signed_in(manager_b)
    response = client.post(
        f"/programmes/{program_b.pk}/partenaires/ajouter/",
        {"name": "Région", "url": "https://region.example", "position": 1,
         "image": upload("r.png", png())},
    )  # fmt: skip
    assert response.status_code == 302
    logo = ProgramPartnerLogo.objects.get(program=program_b)
    page = client.get(f"/programmes/{program_b.pk}/design/").content.decode()
    assert 'alt="Région"' in page and logo.file_url() in page
    assert client.get(logo.file_url()).status_code == 200
    bad = client.post(
        f"/programmes/{program_b.pk}/partenaires/ajouter/",
        {"name": "X", "url": "javascript:alert(1)", "position": 0, "image": upload("x.png", png())},
    )
    assert bad.status_code == 400 and ProgramPartnerLogo.objects.count() == 1
    client.post(f"/programmes/{program_b.pk}/partenaires/{logo.pk}/retirer/")
    assert not ProgramPartnerLogo.objects.exists()


# --- Info: rich text that cannot run ---------------------------------------------------------

HOSTILE = (
    '<p>Bonjour <strong>à tous</strong></p><script>alert("x")</script>'
    '<img src="https://x.example/a.png" onerror="alert(1)"><a href="javascript:alert(2)">lien</a>'
)


def test_about_is_sanitised_and_never_runs_on_the_page(admin, program_b):
    client = signed_in(admin)
    response = client.post(
        f"/programmes/{program_b.pk}/modifier/",
        {
            "name": program_b.name, "kind": program_b.kind,
            "start_date": program_b.start_date.isoformat(),
            "end_date": program_b.end_date.isoformat(), "objective": program_b.objective,
            "unanswered_after_days": 7, "description": "", "managers": [],
            "slogan_fr": "Grandir ensemble", "slogan_en": "Grow together",
            "about_fr": HOSTILE, "about_en": "<p>Hello</p>",
        },
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[-2000:]
    program_b.refresh_from_db()
    assert program_b.slogan_fr == "Grandir ensemble"
    assert "<script" not in program_b.about_fr and "onerror" not in program_b.about_fr
    # stored unsanitised by another way (an old row, a direct write): still clean when shown
    Program.objects.filter(pk=program_b.pk).update(about_fr=HOSTILE)
    page = client.get(f"/programmes/{program_b.pk}/").content.decode()
    assert "Bonjour <strong>à tous</strong>" in page and "Grandir ensemble" in page
    assert 'alert("x")' not in page and "onerror" not in page and "javascript:" not in page


def test_a_manager_edits_the_info_but_not_the_settings(manager_b, program_b):
    client = signed_in(manager_b)
    page = client.get(f"/programmes/{program_b.pk}/modifier/").content.decode()
    assert 'name="slogan_en"' in page and 'name="objective"' not in page
    client.post(
        f"/programmes/{program_b.pk}/modifier/",
        {"slogan_fr": "Ensemble", "slogan_en": "", "about_fr": "", "about_en": "", "objective": 99},
    )
    program_b.refresh_from_db()
    assert program_b.slogan_fr == "Ensemble" and program_b.objective == 2


# --- The brand where the programme shows -----------------------------------------------------


def test_the_programme_pages_wear_the_brand(manager_b, program_b):
    Program.objects.filter(pk=program_b.pk).update(
        color_primary="#0f5132", color_secondary="#3d1f5c", font="verdana"
    )
    page = signed_in(manager_b).get(f"/programmes/{program_b.pk}/").content.decode()
    main = re.search(r"<main[^>]*>", page).group(0)
    assert 'class="brand-scope"' in main
    assert "--brand-primary: #0f5132" in main and "--brand-secondary: #3d1f5c" in main
    assert "--brand-font: Verdana, Geneva, Tahoma, sans-serif" in main
    assert "/static/css/brand.css" in page
    assert "Export as PDF" in page  # manager_b reads English


def test_a_programmes_e_mail_carries_its_logo_colours_and_a_clean_text(
    admin, program_b, manager_b, smtp
):
    Program.objects.filter(pk=program_b.pk).update(
        color_primary="#0f5132", color_secondary="#3d1f5c", slogan_fr="Grandir ensemble"
    )
    program = Program.objects.get(pk=program_b.pk)
    program.logo.save("logo.png", upload("logo.png", png()), save=True)
    fanny = make_member(program.organisation, "fanny@x.example", first="Fanny", last="Fr")
    Enrolment.objects.create(program=program, member=fanny, role=Role.MENTEE)
    response = signed_in(admin).post(
        "/messages/",
        {"audience": "mentees", "program": program.pk, "subject_fr": "Bienvenue",
         "subject_en": "Welcome", "body_fr": "<p>Bonjour <strong>{prénom}</strong></p>",
         "body_en": "<p>Hello</p>"},
    )  # fmt: skip
    assert response.status_code == 302
    message = Message.objects.get()
    signed_in(admin).post(f"/messages/{message.pk}/envoyer/", {"when": "now"})
    run_tasks()
    sent = next(m for m in smtp if m["X-Envelope-To"] == "fanny@x.example")
    part = next(p for p in sent.walk() if p.get_content_type() == "text/html")
    markup = part.get_payload(decode=True).decode()
    assert "background:#0f5132" in markup and "background:#3d1f5c" in markup
    assert "Bonjour <strong>Fanny</strong>" in markup and "Grandir ensemble" in markup
    logo = re.search(r'<img src="(http[^"]+/marque/logo/\?s=[^"]+)"', markup).group(1)
    text = body_of(sent).replace("\r\n", "\n")
    assert text.startswith("Mentorat B\nGrandir ensemble\n\nBonjour Fanny")
    assert "<" not in text and text.rstrip().endswith("Mentorat B · Lycées de Poitiers")
    # the e-mail client, without a session, opens that logo and nothing else
    address = urlsplit(logo)
    path = f"{address.path}?{address.query}"
    anonymous = Client()
    assert anonymous.get(path).status_code == 200
    assert anonymous.get(path[:-2] + "xx").status_code == 404
    assert anonymous.get(path.replace("/logo/", "/image/")).status_code == 404
    assert anonymous.get(program.logo_url).status_code == 404  # unsigned, unpublished


def test_a_reminder_for_a_programme_is_in_its_brand(admin, program_a, mentee, smtp):
    from cohorte.activity.services import participants_remind

    Program.objects.filter(pk=program_a.pk).update(color_primary="#7c2d12")
    participants_remind(program=Program.objects.get(pk=program_a.pk), members=[mentee], by=admin)
    messaging.outbox_send()
    sent = smtp[0]
    part = next(p for p in sent.walk() if p.get_content_type() == "text/html")
    assert "background:#7c2d12" in part.get_payload(decode=True).decode()
    assert body_of(sent).startswith("Orientation A")


def test_the_summary_pdf_is_a_pdf_in_the_brand_with_the_figures(manager_b, program_b, mentor):
    from pypdf import PdfReader

    Program.objects.filter(pk=program_b.pk).update(slogan_fr="Grandir ensemble")
    program = Program.objects.get(pk=program_b.pk)
    program.logo.save("logo.png", upload("logo.png", png()), save=True)
    response = signed_in(manager_b).get(f"/programmes/{program_b.pk}/resume.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert 'filename="mentorat-b-' in response["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "Mentorat B" in text and "Grandir ensemble" in text
    assert "Key figures" in text and "Participants" in text  # in manager_b's English
    assert sum(len(page.images) for page in reader.pages) == 1  # the logo


# --- Permissions -----------------------------------------------------------------------------


def test_another_programmes_manager_gets_404_everywhere(manager_a, outsider, program_b):
    program = Program.objects.get(pk=program_b.pk)
    program.logo.save("logo.png", upload("logo.png", png()), save=True)
    partner = ProgramPartnerLogo(program=program, name="P")
    partner.image.save("p.png", upload("p.png", png()), save=True)
    outsider.is_org_admin = True
    outsider.save()
    paths = [
        f"/programmes/{program.pk}/modifier/",
        f"/programmes/{program.pk}/design/",
        f"/programmes/{program.pk}/resume.pdf",
        program.logo_url,
        partner.file_url(),
    ]
    for person in (manager_a, outsider):
        client = signed_in(person)
        for path in paths:
            assert client.get(path).status_code == 404, (person, path)
        assert design(client, program, color_primary="#000000").status_code == 404
    program.refresh_from_db()
    assert program.color_primary == branding.DEFAULT_PRIMARY


def test_brand_files_are_public_only_once_the_site_is_published(program_b, mentor):
    program = Program.objects.get(pk=program_b.pk)
    program.logo.save("logo.png", upload("logo.png", png()), save=True)
    assert Client().get(program.logo_url).status_code == 404
    assert signed_in(mentor).get(program.logo_url).status_code == 200  # enrolled in it
    Program.objects.filter(pk=program.pk).update(site_published=True)
    assert Client().get(program.logo_url).status_code == 200
    assert Client().get(f"/programmes/{program.pk}/marque/secret/").status_code == 404


# --- In Chromium: the preview follows the form -----------------------------------------------


@pytest.mark.browser
def test_the_live_preview_follows_the_colour_as_it_is_typed(
    browser,  # noqa: F811 (test_browser's Chromium fixture, imported above)
    live_server,
    manager_a,
    program_a,
):
    page = signed_in_page(browser, live_server, manager_a)
    page.goto(f"{live_server.url}/programmes/{program_a.pk}/design/")
    head = page.locator(".brand-preview-head")
    ratio = page.locator("[data-ratio-for=color_primary]")

    def background() -> str:
        return head.evaluate("node => getComputedStyle(node).backgroundColor")

    assert background() == "rgb(47, 91, 211)"  # the default #2f5bd3
    page.fill("#id_color_primary", "#0f5132")
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('.brand-preview-head'))"
        ".backgroundColor === 'rgb(15, 81, 50)'"
    )
    assert background() == "rgb(15, 81, 50)"
    assert ratio.inner_text() == "contraste 8,7:1"
    page.fill("#id_color_primary", "#ffcc00")
    page.wait_for_function("() => document.querySelector('.brand-ratio-low') !== null")
    assert ratio.inner_text() == "contraste 1,4:1 — trop faible, 4,5:1 au moins"
    assert background() == "rgb(255, 204, 0)"
    page.select_option("#id_font", "georgia")
    family = page.locator("#brand-preview").evaluate("node => getComputedStyle(node).fontFamily")
    assert family.startswith("Georgia")
    page.close()

"""Content-Security-Policy (issue 9): every page carries it, scripts need our files or the
request's nonce, no inline handler is left in a template, and in a real Chromium a page
raises no CSP violation while « confirm » and « autosubmit » still work."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from cohorte.accounts.models import CustomField

from .conftest import signed_in
from .test_browser import browser, signed_in_page  # noqa: F401 — the Chromium fixture

ROOT = Path(settings.BASE_DIR)

INLINE = re.compile(
    r"""\son[a-z]+\s*=|\bhx-on\b|hx-on:|href\s*=\s*["']?\s*javascript:|<script(?![^>]*\ssrc=)""",
    re.I,
)


def policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition(" ")
        directives[name] = value
    return directives


def test_a_page_carries_the_policy(client, db):
    found = policy(client.get("/compte/connexion/"))
    assert found["default-src"] == "'self'"
    assert found["object-src"] == "'none'"
    assert found["base-uri"] == "'self'"
    assert found["frame-ancestors"] == "'none'"
    assert found["form-action"] == "'self'"
    assert found["img-src"].split() == ["'self'", "https:", "data:"]
    assert found["style-src"] == "'self'" and found["style-src-attr"] == "'unsafe-inline'"
    assert "'unsafe-inline'" not in found["script-src"] and "eval" not in found["script-src"]


def test_scripts_carry_the_nonce_of_the_header(admin):
    response = signed_in(admin).get("/membres/")
    script_src = policy(response)["script-src"].split()
    assert script_src[0] == "'self'"
    nonce = re.fullmatch(r"'nonce-([\w-]+)'", script_src[1]).group(1)
    html = response.content.decode()
    # every script (htmx, cohorte.js, the select component and its initialiser) carries it
    assert html.count("<script") == html.count(f'nonce="{nonce}"') >= 4
    assert '"includeIndicatorStyles": false' in html and '"allowEval": false' in html
    again = policy(signed_in(admin).get("/membres/"))["script-src"]
    assert nonce not in again  # a new nonce for each response


def test_the_api_carries_it_too(api_as, admin):
    assert "default-src 'self'" in api_as(admin).get("/api/members")["Content-Security-Policy"]


def test_no_template_has_an_inline_handler_or_script():
    offenders = []
    for path in sorted(ROOT.glob("templates/**/*.html")) + sorted(
        ROOT.glob("cohorte/*/templates/**/*.html")
    ):
        relative = str(path.relative_to(ROOT))
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if INLINE.search(line):
                offenders.append(f"{relative}:{number}: {line.strip()[:80]}")
    assert offenders == []


def test_our_script_uses_no_eval():
    text = (ROOT / "static/js/cohorte.js").read_text()
    assert "eval(" not in text and "new Function" not in text and 'setAttribute("on' not in text


# --- In Chromium --------------------------------------------------------------------------


def _watch_csp(page) -> list[str]:
    """Every CSP violation the page reports (console and securitypolicyviolation events)."""
    seen: list[str] = []
    page.on(
        "console",
        lambda message: (
            seen.append(message.text)
            if "Content Security Policy" in message.text
            or "Content-Security-Policy" in message.text
            else None
        ),
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', (e) => {"
        " (window.__csp = window.__csp || []).push(e.violatedDirective + ' ' + e.blockedURI); });"
    )
    return seen


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_pages_raise_no_csp_violation_and_confirm_and_autosubmit_work(
    browser,  # noqa: F811
    live_server,
    admin,
    organisation,
    mentor,
    mentee,
):
    field = CustomField.objects.create(organisation=organisation, name_fr="À supprimer")
    mentor.role = "mentor"
    mentor.save()
    page = signed_in_page(browser, live_server, admin)
    seen = _watch_csp(page)

    # The members list: htmx loads, filters by autosubmit (no click on « Rechercher »).
    page.goto(f"{live_server.url}/membres/")
    page.wait_for_function("() => window.htmx !== undefined")
    assert page.locator(f"tr[data-member='{mentee.pk}']").count() == 1
    page.select_option("select[name=role]", "mentor")
    page.wait_for_function("() => location.search.includes('role=mentor')")
    page.wait_for_selector(f"tr[data-member='{mentee.pk}']", state="detached")
    assert page.locator(f"tr[data-member='{mentor.pk}']").count() == 1
    page.select_option("select[name=role]", "")
    page.wait_for_selector(f"tr[data-member='{mentee.pk}']")

    # A refused confirmation changes nothing; an accepted one deletes.
    page.goto(f"{live_server.url}/membres/champs/{field.pk}/")
    answers = iter([False, True])
    asked: list[str] = []

    def on_dialog(dialog):
        asked.append(dialog.message)
        if next(answers):
            dialog.accept()
        else:
            dialog.dismiss()

    page.on("dialog", on_dialog)
    page.click("button[name=delete]")
    page.wait_for_timeout(300)
    assert CustomField.objects.filter(pk=field.pk).exists()
    assert "/champs/" in page.url
    page.click("button[name=delete]")
    page.wait_for_url(lambda url: url.endswith("/membres/champs/"))
    assert not CustomField.objects.filter(pk=field.pk).exists()
    assert len(asked) == 2 and "irréversible" in asked[0]

    # A few other screens, for violations only.
    for path in ("/membres/jetons/", "/mon-espace/", "/mon-espace/profil/"):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("load")
        assert page.evaluate("window.__csp || []") == [], path
    assert seen == []
    page.close()

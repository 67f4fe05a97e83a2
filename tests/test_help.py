"""The help centre: articles in both languages, search, article pages, the contact to the
organisation's administrators, the « ? » of each page, and the screenshots' page list."""

import html
import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from cohorte.help.articles import (
    ARTICLES_DIR,
    LANGUAGES,
    MAX_QUERY,
    _library,
    _parse,
    article_get,
    articles_search,
)
from cohorte.help.links import VIEW_ARTICLES
from cohorte.programs.models import Organisation

from .conftest import make_member, signed_in

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db


def english() -> Client:
    client = Client()
    client.cookies["django_language"] = "en"
    return client


def titles(response) -> list[str]:
    found = re.findall(r'<a href="/aide/[a-z0-9-]+/">([^<]+)</a>', response.content.decode())
    return [html.unescape(title) for title in found]


def view_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
                walk(pattern.url_patterns, namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(f"{prefix}{pattern.name}")

    walk(get_resolver().url_patterns)
    return names


# --- The articles themselves ---------------------------------------------------------------


def test_every_article_exists_in_french_and_english_with_a_title_and_audience():
    library = _library()
    assert set(library["fr"]) == set(library["en"])
    assert len(library["fr"]) >= 11
    for language in LANGUAGES:
        for article in library[language].values():
            assert article.title and article.audience in ("managers", "members")
            assert article.audience == library["fr"][article.slug].audience
    audiences = {a.audience for a in library["fr"].values()}
    assert audiences == {"managers", "members"}


def test_articles_never_carry_script_or_event_handlers():
    for language in LANGUAGES:
        for article in _library()[language].values():
            assert "<script" not in article.html
            assert not re.search(r"\son\w+=", article.html)


def test_markdown_html_is_sanitised(tmp_path):
    hostile = tmp_path / "piege.md"
    hostile.write_text(
        "---\ntitle: Piège\naudience: members\n---\n"
        "Du texte <script>alert(1)</script> et <img src=x onerror=alert(2)>.\n\n"
        "[clic](javascript:alert(3)) et [ok](https://cohorte.example/aide/)\n\n"
        "<div onclick=alert(4)>bloc</div>\n",
        encoding="utf-8",
    )
    article = _parse(hostile, "fr")
    assert article.title == "Piège"
    assert "<script" not in article.html and "<img" not in article.html
    assert "<div" not in article.html
    assert not re.search(r"<[^>]*\son\w+=", article.html)  # no handler inside any tag
    assert 'href="javascript:' not in article.html
    # links pass through the project's sanitiser, which adds its rel
    assert '<a href="https://cohorte.example/aide/" rel="noopener noreferrer">ok</a>' in (
        article.html
    )
    # raw HTML is shown as text, never as markup
    assert "&lt;script&gt;" in article.html


def test_a_first_heading_is_the_title_when_there_is_no_front_matter(tmp_path):
    path = tmp_path / "sans-entete.md"
    path.write_text("# Un titre\n\nLe corps.\n", encoding="utf-8")
    article = _parse(path, "fr")
    assert article.title == "Un titre"
    assert article.html == "<p>Le corps.</p>\n"


# --- Index and search ---------------------------------------------------------------------


def test_index_lists_managers_and_members_articles_in_french():
    response = Client().get(reverse("help:index"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Centre d'aide</h1>" in page
    assert 'role="search"' in page
    found = titles(response)
    assert "Suivre l'activité des participants d'un programme" in found
    assert "Répondre à une invitation à une rencontre" in found
    assert "Answer a meeting invitation" not in found
    # anonymous: members' articles first; managers' in the order a newcomer meets the tasks
    assert found[0] == "Mon espace"
    managers = found[found.index("Suivre l'activité des participants d'un programme") :]
    assert managers[1] == "Relancer des participants"


def test_index_in_english_shows_english_titles():
    found = titles(english().get(reverse("help:index")))
    assert "Book a meeting for a pair" in found
    assert "Programmer une rencontre pour un binôme" not in found


def test_search_finds_a_french_article_ignoring_case_and_accents():
    response = Client().get(reverse("help:index"), {"q": "DISPONIBILITES"})
    page = response.content.decode()
    assert "articles pour « DISPONIBILITES »" in page or "article pour « DISPONIBILITES »" in page
    results = page.split('id="help-results"')[1].split("</section>")[0]
    assert "Indiquer mes disponibilités" in results
    assert "Lire le registre des courriels" not in results


def test_search_finds_an_english_article_in_english_only():
    response = english().get(reverse("help:index"), {"q": "bounced"})
    results = response.content.decode().split('id="help-results"')[1].split("</section>")[0]
    assert "Read the e-mail log" in results
    assert "Lire le registre" not in results
    # the French body does not hold the English word
    assert articles_search(query="bounced", language="fr") == []


def test_search_needs_every_word_and_ranks_titles_first():
    hits = articles_search(query="relancer", language="fr")
    assert hits[0].article.slug == "relancer-les-participants"
    assert articles_search(query="relancer xyzzyq", language="fr") == []


def test_search_that_finds_nothing_says_so():
    page = html.unescape(Client().get(reverse("help:index"), {"q": "xyzzyq"}).content.decode())
    assert "Aucun article ne contient tous ces mots." in page


def test_a_huge_query_is_cut_not_refused():
    response = Client().get(reverse("help:index"), {"q": "registre " + "a" * 5000})
    assert response.status_code == 200
    shown = re.search(r'name="q" value="([^"]*)"', response.content.decode()).group(1)
    assert len(shown) <= MAX_QUERY


# --- Article pages ------------------------------------------------------------------------


def test_an_article_page_in_each_language():
    url = reverse("help:article", args=["terminer-un-cycle"])
    french = html.unescape(Client().get(url).content.decode())
    assert "<h1>Terminer un cycle de programme</h1>" in french
    assert "<main" in french and 'lang="fr"' in french
    english_page = english().get(url).content.decode()
    assert "<h1>End a programme cycle</h1>" in english_page
    assert "Full refresh of members" in english_page


def test_an_unknown_slug_is_a_404():
    assert Client().get("/aide/cet-article-n-existe-pas/").status_code == 404
    assert article_get(slug="cet-article-n-existe-pas", language="fr") is None


@pytest.mark.parametrize(
    "path",
    [
        "/aide/../settings.py/",
        "/aide/..%2F..%2Fcohorte%2Fsettings/",
        "/aide/%2e%2e%2f%2e%2e%2fpyproject/",
        "/aide/fr%2Fmon-espace/",
        "/aide/mon-espace.md/",
        "/aide/..%5Cmon-espace/",
    ],
)
def test_a_path_traversal_slug_is_a_404(path):
    assert Client().get(path).status_code == 404


def test_a_slug_is_a_key_never_a_path():
    assert ARTICLES_DIR.joinpath("fr", "mon-espace.md").exists()
    for slug in ("../fr/mon-espace", "fr/mon-espace", "mon-espace.md", "/etc/passwd"):
        assert article_get(slug=slug, language="fr") is None


# --- Contact: the organisation's administrators -------------------------------------------


def test_a_signed_in_member_sees_their_organisation_administrators(admin, mentee, outsider):
    other_admin = make_member(
        outsider.organisation, "chef@ailleurs.example", first="Chef", last="Ailleurs"
    )
    other_admin.is_org_admin = True
    other_admin.save()
    former = make_member(
        admin.organisation, "ancien@poitiers.example", is_org_admin=True, is_active=False
    )
    page = signed_in(mentee).get(reverse("help:index")).content.decode()
    assert 'href="mailto:admin@poitiers.example"' in page
    assert "Anne Admin" in page
    assert "chef@ailleurs.example" not in page
    assert former.email not in page


def test_anonymous_visitors_read_articles_but_see_no_administrator_address(admin):
    for url in (reverse("help:index"), reverse("help:article", args=["mon-espace"])):
        response = Client().get(url)
        assert response.status_code == 200
        page = response.content.decode()
        assert admin.email not in page and "mailto:" not in page
        assert "Connectez-vous pour voir comment joindre les administrateurs" in page


def test_an_organisation_without_active_administrator_says_whom_to_ask(db):
    lonely = Organisation.objects.create(name="Seule", timezone="Europe/Paris")
    member = make_member(lonely, "seul@seule.example")
    page = html.unescape(signed_in(member).get(reverse("help:index")).content.decode())
    assert "pas encore d'administrateur actif" in page


def test_members_see_members_articles_first_and_managers_theirs_first(mentee, manager_a):
    def first_section(member):
        page = signed_in(member).get(reverse("help:index")).content.decode()
        return re.search(r'<h2 id="help-(managers|members)">', page).group(1)

    assert first_section(mentee) == "members"
    assert first_section(manager_a) == "managers"


# --- The « ? » link -----------------------------------------------------------------------


def test_every_mapped_view_name_exists_and_opens_an_existing_article():
    names = view_names()
    for view_name, slug in VIEW_ARTICLES.items():
        assert view_name in names, view_name
        for language in LANGUAGES:
            assert slug in _library()[language], (view_name, slug, language)


def test_the_question_mark_opens_the_page_article(manager_a, program_a, mentee):
    page = signed_in(manager_a).get(reverse("activity:program", args=[program_a.pk]))
    link = re.search(r'<a class="bell help-link" href="([^"]+)" title="([^"]+)"', page.text)
    assert link, "no « ? » in the top bar"
    assert link.group(1) == "/aide/suivre-l-activite/"
    assert (
        html.unescape(link.group(2)) == "Aide : Suivre l'activité des participants d'un programme"
    )
    assert signed_in(manager_a).get(link.group(1)).status_code == 200


def test_the_question_mark_of_an_unmapped_page_opens_the_index(manager_a):
    page = signed_in(manager_a).get(reverse("messaging:notifications")).content.decode()
    assert '<a class="bell help-link" href="/aide/"' in page


# --- make screenshots ---------------------------------------------------------------------


def test_the_screenshots_page_list_names_only_urls_that_resolve():
    spec = importlib.util.spec_from_file_location("screenshots", ROOT / "bench/screenshots.py")
    screenshots = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(screenshots)
    assert len(screenshots.PAGES) >= 10
    names = [shot.name for shot in screenshots.PAGES]
    assert len(names) == len(set(names))
    kinds = {"accompaniment": 1, "mentoring": 2}
    for shot in screenshots.PAGES:
        if shot.program:
            assert shot.program in kinds, shot
        url = reverse(shot.url_name, kwargs=screenshots.shot_kwargs(shot, kinds))
        assert url.startswith("/")
        if shot.slug:
            assert article_get(slug=shot.slug, language="fr") is not None


def _running_on_our_port() -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"runserver" in words and b"127.0.0.1:8262" in words:
            found.append(cmdline.parent.name)
    return found


@pytest.mark.browser
def test_make_screenshots_takes_pages_in_both_languages_and_leaves_nothing_running(tmp_path):
    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not (os.path.exists(chromium) or shutil.which(chromium)):
        pytest.skip(f"Chromium introuvable ({chromium}) : apt-get install chromium")
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        # the script builds its own SQLite demo, whatever the suite's database: this run
        # would repeat the SQLite phase's exactly
        pytest.skip("make screenshots ne dépend pas de la base : vérifié avec SQLite")
    out = tmp_path / "shots"
    done = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "bench/screenshots.py",
            "--only",
            "help-article,activity",
            "--out",
            str(out),
            "--database",
            str(tmp_path / "demo.sqlite3"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for name in ("activity-fr", "activity-en", "help-article-fr", "help-article-en"):
        data = (out / f"{name}.png").read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert int.from_bytes(data[16:20], "big") == 1280  # IHDR width
    assert "4 captures" in done.stdout
    assert _running_on_our_port() == []
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", 8262)) != 0  # nobody listens any more

"""Rich text stays harmless once each recipient's values are in it: the body is sanitised
after the tags are filled (a first name « javascript:… » inside href="{prénom}" is no
link), and a compose form shown again after an error gives the editor a sanitised body."""

import re
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cohorte.accounts.models import Member
from cohorte.messaging import rendering, services
from cohorte.messaging.models import Message

from .conftest import body_of, run_tasks, signed_in

HOSTILE = [
    "javascript:alert(1)",
    " JaVaScRiPt:alert(document.cookie)",
    "java\tscript:alert(1)",
    "\x01javascript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    '" onmouseover="alert(1)',
    "' onerror='alert(1)",
    "<script>alert(1)</script>",
    "</a><img src=x onerror=alert(1)>",
    "&#106;avascript:alert(1)",
    "javascript&colon;alert(1)",
    "{prénom}",
]

#: bodies as people write them, with tags in attributes and in text
TEMPLATES = [
    '<p>Bonjour <a href="{prénom}">{prénom}</a></p>',
    '<a href="{nom}{prénom}">x</a>',
    "<a href={prénom}>x</a>",
    '<img src="{prénom}" alt="{nom}">',
    '<img src="{nom complet}">',
    '<p title="{nom complet}">{prénom} {nom}</p>',
    '<a href="https://exemple.fr/?q={prénom}">lien</a>',
    '<a href="mailto:{courriel}">écrire</a>',
    '<a href="{lien de connexion}">se connecter</a>',
]


class Collect(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


def scheme_of(url: str) -> str:
    """What a browser takes as the scheme of an attribute value (already decoded by the
    parser), as the WHATWG URL parser reads it: leading and trailing controls and spaces
    stripped, tabs and line breaks removed anywhere."""
    cleaned = re.sub(r"[\t\n\r]", "", url.strip("".join(map(chr, range(33))))).lower()
    found = re.match(r"([a-z][a-z0-9+.-]*):", cleaned)  # else a relative URL
    return found.group(1) if found else ""


def assert_harmless(body: str) -> None:
    assert "<script" not in body.lower()
    parser = Collect()
    parser.feed(body)
    for tag, attrs in parser.tags:
        assert tag not in {"script", "style", "iframe", "object", "embed", "svg", "math"}, body
        for name, value in attrs:
            assert not name.lower().startswith("on"), body
            if name in {"href", "src"} and value:
                assert scheme_of(value) in {"", "http", "https", "mailto"}, body


def render(template: str, first: str, last: str) -> services.Rendered:
    member = Member(first_name=first, last_name=last, email="x@x.example", language="fr")
    message = Message(subject_fr="Sujet {prénom}", body_fr=rendering.sanitise(template))
    return services.message_render(message, member, "Lycées de Poitiers")


@pytest.mark.parametrize("first", HOSTILE)
@pytest.mark.parametrize("template", TEMPLATES)
def test_a_hostile_first_name_never_becomes_a_link_or_a_handler(template, first):
    rendered = render(template, first, "Nom")
    assert_harmless(rendered.html)


def test_a_javascript_first_name_in_href_loses_its_link_but_keeps_the_text():
    rendered = render('<p><a href="{prénom}">{prénom}</a></p>', "javascript:alert(1)", "X")
    assert "href" not in rendered.html and "javascript:alert(1)" in rendered.html  # as text
    safe = render('<a href="https://exemple.fr/?q={prénom}">x</a>', "Léa & Co", "X")
    assert 'href="https://exemple.fr/?q=L%C3%A9a%20&amp;%20Co"' in safe.html or (
        'href="https://exemple.fr/?q=Léa &amp; Co"' in safe.html
    )


names = st.one_of(
    st.text(max_size=40),
    st.sampled_from(HOSTILE),
    st.builds(lambda a, b: a + b, st.sampled_from(HOSTILE), st.text(max_size=10)),
    st.builds(lambda a, b: a + b, st.text(max_size=10), st.sampled_from(HOSTILE)),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(template=st.sampled_from(TEMPLATES), first=names, last=names)
def test_filled_and_sanitised_bodies_are_harmless_for_any_names(template, first, last):
    assert_harmless(render(template, first, last).html)


@pytest.mark.django_db(transaction=True)
def test_the_sent_email_and_the_preview_carry_no_javascript_link(admin, program_b, smtp):
    from cohorte.programs.models import Enrolment, Role

    from .conftest import make_member

    member = make_member(admin.organisation, "evil@x.example", first="javascript:alert(1)")
    Enrolment.objects.create(program=program_b, member=member, role=Role.MENTEE)
    client = signed_in(admin)
    response = client.post(
        "/messages/",
        {
            "program": program_b.pk,
            "audience": "mentees",
            "subject_fr": "Bonjour",
            "body_fr": '<p><a href="{prénom}">cliquez</a></p>',
        },
    )
    assert response.status_code == 302
    preview = client.get(response["Location"]).content.decode()
    assert 'href="javascript' not in preview
    client.post(response["Location"] + "envoyer/", {"when": "now"})
    run_tasks()
    (sent,) = smtp
    html_part = next(p for p in sent.walk() if p.get_content_type() == "text/html")
    assert_harmless(html_part.get_payload(decode=True).decode())
    assert "javascript" not in html_part.get_payload(decode=True).decode().split("cliquez")[0]
    assert "cliquez" in body_of(sent)


@pytest.mark.django_db
def test_a_form_shown_again_after_an_error_holds_the_sanitised_body(admin, program_b):
    posted = (
        '<p>Salut</p><img src=x onerror="alert(1)"><script>alert(2)</script>'
        '<a href="javascript:alert(3)">x</a>'
    )
    response = signed_in(admin).post(
        "/messages/",
        {"program": program_b.pk, "audience": "mentees", "subject_fr": "", "body_fr": posted},
    )
    assert response.status_code == 200 and "Le sujet est obligatoire" in response.content.decode()
    shown = response.context["form"]["body_fr"].value()
    assert "<p>Salut</p>" in shown
    assert_harmless(shown)
    page = response.content.decode()
    assert "onerror" not in page and "alert(2)" not in page and "javascript:alert(3)" not in page
    assert not Message.objects.exists()

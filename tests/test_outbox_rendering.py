"""A message's body is sanitised once per language, then each recipient's tags are filled
(rendering.prepare): the result must be, byte for byte, what sanitising each recipient's
filled body gives, whatever the recipient's name holds; and the bytes put on the wire must
read back as the e-mail Django would have written."""

import email
import email.header
import email.policy

import pytest

from cohorte.messaging import rendering

SHARED = {
    "program": "Lycées & Co",
    "organisation": "L'Atelier",
    "sign_in_link": "https://c.example/",
}
KEYS = ("first_name", "last_name", "full_name", "email")

BODIES = [
    "<p>Bonjour {prénom} {nom},</p><p>Programme {programme} chez {organisation}.</p>"
    '<p><a href="{lien de connexion}">Se connecter</a></p>',
    "<ul><li>{nom complet}</li><li><strong>{courriel}</strong></li></ul><p>&amp;{prénom}&lt;</p>",
    '<p><a href="https://x.example/">lien pour {first_name}</a> et {unknown} {nom</p>',
    "Bonjour {prénom}\n\n\n\n\nfin {last_name}",
    "{prénom}",
    '<p title="a > b {organisation}">{prénom}</p><img src="https://x.example/i.png" alt="{nom}">',
    '<a href="{prénom}">lien</a>',  # a recipient's tag inside markup: sanitised per recipient
    '<a href="https://x.example/?n={nom}">lien</a>',
    '<script>{prénom}</script><p onclick="{prénom}">x</p><style>{nom}</style>',
    "",
]

NAMES = [
    "Élodie",
    "O'Brien",
    'Zoé "la" <b>Ñúñez</b> & co',
    "javascript:alert(1)",
    "a\r\nb\rc",
    "x\xa0y",
    "   espacé   ",
    "\n\n\n\n",
    "<script>alert(1)</script>",
    "&amp; &lt;",
    "{prénom}",
    "<!-- ]]> -->",
    "a\x00b",
    "😀 \u200b \t fin",
]


def slow(body: str, values: dict[str, str]) -> tuple[str, str]:
    """What sending did before: fill every tag, escaped, then sanitise each recipient's body."""
    html_body = rendering.sanitise(rendering.fill(body, {**SHARED, **values}, escape=True))
    return html_body, rendering.text_of(html_body)


@pytest.mark.parametrize("body", BODIES)
def test_a_body_sanitised_once_gives_each_recipient_what_sanitising_theirs_gives(body):
    prepared = rendering.prepare(body, shared=SHARED, keys=KEYS)
    for first in NAMES:
        for last in ("Martin", NAMES[2], NAMES[4]):
            values = {
                "first_name": first,
                "last_name": last,
                "full_name": f"{first} {last}",
                "email": "e@x.example",
            }
            assert prepared.render(values) == slow(body, values), (body, values)


def test_a_recipients_tag_inside_a_link_is_sanitised_for_each_recipient():
    prepared = rendering.prepare('<a href="{prénom}">lien</a>', shared=SHARED, keys=KEYS)
    assert prepared.html is None  # not shared: each recipient's body goes through the sanitiser
    values = dict.fromkeys(KEYS, "javascript:alert(1)")
    html_body, _text = prepared.render(values)
    assert "javascript" not in html_body and "lien" in html_body


def test_the_bytes_on_the_wire_read_back_as_the_e_mail():
    data = rendering.wire_bytes(
        from_header=rendering.header_address("noreply@x.example", "Lycées St. Martin"),
        to_header=rendering.header_address("zoe@x.example", 'Zoé Ñúñez, "la"\r\nBcc: x@x.fr'),
        subject="Relance : séance n°3\r\nBcc: intrus@x.example",
        message_id="<abc@cohorte.example>",
        text="Bonjour Zoé,\n\n.\nUne ligne seule avec un point.\n" + "long " * 100,
        html="<p>Bonjour Zoé,</p>" + "<p>long</p>" * 100,
    )
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")  # CRLF only
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert message["Subject"] == "Relance : séance n°3 Bcc: intrus@x.example"  # one line
    assert "Bcc" not in message and message["Message-ID"] == "<abc@cohorte.example>"
    assert message["From"].addresses[0].display_name == "Lycées St. Martin"
    assert message["To"].addresses[0].display_name == 'Zoé Ñúñez, "la" Bcc: x@x.fr'
    assert message["To"].addresses[0].addr_spec == "zoe@x.example" and message["Date"]
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert text.startswith("Bonjour Zoé,\n\n.\nUne ligne seule") and text.count("long") == 100
    assert message.get_body(("html",)).get_content().startswith("<p>Bonjour Zoé,</p>")


@pytest.mark.parametrize(
    "address",
    ["a b@x.example", "a@", "@x.example", "zoé@x.example", "a@x.example\r\nRCPT TO:<b@x>"],
)
def test_an_address_smtp_cannot_take_is_refused(address):
    with pytest.raises(ValueError):
        rendering.envelope_address(address)


def test_a_domain_in_other_letters_goes_in_idna():
    assert rendering.envelope_address(" zoe@exämple.fr ") == "zoe@xn--exmple-cua.fr"
    assert rendering.header_address("zoe@exämple.fr", "Zoé") == (
        "=?utf-8?b?Wm/DqQ==?= <zoe@xn--exmple-cua.fr>"
    )


@pytest.mark.parametrize(
    ("name", "subject", "text", "html"),
    [
        ("Marc St. Martin", "Bonjour", "Bonjour,\n\nfin", ""),
        ("", "Séance : « demain »", "Ligne\r\n.\r\nfin", "<p>é</p>"),
        (
            "Élodie Ñúñez de la Montagne",
            "Très long sujet accentué " * 10,
            "x " * 600,
            "<p>" + "y" * 3000,
        ),
        ("zoe@x.example", "=?utf-8?q?pas_un_mot?=", "=3D = ==", "<p>--==</p>"),
    ],
)
def test_the_wire_bytes_read_back_as_djangos_message_does(name, subject, text, html):
    from django.core import mail

    django_message = mail.EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email="Cohorte <noreply@x.example>",
        to=[rendering.header_address("zoe@x.example", name)],
        headers={"Message-ID": "<m@x.example>"},
    )
    if html:
        django_message.attach_alternative(html, "text/html")
    ours = rendering.wire_bytes(
        from_header=rendering.header_address("noreply@x.example", "Cohorte"),
        to_header=rendering.header_address("zoe@x.example", name),
        subject=subject,
        message_id="<m@x.example>",
        text=text,
        html=html,
    )
    theirs = django_message.message(policy=email.policy.SMTP).as_bytes()

    def read(data: bytes):
        message = email.message_from_bytes(data, policy=email.policy.default)
        bodies = [
            part.get_content().replace("\r\n", "\n")
            for part in message.walk()
            if not part.is_multipart()
        ]
        headers = {h: " ".join(str(message[h]).split()) for h in ("Subject", "From", "To")}
        return headers, bodies, message.get_content_type()

    assert read(ours) == read(theirs)


def test_a_long_name_in_other_letters_reads_back_whole():
    name = "Élodie Ñúñez " * 8
    data = rendering.wire_bytes(
        from_header="a@x.example",
        to_header=rendering.header_address("zoe@x.example", name),
        subject="s",
        message_id="<m@x.example>",
        text="t",
        html="",
    )
    raw = email.message_from_bytes(data)["To"]  # as written, decoded as RFC 2047 says
    # (the standard library's address parser reads spaces between encoded words; so did
    # Django's own long names, its folding being the same)
    decoded = str(email.header.make_header(email.header.decode_header(raw)))
    assert decoded == f"{name.strip()} <zoe@x.example>"
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))

"""A message's body is sanitised once per language, then each recipient's tags are filled
(rendering.prepare): the result must be, byte for byte, what sanitising each recipient's
filled body gives, whatever the recipient's name holds; and the bytes put on the wire must
read back as the e-mail Django would have written."""

import email
import email.policy

import pytest

from cohorte.messaging import rendering

SHARED = {"program": "Lycées & Co", "organisation": "L'Atelier", "sign_in_link": "https://c.example/"}
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
    "<script>{prénom}</script><p onclick=\"{prénom}\">x</p><style>{nom}</style>",
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
        from_header=rendering.header_address('"Lycées St. Martin" <noreply@x.example>'),
        to_header=rendering.header_address('"Zoé Ñúñez, \\"la\\"" <zoe@x.example>'),
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
    assert message["To"].addresses[0].display_name == 'Zoé Ñúñez, "la"'
    assert message["To"].addresses[0].addr_spec == "zoe@x.example" and message["Date"]
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert text.startswith("Bonjour Zoé,\n\n.\nUne ligne seule") and text.count("long") == 100
    assert message.get_body(("html",)).get_content().startswith("<p>Bonjour Zoé,</p>")


@pytest.mark.parametrize(
    "address", ["a b@x.example", "a@", "@x.example", "zoé@x.example", "a@x.example\r\nRCPT TO:<b@x>"]
)
def test_an_address_smtp_cannot_take_is_refused(address):
    with pytest.raises(ValueError):
        rendering.envelope_address(address)


def test_a_domain_in_other_letters_goes_in_idna():
    assert rendering.envelope_address(" zoe@exämple.fr ") == "zoe@xn--exmple-cua.fr"

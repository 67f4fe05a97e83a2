"""English pages in English, French pages in French, each with its own date and time formats.

The check reads locale/en/LC_MESSAGES/django.po: every French text whose English differs, or
has no English yet (an empty or fuzzy msgstr), must not show on an English page; every
English text that is not also French must not show on a French page. An administrator walks
the main pages of the demo with the test client in each language; text inside an element
marked with another `lang` (a French body shown beside the English one) and the
organisation's own data (names, titles, places, subjects) are not the interface's and are
left out. When a helper adds a French string and forgets its English, makemessages puts it
in the catalogue with an empty msgstr and this test names the page and the string.

Dates, times and punctuation: no « 10h42 », no « 12/17/2026 », no space before a colon on
an English page (the English way is « 17 Dec 2026 », « 10:42 »: docs/i18n.md), no French
month or day name on an English page and no English one on a French page.
"""

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import polib
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import formats, timezone, translation

from cohorte.accounts.models import CustomField, CustomFieldValue, Member, SavedMemberFilter
from cohorte.activity.models import Report
from cohorte.conversations.models import Conversation, ConversationMessage, RelationshipNote
from cohorte.demo import DEMO_ADMIN_EMAIL, demo_build
from cohorte.meetings.models import Meeting, MeetingAttendee, Relationship
from cohorte.messaging.models import (
    Attachment,
    Email,
    Message,
    Notification,
    ReleaseNote,
    SystemTemplate,
)
from cohorte.messaging.services import notify
from cohorte.programs.models import Cohort, Group, Organisation, Program
from cohorte.surveys.models import Survey

PO_FILE = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"

#: names, not words: the product's own name is a msgid (« Cohorte », the English « Cohort »)
PROPER_NAMES = {"Cohorte"}
#: a placeholder in a msgid: %(name)s, %(n)d, %s
_PLACEHOLDER = re.compile(r"%\([^)]+\)[sdif]|%[sdif]|%%")
#: literal text this long (or more) is also looked for inside a longer text node
_SUBSTRING_MIN = 16

FRENCH_TIME = re.compile(r"\b\d{1,2}h\d{2}\b")  # 10h42
NUMERIC_DATE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b")  # 12/17/2026 or 17/12/2026
FRENCH_MONTHS_DAYS = re.compile(
    r"\b(janvier|février|avril|juillet|août|septembre|octobre|novembre|décembre|"
    r"janv\.|févr\.|juil\.|sept\.|oct\.|nov\.|déc\.|"
    r"lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)\b"
)
#: French punctuation: a space before a colon (« objectif : 3 »), guillemets
FRENCH_PUNCTUATION = re.compile(r"[^\s\d\x00] :(?=\s|$)|«|»")
ENGLISH_MONTHS_DAYS = re.compile(
    r"\b(January|February|March|April|June|July|August|September|October|November|"
    r"December|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"
)


def _normal(text: str) -> str:
    return " ".join(text.split())


def _pattern(text: str) -> str | None:
    """A regex for a catalogue text with its placeholders standing for anything; None for a
    text with no word of its own (« %(a)s – %(b)s »), which says nothing about a language."""
    parts = _PLACEHOLDER.split(text)
    if not any(re.search(r"[^\W\d_]{2,}|[^\W\d_]", part) for part in parts):
        return None
    out = []
    holders = _PLACEHOLDER.findall(text)
    for i, part in enumerate(parts):
        out.append(re.escape(part))
        if i < len(holders):
            out.append("%" if holders[i] == "%%" else r"[^\n]+?")
    return "".join(out)


@dataclass
class Side:
    """The texts that must not show in one language: exact ones (a set) and those with
    placeholders or long enough to be found inside a text node (regexes)."""

    exact: set[str]
    whole: re.Pattern | None  # the whole text node is one of them
    inside: re.Pattern | None  # one of them is inside the text node

    def find(self, node: str) -> list[str]:
        if node in self.exact:
            return [node]
        found = []
        if self.whole is not None and self.whole.fullmatch(node):
            found.append(node)
        elif self.inside is not None:
            found += [m.group(0) for m in self.inside.finditer(node)]
        return found


def _side(texts: set[str]) -> Side:
    exact, whole, inside = set(), [], []
    for text in texts:
        if "<" in text or "\n" in text.strip():  # HTML or paragraphs: split across nodes
            continue
        pattern = _pattern(text)
        if pattern is None:
            continue
        if not _PLACEHOLDER.search(text):
            exact.add(text)
        else:
            whole.append(pattern)
        literal = _PLACEHOLDER.sub("", text)
        if len(literal.strip()) >= _SUBSTRING_MIN and " " in literal.strip():
            inside.append(pattern)
    # longest first, so that the longer of two overlapping texts is the one reported
    whole.sort(key=len, reverse=True)
    inside.sort(key=len, reverse=True)
    return Side(
        exact=exact,
        whole=re.compile("|".join(whole)) if whole else None,
        inside=re.compile(r"(?<!\w)(?:" + "|".join(inside) + r")(?!\w)") if inside else None,
    )


@cache
def catalogue() -> tuple[Side, Side]:
    """(French texts not to see in English, English texts not to see in French)."""
    french: set[str] = set()
    english: set[str] = set()
    every_msgid: set[str] = set()
    for entry in polib.pofile(str(PO_FILE)):
        if entry.obsolete:
            continue
        ids = [_normal(entry.msgid)] + ([_normal(entry.msgid_plural)] if entry.msgid_plural else [])
        every_msgid.update(ids)
        done = entry.translated() and "fuzzy" not in entry.flags
        strs = (
            [_normal(s) for s in entry.msgstr_plural.values()]
            if entry.msgid_plural
            else [_normal(entry.msgstr)]
        )
        for msgid in ids:
            if not done or msgid not in strs:
                french.add(msgid)
        if done:
            english.update(strs)
    return _side(french), _side(english - every_msgid)


class _Text(HTMLParser):
    """The visible (and spoken) text of a page: text nodes outside <script> and <style>,
    and the title, placeholder, aria-label and alt attributes, each with the language of
    its element (the nearest `lang`)."""

    VOID = frozenset(
        "area base br col embed hr img input link meta source track wbr".split()  # noqa: SIM905
    )
    #: attributes people read or hear (data-confirm and data-ask: the page's script shows them)
    SPOKEN = ("title", "placeholder", "aria-label", "alt", "data-confirm", "data-ask")
    SPOKEN += ("data-moved", "data-refused", "data-failed")  # the calendar's messages

    def __init__(self, language: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str]] = [("", language)]
        self.skip = 0
        self.nodes: list[tuple[str, str]] = []  # (language, text)

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        language = (values.get("lang") or self.stack[-1][1]).split("-")[0]
        for name in self.SPOKEN:
            if values.get(name):
                self.nodes.append((language, _normal(values[name])))
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.nodes.append((language, _normal(values["value"])))
        if tag in self.VOID:
            return
        self.stack.append((tag, language))
        if tag in ("script", "style"):
            self.skip += 1

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)

    def handle_data(self, data):
        text = _normal(data)
        if text and not self.skip:
            self.nodes.append((self.stack[-1][1], text))


def visible_texts(html: str, language: str) -> list[str]:
    """The texts of `html` in `language` (those marked as another language left out)."""
    parser = _Text(language)
    parser.feed(html)
    parser.close()
    return [text for lang, text in parser.nodes if lang == language]


def organisation_data() -> set[str]:
    """What the organisation wrote, not the interface: names, titles, places, subjects."""
    sources = [
        (Member, ["email", "first_name", "last_name", "job_title", "company", "industry"]),
        (Member, ["country", "province", "city", "goals", "skills", "development_areas"]),
        (CustomField, ["name_fr", "name_en", "description", "options", "hint"]),
        (CustomFieldValue, ["value"]),
        (SavedMemberFilter, ["name"]),
        (Organisation, ["name", "timezone"]),
        (Group, ["name"]),
        (Program, ["name", "description"]),
        (Cohort, ["name"]),
        (Meeting, ["title", "place"]),
        (MeetingAttendee, ["comment"]),
        (Report, ["reason"]),
        (Message, ["subject_fr", "subject_en", "body_fr", "body_en"]),
        (Attachment, ["name"]),
        (Email, ["to_name", "to_email", "subject"]),
        (SystemTemplate, ["subject_fr", "subject_en", "body_fr", "body_en"]),
        # what members and managers wrote in Cohorte itself
        (Conversation, ["subject"]),
        (ConversationMessage, ["body"]),
        (RelationshipNote, ["body"]),
        (Survey, ["title_fr", "title_en"]),
    ]
    data: set[str] = set()
    for model, fields in sources:
        for row in model.objects.values_list(*fields):
            data.update(_normal(str(v)) for v in row if v)
    for first, last in Member.objects.values_list("first_name", "last_name"):
        data.add(_normal(f"{first} {last}"))
    return {text for text in data if text} | PROPER_NAMES


def _without(data: set[str]):
    """A function that blanks the organisation's data out of a text node."""
    words = sorted((t for t in data if len(t) >= 4), key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(w) for w in words)) if words else None

    def blank(node: str) -> str | None:
        if node in data:
            return None
        return pattern.sub("\x00", node) if pattern is not None else node

    return blank


def language_problems(html: str, language: str, data: set[str], blank=None) -> list[str]:
    """Every text of the page that belongs to the other language, or a date or a time
    written the other language's way. `blank`: _without(data), when it is already built."""
    french, english = catalogue()
    wrong = french if language == "en" else english
    blank = blank or _without(data)
    problems = []
    for node in dict.fromkeys(visible_texts(html, language)):
        text = blank(node)
        if text is None:
            continue
        problems += [f"« {found} » (in « {node} »)" for found in wrong.find(text)]
        if language == "en":
            for rule in (FRENCH_TIME, NUMERIC_DATE, FRENCH_MONTHS_DAYS, FRENCH_PUNCTUATION):
                problems += [f"« {m.group(0)} » (in « {node} »)" for m in rule.finditer(text)]
        else:
            problems += [
                f"« {m.group(0)} » (in « {node} »)" for m in ENGLISH_MONTHS_DAYS.finditer(text)
            ]
    return problems


# --- The check checks ----------------------------------------------------------------------


def test_the_catalogue_has_no_untranslated_or_fuzzy_entry():
    """Every French string has its English (an untranslated one would show in French)."""
    missing = [
        entry.msgid
        for entry in polib.pofile(str(PO_FILE))
        if not entry.obsolete and (not entry.translated() or "fuzzy" in entry.flags)
    ]
    assert missing == [], f"{len(missing)} without English in {PO_FILE}: {missing[:20]}"


def test_the_check_finds_a_french_string_on_an_english_page():
    html = (
        '<html lang="en"><body><h1>Members</h1><p>Membres</p>'
        '<button title="Télécharger">x</button><p>Rencontre : Mentorat, 3 March 2026, 10:00</p>'
        "<p>Monday 17 December 2026, 10h42</p><p>12/17/2026</p><p>Cohort : A</p></body></html>"
    )
    problems = " ".join(language_problems(html, "en", set()))
    assert "« Membres »" in problems  # a plain msgid
    assert "« Télécharger »" in problems  # in an attribute people hear
    assert "« Rencontre : Mentorat, 3 March 2026, 10:00 »" in problems  # with placeholders
    assert "« 10h42 »" in problems and "« 12/17/2026 »" in problems
    assert "« t : » (in « Cohort : A »)" in problems
    assert "Members" not in problems.replace("Membres", "")


def test_the_check_finds_an_english_string_on_a_french_page():
    html = '<html lang="fr"><body><p>Members</p><p>jeudi 17 December 2026</p></body></html>'
    problems = " ".join(language_problems(html, "fr", set()))
    assert "« Members »" in problems and "« December »" in problems


def test_the_check_leaves_out_the_organisations_data_and_marked_languages():
    html = (
        '<html lang="en"><body><td>Membres</td><div lang="fr"><p>Télécharger</p></div>'
        "<p>Programme Membres de la cité</p><p>Notifications</p></body></html>"
    )
    assert language_problems(html, "en", {"Membres", "Membres de la cité"}) == []


# --- Every main page, as an administrator, in each language --------------------------------


def _main_pages() -> list[str]:
    organisation = Organisation.objects.get(members__email=DEMO_ADMIN_EMAIL)
    programs = list(Program.objects.filter(organisation=organisation).order_by("pk"))
    relationship = (
        Relationship.objects.filter(program__organisation=organisation).order_by("pk").first()
    )
    member = relationship.mentee
    message = Message.objects.filter(organisation=organisation).order_by("pk").first()
    cohort = Cohort.objects.filter(organisation=organisation).order_by("pk").first()
    mentoring = relationship.program
    pages = [
        reverse("programs:home"),
        reverse("members:list"),
        reverse("members:profile", args=[member.pk]),
        reverse("members:saved-filters"),
        reverse("members:custom-fields"),
        reverse("members:deactivate"),
        reverse("members:import"),
        reverse("members:tokens"),
        reverse("messaging:compose"),
        reverse("messaging:log"),
        reverse("messaging:system"),
        reverse("messaging:notifications"),
        reverse("space:home"),
        reverse("meetings:availability"),
        reverse("meetings:masterclasses"),
        reverse("core:audit"),
        reverse("programs:cohorts"),
        reverse("programs:program-create"),
        reverse("meetings:relationship", args=[relationship.pk]),
        reverse("meetings:book", args=[relationship.pk]),
        reverse("meetings:relationships", args=[mentoring.pk]) + "?tab=meetings",
        reverse("meetings:new", args=[mentoring.pk]),
        reverse("meetings:group-new", args=[mentoring.pk]),
    ]
    pages += [
        reverse("meetings:relationships", args=[mentoring.pk]) + f"?tab={tab}"
        for tab in ("matched", "completed", "groups")
    ]
    pages += [
        reverse("members:message", args=[member.pk]),
        reverse("messaging:system-edit", args=["meeting_invitation"]),
        reverse("messaging:release-note", args=[ReleaseNote.objects.order_by("pk").last().pk]),
        reverse("accounts:profile"),
        reverse("help:index"),
        reverse("help:index") + "?q=relance",
        reverse("help:article", args=["suivre-l-activite"]),
        reverse("help:article", args=["planifier-une-rencontre"]),
    ]
    if message is not None:
        pages.append(reverse("messaging:message", args=[message.pk]))
    if cohort is not None:
        pages.append(reverse("programs:cohort", args=[cohort.pk]))
    for program in programs:
        pages += [
            reverse("activity:program", args=[program.pk]),
            reverse("activity:reminder-rules", args=[program.pk]),
            reverse("programs:program-edit", args=[program.pk]),
            reverse("meetings:relationships", args=[program.pk]),
            reverse("meetings:calendar", args=[program.pk]),
            reverse("meetings:calendar", args=[program.pk]) + "?view=week",
            reverse("meetings:calendar", args=[program.pk]) + "?view=day",
            reverse("reports:cycle-end", args=[program.pk]),
            reverse("programs:program-design", args=[program.pk]),
            reverse("signup:applications", args=[program.pk]),
            reverse("signup:site-short", args=[program.pk]),  # its preview, for a manager
        ]
    return pages


@pytest.fixture
def demo_admin(db) -> Member:
    demo_build(today=dt.date(2026, 3, 16))
    admin = Member.objects.get(email=DEMO_ADMIN_EMAIL)
    # the bell holds a notice, so the notifications page and the header have one to show
    note = ReleaseNote.objects.create(
        title_fr="Nouveautés de mars", title_en="What is new in March", body_fr="x", body_en="y"
    )
    from cohorte.messaging.services import release_note_publish

    release_note_publish(note=note)
    return admin


#: what a visitor who is not signed in sees
PUBLIC_PAGES = ("accounts:login", "accounts:password-reset")


def _mentee_pages(mentee: Member) -> list[str]:
    """A member's own pages, and the page an invitation's « Accepter » link opens."""
    from cohorte.meetings.services import answer_token

    pages = [
        reverse("space:home"),
        reverse("accounts:profile"),
        reverse("meetings:availability"),
        reverse("meetings:masterclasses"),
        reverse("messaging:notifications"),
    ]
    attendance = MeetingAttendee.objects.filter(member=mentee).order_by("pk").first()
    if attendance is not None:
        pages.append(reverse("meetings:answer", args=[answer_token(attendance, "accepted")]))
    return pages


def _walk(admin: Member, language: str) -> dict[str, list[str]]:
    data = organisation_data()
    mentee = (
        Relationship.objects.filter(mentee__organisation=admin.organisation)
        .order_by("pk")
        .first()
        .mentee
    )
    visits: list[tuple[Client, str]] = []
    for member, pages in ((admin, _main_pages()), (mentee, _mentee_pages(mentee))):
        member.language = language
        member.save(update_fields=["language"])
        client = Client()
        client.force_login(member)
        visits += [(client, url) for url in pages]
    visitor = Client()
    visitor.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    visits += [(visitor, reverse(name)) for name in PUBLIC_PAGES]
    found = {}
    blank = _without(data)
    for client, url in visits:
        response = client.get(url, follow=True)  # a short address leads to the page
        assert response.status_code == 200, (url, response.status_code)
        if client is not visitor:  # a page walked, not the sign-in page it would send to
            assert all("/connexion/" not in to for to, _ in response.redirect_chain), url
        assert response.headers["Content-Language"] == language, url
        problems = language_problems(response.content.decode(), language, data, blank)
        if problems:
            found[url] = problems
    return found


def _report(found: dict[str, list[str]]) -> str:
    return "\n".join(f"{url}: " + "; ".join(problems[:12]) for url, problems in found.items())


def test_english_pages_show_no_french(demo_admin):
    found = _walk(demo_admin, "en")
    assert found == {}, "French on English pages:\n" + _report(found)


def test_french_pages_show_no_english(demo_admin):
    found = _walk(demo_admin, "fr")
    assert found == {}, "English on French pages:\n" + _report(found)


def test_the_demos_emails_write_dates_and_times_in_their_recipients_language(demo_admin):
    """Every e-mail the demo wrote (invitations, reminders, messages), for an English or a
    French recipient: that language's dates and times, whatever the sender's language."""
    blank = _without(organisation_data())
    rules = {
        "en": (FRENCH_TIME, NUMERIC_DATE, FRENCH_MONTHS_DAYS),
        "fr": (ENGLISH_MONTHS_DAYS,),
    }
    emails = list(Email.objects.all())
    assert {e.language for e in emails} == {"fr", "en"}
    found = []
    for email in emails:
        for line in f"{email.subject}\n{email.body_text}".splitlines():
            text = blank(_normal(line))
            for rule in rules[email.language] if text else ():
                found += [
                    f"{email.to_email}: « {m.group(0)} » in « {line} »" for m in rule.finditer(text)
                ]
    assert found == [], "\n".join(found[:20])


# --- Formats, notifications and e-mails ----------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", ["17 décembre 2026", "17/12/2026", "10h42", "17 décembre 2026 10h42"]),
        ("en", ["17 December 2026", "17 Dec 2026", "10:42", "17 December 2026, 10:42"]),
    ],
)
def test_each_language_has_one_way_of_writing_dates_and_times(language, expected):
    moment = dt.datetime(2026, 12, 17, 10, 42)  # noqa: DTZ001 — formats only
    with translation.override(language):
        shown = [
            formats.date_format(moment, "DATE_FORMAT"),
            formats.date_format(moment, "SHORT_DATE_FORMAT"),
            formats.time_format(moment, "TIME_FORMAT"),
            formats.date_format(moment, "DATETIME_FORMAT"),
        ]
    assert shown == expected


def test_a_notification_reads_in_the_language_its_member_uses_now(client, admin):
    notify(members=[admin], title_fr="Relance : Mentorat", title_en="Reminder: Mentorat")
    client.force_login(admin)
    assert "Relance : Mentorat" in client.get(reverse("messaging:notifications")).text
    client.post(reverse("accounts:language"), {"language": "en"})
    page = client.get(reverse("messaging:notifications")).text
    assert "Reminder: Mentorat" in page and "Relance : Mentorat" not in page
    assert Notification.objects.get(member=admin).title_in("en") == "Reminder: Mentorat"


FRENCH_MONTHS = (
    " janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
)


def test_a_meeting_invitation_is_in_each_attendees_language_and_formats(
    admin, organisation, program_b
):
    """The e-mail and the bell of a booked meeting: « 10h00 » in French, « 10:00 » and
    « 19 March 2030 » in English, whoever booked it and in whatever language."""
    from cohorte.meetings.models import Availability
    from cohorte.meetings.services import meetings_book, relationship_create

    from .conftest import make_member

    mentor = make_member(organisation, "eve@x.example", first="Eve", last="En", language="en")
    mentee = make_member(organisation, "fanny@x.example", first="Fanny", last="Fr")
    for member in (mentor, mentee):
        for day in range(7):
            Availability.objects.create(
                member=member, weekday=day, start=dt.time(8), end=dt.time(18)
            )
    relationship = relationship_create(program=program_b, mentor=mentor, mentee=mentee, by=admin)
    day = dt.date.today() + dt.timedelta(days=10)  # noqa: DTZ011 — a day ahead, any zone
    starts_at = dt.datetime.combine(day, dt.time(10), tzinfo=ZoneInfo("Europe/Paris"))
    with translation.override("fr"):
        meetings_book(
            relationship=relationship,
            by=admin,
            starts_at=starts_at,
            duration_minutes=30,
            meeting_type="video",
        )
    english_day = f"{day.day} {day:%B} {day.year}"
    french_day = f"{day.day} {FRENCH_MONTHS.split()[day.month - 1]} {day.year}"
    english = Email.objects.get(to_email=mentor.email)
    french = Email.objects.get(to_email=mentee.email)
    assert f"on {english_day} at 10:00" in english.body_text, english.body_text
    assert not FRENCH_TIME.search(english.body_text + english.subject)
    assert f"le {french_day} à 10h00" in french.body_text, french.body_text
    bell = Notification.objects.get(member=mentor)
    assert bell.title_in("en").endswith(f"{english_day}, 10:00"), bell.title_in("en")
    assert bell.title_in("fr").endswith(f"{french_day} 10h00"), bell.title_in("fr")


def test_exports_write_iso_moments_in_every_language():
    """A CSV reads the same whoever downloads it: ISO dates, in the active time zone."""
    from cohorte.core.exports import neutralise

    moment = dt.datetime(2026, 12, 17, 9, 42, tzinfo=dt.UTC)  # 10:42 in Paris
    for language in ("fr", "en"):
        # a request leaves its organisation's zone on the thread (a streamed CSV needs it)
        with translation.override(language), timezone.override("Europe/Paris"):
            assert neutralise(moment) == "2026-12-17 10:42:00"
            assert neutralise(moment.date()) == "2026-12-17"


def test_the_english_home_page_writes_programme_dates_the_english_way(client, admin, program_a):
    """The issue's « 12/17/2026 »: programme dates in English are « 17 Dec 2026 »."""
    admin.language = "en"
    admin.save(update_fields=["language"])
    client.force_login(admin)
    page = client.get(reverse("programs:home")).text
    start = program_a.start_date
    assert f"{start.day} {start:%b} {start.year}" in page
    assert not NUMERIC_DATE.search(page)
    admin.language = "fr"
    admin.save(update_fields=["language"])
    assert start.strftime("%d/%m/%Y") in client.get(reverse("programs:home")).text

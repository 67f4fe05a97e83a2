"""Surveys: checked as a whole before anything is saved, invitations and reminders written
with their e-mails in one transaction (a retry finds the invitation or the reminder count
already there: never a second e-mail), answers replaced while the survey is open."""

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.core import signing
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from cohorte.accounts.models import Member, SavedMemberFilter
from cohorte.core.audit import log_action
from cohorte.meetings.models import MeetingStatus, Relationship, RelationshipStatus
from cohorte.programs.models import Cohort, Enrolment, Program, Role

from .models import (
    CHOICE_KINDS,
    DEFAULT_REMINDER_DAYS,
    Answer,
    Invitation,
    QuestionKind,
    Response,
    Survey,
    Trigger,
)

MAX_QUESTIONS = 50
MAX_OPTIONS = 30
MAX_LABEL = 500
MAX_KEY = 40
MAX_SHORT_TEXT = 300
MAX_LONG_TEXT = 5000
MAX_TRIGGER_N = 365
#: with fewer answers than this, an anonymous survey shows no results (one could tell who)
ANONYMITY_THRESHOLD = 3
TOKEN_SALT = "cohorte.surveys.answer"  # noqa: S105 (a signing salt, no secret)


class SurveyError(ValueError):
    """Refused input: every problem as {field, reason}, in the caller's language."""

    def __init__(self, errors: list[dict[str, Any]]):
        super().__init__("; ".join(f"{e['field']}: {e['reason']}" for e in errors))
        self.errors = errors


def _label(value: Any) -> dict[str, str] | None:
    """A label given as a string (French, used for English too) or as {fr, en}."""
    if isinstance(value, str):
        text = value.strip()
        return {"fr": text, "en": text} if text else None
    if isinstance(value, dict) and set(value) <= {"fr", "en"}:
        fr = str(value.get("fr") or "").strip()
        en = str(value.get("en") or "").strip()
        if fr or en:
            return {"fr": fr or en, "en": en or fr}
    return None


def questions_check(raw: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The questions normalised, and every problem found in them."""
    errors: list[dict[str, Any]] = []
    questions: list[dict[str, Any]] = []

    def add(field: str, reason: str) -> None:
        errors.append({"field": field, "reason": reason})

    if not isinstance(raw, list) or not raw:
        add("questions", _("au moins une question"))
        return [], errors
    if len(raw) > MAX_QUESTIONS:
        add("questions", _("%(n)s questions au plus") % {"n": MAX_QUESTIONS})
        return [], errors
    seen: set[str] = set()
    for index, item in enumerate(raw):
        where = f"questions.{index}"
        if not isinstance(item, dict):
            add(where, _("objet JSON attendu"))
            continue
        key = str(item.get("key") or "").strip()
        kind = item.get("kind")
        if not key or len(key) > MAX_KEY or not key.replace("_", "").replace("-", "").isalnum():
            add(f"{where}.key", _("clé de 1 à 40 lettres, chiffres, - ou _"))
        elif key in seen:
            add(f"{where}.key", _("clé en double : %(key)s") % {"key": key})
        seen.add(key)
        if kind not in QuestionKind.values:
            add(
                f"{where}.kind",
                _("type inconnu, attendu : %(kinds)s") % {"kinds": ", ".join(QuestionKind.values)},
            )
            continue
        label = _label(item.get("label"))
        if label is None or max(len(label["fr"]), len(label["en"])) > MAX_LABEL:
            add(
                f"{where}.label",
                _("libellé obligatoire (texte ou {fr, en}, 500 caractères au plus)"),
            )
        options_raw = item.get("options")
        options: list[dict[str, str]] = []
        if kind in CHOICE_KINDS:
            if not isinstance(options_raw, list) or len(options_raw) < 2:
                add(f"{where}.options", _("un choix demande au moins deux options"))
            elif len(options_raw) > MAX_OPTIONS:
                add(f"{where}.options", _("%(n)s options au plus") % {"n": MAX_OPTIONS})
            else:
                for option in options_raw:
                    parsed = _label(option)
                    if parsed is None or len(parsed["fr"]) > 200 or len(parsed["en"]) > 200:
                        add(f"{where}.options", _("option vide ou trop longue (200 au plus)"))
                        break
                    options.append(parsed)
                texts = [o["fr"] for o in options]
                if len(set(texts)) != len(texts):
                    add(f"{where}.options", _("option en double"))
        elif options_raw not in (None, []):
            add(f"{where}.options", _("ce type de question n'a pas d'options"))
        required = item.get("required", False)
        if not isinstance(required, bool):
            add(f"{where}.required", _("vrai ou faux attendu"))
        show_if = item.get("show_if")
        condition = None
        if show_if is not None:
            condition = _condition_check(show_if, questions, add, where)
        questions.append(
            {
                "key": key,
                "kind": kind,
                "label": label or {"fr": "", "en": ""},
                "options": options,
                "required": bool(required),
                "show_if": condition,
            }
        )
    return questions, errors


def _condition_check(
    show_if: Any, earlier: list[dict[str, Any]], add: Callable[[str, str], None], where: str
) -> dict[str, Any] | None:
    """A display condition: an earlier question that is answered by a number or an option,
    and the answers of it (options by their French or English text, numbers within the
    question's range) that show this one."""
    by_key = {q["key"]: q for q in earlier}
    target = by_key.get(show_if.get("question")) if isinstance(show_if, dict) else None
    values = show_if.get("in") if isinstance(show_if, dict) else None
    if target is None:
        add(f"{where}.show_if", _("la condition doit porter sur une question précédente"))
        return None
    if target["kind"] in (QuestionKind.SHORT_TEXT, QuestionKind.LONG_TEXT):
        add(f"{where}.show_if", _("une condition porte sur une note ou un choix, pas sur un texte"))
        return None
    if not isinstance(values, list) or not values or len(values) > MAX_OPTIONS:
        add(f"{where}.show_if", _("la condition demande une liste de réponses (in)"))
        return None
    kept: list[str] = []
    for value in values:
        if target["kind"] in CHOICE_KINDS:
            option = _option_of(target, str(value).strip())
            if option is None:
                add(
                    f"{where}.show_if",
                    _("« %(value)s » n'est pas une option de la question %(key)s")
                    % {"value": str(value)[:100], "key": target["key"]},
                )
                return None
            kept.append(option)
        else:
            low, high = (1, 5) if target["kind"] == QuestionKind.SCALE else (0, 10)
            text = str(value).strip()
            if not (text.isascii() and text.isdigit() and low <= int(text) <= high):
                add(
                    f"{where}.show_if",
                    _("la condition attend des nombres de %(low)s à %(high)s")
                    % {"low": low, "high": high},
                )
                return None
            kept.append(str(int(text)))
    return {"question": target["key"], "in": list(dict.fromkeys(kept))}


def audience_check(*, program: Program, raw: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    errors: list[dict[str, Any]] = []
    raw = raw or {}
    if not isinstance(raw, dict):
        return {}, [{"field": "audience", "reason": _("objet JSON attendu")}]
    roles = raw.get("roles") or []
    unknown = [r for r in roles if r not in Role.values]
    if unknown:
        errors.append(
            {
                "field": "audience.roles",
                "reason": _("rôle inconnu : %(roles)s (attendu : %(known)s)")
                % {"roles": ", ".join(map(str, unknown)), "known": ", ".join(Role.values)},
            }
        )
    enrolled = Enrolment.objects.filter(program=program, ended_at__isnull=True)
    people: list[int] = [int(p) for p in raw.get("people") or [] if str(p).isdigit()]
    emails = [str(e).strip().lower() for e in raw.get("emails") or []]
    if emails:
        found = dict(
            enrolled.filter(member__email__in=emails).values_list("member__email", "member_id")
        )
        missing = [e for e in emails if e not in {k.lower() for k in found}]
        if missing:
            errors.append(
                {
                    "field": "audience.emails",
                    "reason": _("pas dans ce programme : %(emails)s")
                    % {"emails": ", ".join(missing[:20])},
                }
            )
        people += list(found.values())
    if people:
        known = set(enrolled.filter(member_id__in=people).values_list("member_id", flat=True))
        if set(people) - known:
            errors.append({"field": "audience.people", "reason": _("personne hors du programme")})
    cohorts = [int(c) for c in raw.get("cohorts") or [] if str(c).isdigit()]
    if cohorts and Cohort.objects.filter(
        organisation_id=program.organisation_id, pk__in=cohorts
    ).count() != len(set(cohorts)):
        errors.append({"field": "audience.cohorts", "reason": _("cohorte ou étiquette inconnue")})
    saved = raw.get("saved_filter")
    if (
        saved
        and not SavedMemberFilter.objects.filter(
            organisation_id=program.organisation_id, pk=saved
        ).exists()
    ):
        errors.append({"field": "audience.saved_filter", "reason": _("filtre sauvegardé inconnu")})
    audience = {
        "roles": sorted(set(roles)),
        "cohorts": sorted(set(cohorts)),
        "people": sorted(set(people)),
        "saved_filter": int(saved) if saved and str(saved).isdigit() else None,
    }
    return audience, errors


def _survey_check(
    *,
    program: Program,
    title_fr: str,
    title_en: str,
    questions: Any,
    audience: Any,
    opens_at: dt.datetime,
    closes_at: dt.datetime,
    trigger: str,
    trigger_n: int,
    reminder_days: Any,
) -> dict[str, Any]:
    """Everything a survey is made of, checked as a whole: every problem is listed at once
    (SurveyError), nothing is saved while one is."""
    errors: list[dict[str, Any]] = []
    title_fr, title_en = (title_fr or "").strip(), (title_en or "").strip()
    if not title_fr and not title_en:
        errors.append({"field": "title", "reason": _("le titre est obligatoire")})
    if max(len(title_fr), len(title_en)) > 200:
        errors.append({"field": "title", "reason": _("200 caractères au plus")})
    checked, problems = questions_check(questions)
    errors += problems
    people, problems = audience_check(program=program, raw=audience)
    errors += problems
    if opens_at.tzinfo is None or closes_at.tzinfo is None:
        errors.append({"field": "opens_at", "reason": _("dates avec leur fuseau horaire")})
    elif closes_at <= opens_at:
        errors.append({"field": "closes_at", "reason": _("la clôture doit suivre l'ouverture")})
    elif closes_at - opens_at > dt.timedelta(days=3 * 366):
        errors.append({"field": "closes_at", "reason": _("trois ans au plus")})
    if trigger not in Trigger.values:
        errors.append({"field": "trigger", "reason": _("déclencheur inconnu")})
    elif trigger in (Trigger.MEETINGS, Trigger.RELATIONSHIP_END) and not (
        (1 if trigger == Trigger.MEETINGS else 0) <= trigger_n <= MAX_TRIGGER_N
    ):
        errors.append({"field": "trigger.n", "reason": _("N entre 1 et 365")})
    days = DEFAULT_REMINDER_DAYS if reminder_days is None else reminder_days
    if (
        not isinstance(days, list)
        or len(days) > 10
        or any(isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= 365 for d in days)
    ):
        errors.append(
            {"field": "reminder_days", "reason": _("jours de 1 à 365, dix relances au plus")}
        )
        days = []
    if errors:
        raise SurveyError(errors)
    return {
        "title_fr": title_fr or title_en,
        "title_en": title_en,
        "questions": checked,
        "audience": people,
        "opens_at": opens_at,
        "closes_at": closes_at,
        "trigger": trigger,
        "trigger_n": trigger_n if trigger in (Trigger.MEETINGS, Trigger.RELATIONSHIP_END) else 0,
        "reminder_days": sorted(set(days)),
    }


@transaction.atomic
def survey_create(
    *,
    program: Program,
    title_fr: str,
    title_en: str = "",
    questions: Any,
    audience: Any = None,
    opens_at: dt.datetime,
    closes_at: dt.datetime,
    anonymous: bool = False,
    trigger: str = Trigger.DATE,
    trigger_n: int = 0,
    reminder_days: list[int] | None = None,
    by: Member | None,
) -> Survey:
    """A survey checked as a whole: every problem is listed, nothing is saved while one is."""
    fields = _survey_check(
        program=program,
        title_fr=title_fr,
        title_en=title_en,
        questions=questions,
        audience=audience,
        opens_at=opens_at,
        closes_at=closes_at,
        trigger=trigger,
        trigger_n=trigger_n,
        reminder_days=reminder_days,
    )
    survey = Survey.objects.create(program=program, anonymous=anonymous, created_by=by, **fields)
    log_action("survey.created", actor=by, target=survey, data={"trigger": trigger})
    return survey


class SurveyLocked(Exception):
    """The survey has opened (or someone was invited): its questions are no longer changed,
    since answers already given would no longer match them."""


@transaction.atomic
def survey_update(
    *,
    survey: Survey,
    title_fr: str,
    title_en: str = "",
    questions: Any,
    audience: Any = None,
    opens_at: dt.datetime,
    closes_at: dt.datetime,
    anonymous: bool = False,
    trigger: str = Trigger.DATE,
    trigger_n: int = 0,
    reminder_days: list[int] | None = None,
    by: Member | None,
    now: dt.datetime | None = None,
) -> Survey:
    """Change a survey before it opens; refused (SurveyLocked) once it has opened."""
    now = now or timezone.now()
    survey = Survey.objects.select_for_update().select_related("program").get(pk=survey.pk)
    if not survey_editable(survey, now):
        raise SurveyLocked()
    fields = _survey_check(
        program=survey.program,
        title_fr=title_fr,
        title_en=title_en,
        questions=questions,
        audience=audience,
        opens_at=opens_at,
        closes_at=closes_at,
        trigger=trigger,
        trigger_n=trigger_n,
        reminder_days=reminder_days,
    )
    changed = sorted(k for k, v in fields.items() if getattr(survey, k) != v)
    if survey.anonymous != anonymous:
        changed.append("anonymous")
    for name, value in fields.items():
        setattr(survey, name, value)
    survey.anonymous = anonymous
    survey.save()
    log_action("survey.updated", actor=by, target=survey, data={"changed": changed})
    return survey


def survey_editable(survey: Survey, now: dt.datetime) -> bool:
    return now < survey.opens_at and not Invitation.objects.filter(survey=survey).exists()


@transaction.atomic
def survey_delete(*, survey: Survey, by: Member | None) -> int:
    """Delete a survey with its invitations and answers (the manager confirmed it); the
    audit keeps its title and how many answers went with it."""
    responses = Response.objects.filter(survey=survey).count()
    log_action(
        "survey.deleted",
        actor=by,
        target=survey,
        data={"title": survey.title_fr, "responses": responses},
    )
    survey.delete()
    return responses


# --- Who is asked -----------------------------------------------------------------------------


def audience_members(survey: Survey) -> QuerySet[Member]:
    """The programme's current, active members the audience names (everyone when it names
    nobody); the parts add up (roles or cohorts or people or the saved filter)."""
    program = survey.program
    enrolled = Enrolment.objects.filter(program=program, ended_at__isnull=True)
    members = Member.objects.filter(
        pk__in=enrolled.values("member_id"), is_active=True, archived_at__isnull=True
    )
    audience = survey.audience or {}
    wanted = Q()
    named = False
    if audience.get("roles"):
        wanted |= Q(pk__in=enrolled.filter(role__in=audience["roles"]).values("member_id"))
        named = True
    if audience.get("cohorts"):
        wanted |= Q(cohorts__in=audience["cohorts"])
        named = True
    if audience.get("people"):
        wanted |= Q(pk__in=audience["people"])
        named = True
    if audience.get("saved_filter"):
        named = True
        wanted |= Q(pk__in=_saved_filter_members(survey, audience["saved_filter"]).values("pk"))
    if named:
        members = members.filter(wanted)
    return Member.objects.filter(pk__in=members.values("pk")).order_by("pk")


def _saved_filter_members(survey: Survey, filter_id: int) -> QuerySet[Member]:
    """The members a saved members-list filter finds today (its search, role, cohort,
    activity and relationship parts; the custom-field parts are left to the list)."""
    from django.http import QueryDict

    from cohorte.accounts.selectors import MemberFilters, member_rows

    saved = SavedMemberFilter.objects.filter(
        organisation_id=survey.program.organisation_id, pk=filter_id
    ).first()
    if saved is None:
        return Member.objects.none()
    query = QueryDict(saved.query)

    def one_of(name: str, allowed: tuple[str, ...]) -> str:
        value = query.get(name, "")
        return value if value in allowed else ""

    cohort = query.get("cohort", "")
    filters = MemberFilters(
        q=query.get("q", "")[:200],
        role=one_of("role", ("mentor", "mentee", "both", "none")),
        active=one_of("active", ("yes", "no")),
        recent=one_of("recent", ("7", "30", "90", "never")),
        relationship=one_of("relationship", ("matched", "unmatched")),
        cohort=int(cohort) if cohort.isdigit() and len(cohort) < 12 else None,
    )
    base = Member.objects.filter(organisation_id=saved.organisation_id)
    return member_rows(members=base, filters=filters)


# --- Invitations, e-mails, reminders -----------------------------------------------------------


def answer_token(invitation: Invitation) -> str:
    return signing.dumps({"i": invitation.pk, "s": invitation.survey_id}, salt=TOKEN_SALT)


def invitation_from_token(token: str) -> Invitation | None:
    """The invitation a link names, if the link is ours and untouched; the view checks
    the survey's dates (the link stops working at closing)."""
    try:
        data = signing.loads(token, salt=TOKEN_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("i"), int):
        return None
    return (
        Invitation.objects.filter(pk=data["i"], survey_id=int(data.get("s") or 0))
        .select_related("survey__program__organisation", "member")
        .first()
    )


def _absolute(path: str) -> str:
    from cohorte.messaging.services import absolute_url

    return absolute_url(path)


def _invitation_email(invitation: Invitation, *, reminder: bool) -> None:
    from cohorte.messaging import branding
    from cohorte.messaging.services import email_enqueue

    survey, member = invitation.survey, invitation.member
    link = _absolute(reverse("surveys:answer-link", args=[answer_token(invitation)]))
    closes = survey.closes_at.astimezone(survey.program.organisation.tzinfo)
    with translation.override(member.language):
        title = survey.title_in(member.language)
        when = formats.date_format(closes, "DATETIME_FORMAT")
        if reminder:
            subject = _("Rappel : %(title)s") % {"title": title}
            intro = _("Vous n'avez pas encore répondu au sondage « %(title)s ».") % {"title": title}
        else:
            subject = _("Sondage : %(title)s") % {"title": title}
            intro = _("Votre avis compte : répondez au sondage « %(title)s ».") % {"title": title}
        lines = [
            _("Bonjour %(name)s,") % {"name": member.first_name or member.email},
            intro,
            _("Répondre (sans vous connecter) : %(link)s") % {"link": link},
            _("Le sondage ferme le %(date)s.") % {"date": when},
        ]
        if survey.anonymous:
            lines.append(_("Vos réponses sont anonymes."))
    # in the programme's brand, as the platform's other automatic messages
    layout = branding.EmailLayout(survey.program, member.language)
    text = "\n\n".join(lines)
    email_enqueue(
        organisation_id=survey.program.organisation_id,
        member=member,
        to_email=member.email,
        subject=subject,
        text=layout.text(text),
        html=layout.html(branding.system_html(text)),
        language=member.language,
    )


def invitations_create(
    *,
    survey: Survey,
    members: Iterable[Member],
    now: dt.datetime,
    relationship: Relationship | None = None,
) -> list[Invitation]:
    """Invite whoever is not invited yet, each with one e-mail, in the caller's transaction."""
    members = list(members)
    already = set(
        Invitation.objects.filter(survey=survey, member__in=members).values_list(
            "member_id", flat=True
        )
    )
    made = []
    for member in members:
        if member.pk in already:
            continue
        invitation = Invitation.objects.create(
            survey=survey, member=member, relationship=relationship, invited_at=now
        )
        invitation.survey = survey
        invitation.member = member
        _invitation_email(invitation, reminder=False)
        made.append(invitation)
    return made


def sendable_by_hand(survey: Survey) -> bool:
    """A survey sent at a date or by hand; one triggered by meetings or a relationship's
    end reaches each person when their moment comes, never the whole audience at once."""
    return survey.trigger in (Trigger.DATE, Trigger.MANUAL)


@transaction.atomic
def survey_send(*, survey: Survey, by: Member | None, now: dt.datetime | None = None) -> int:
    """By hand (or at the opening date): everyone in the audience not yet invited."""
    now = now or timezone.now()
    survey = (
        Survey.objects.select_for_update().select_related("program__organisation").get(pk=survey.pk)
    )
    if not survey.is_open(now) or not sendable_by_hand(survey):
        return 0
    made = invitations_create(survey=survey, members=_not_invited(survey), now=now)
    if made:
        log_action("survey.sent", actor=by, target=survey, data={"invited": len(made)})
    return len(made)


def _not_invited(survey: Survey) -> QuerySet[Member]:
    return audience_members(survey).exclude(
        pk__in=Invitation.objects.filter(survey=survey).values("member_id")
    )


def _held_meetings_reached(survey: Survey) -> QuerySet[Member]:
    """Audience members not yet invited with at least N meetings held (confirmed by both
    sides, or by the manager) in the programme."""
    return (
        _not_invited(survey)
        .annotate(
            held=Count(
                "meetings",
                filter=Q(
                    meetings__program=survey.program,
                    meetings__status=MeetingStatus.CONFIRMED,
                ),
                distinct=True,
            )
        )
        .filter(held__gte=survey.trigger_n)
    )


def _relationships_ended(survey: Survey, now: dt.datetime) -> QuerySet[Relationship]:
    """Relationships of the programme ended N days ago or more (since N days before the
    survey opened), of which one side at least is not invited yet."""
    invited = Invitation.objects.filter(survey=survey).values("member_id")
    return (
        Relationship.objects.filter(
            program=survey.program,
            status=RelationshipStatus.COMPLETED,
            ended_at__gte=survey.opens_at - dt.timedelta(days=survey.trigger_n),
            ended_at__lte=now - dt.timedelta(days=survey.trigger_n),
        )
        .exclude(mentor_id__in=invited, mentee_id__in=invited)
        .select_related("mentor", "mentee")
        .order_by("ended_at", "pk")
    )


@transaction.atomic
def survey_run(*, survey: Survey, now: dt.datetime | None = None) -> dict[str, int]:
    """One survey's automatic work at `now`: its trigger's invitations, then the reminders
    due. Locked, so two workers ticking at once send nothing twice."""
    now = now or timezone.now()
    survey = (
        Survey.objects.select_for_update().select_related("program__organisation").get(pk=survey.pk)
    )
    done = {"invited": 0, "reminded": 0}
    if not survey.is_open(now):
        return done
    if survey.trigger == Trigger.DATE:
        done["invited"] = len(
            invitations_create(survey=survey, members=_not_invited(survey), now=now)
        )
    elif survey.trigger == Trigger.MEETINGS:
        done["invited"] = len(
            invitations_create(survey=survey, members=_held_meetings_reached(survey), now=now)
        )
    elif survey.trigger == Trigger.RELATIONSHIP_END:
        allowed = set(audience_members(survey).values_list("pk", flat=True))
        for relationship in _relationships_ended(survey, now):
            pair = [m for m in (relationship.mentor, relationship.mentee) if m.pk in allowed]
            done["invited"] += len(
                invitations_create(survey=survey, members=pair, now=now, relationship=relationship)
            )
    done["reminded"] = _reminders_send(survey=survey, now=now)
    return done


def _reminders_send(*, survey: Survey, now: dt.datetime) -> int:
    """At each reminder day after their invitation (7, 14, 21), one e-mail to whoever has
    not answered; a day passed while the worker was down is one e-mail, not several."""
    days = sorted(int(d) for d in survey.reminder_days or [])
    if not days:
        return 0
    sent = 0
    waiting = (
        Invitation.objects.filter(
            survey=survey,
            response__isnull=True,
            reminders_sent__lt=len(days),
            invited_at__lte=now - dt.timedelta(days=days[0]),
        )
        .select_related("member")
        .order_by("pk")
    )
    for invitation in waiting:
        reached = sum(1 for d in days if now >= invitation.invited_at + dt.timedelta(days=d))
        if reached <= invitation.reminders_sent:
            continue
        if not invitation.member.is_active or invitation.member.archived_at is not None:
            continue
        if (
            invitation.last_reminded_at and now - invitation.last_reminded_at < MANUAL_REMINDER_GAP
        ):  # reminded by hand a moment ago: this day counts as reached, no second e-mail
            invitation.reminders_sent = reached
            invitation.save(update_fields=["reminders_sent"])
            continue
        invitation.survey = survey
        _invitation_email(invitation, reminder=True)
        invitation.reminders_sent = reached
        invitation.last_reminded_at = now
        invitation.save(update_fields=["reminders_sent", "last_reminded_at"])
        sent += 1
    return sent


#: a reminder by hand skips whoever was reminded this recently (a second click, a retry)
MANUAL_REMINDER_GAP = dt.timedelta(hours=20)


@transaction.atomic
def survey_remind(*, survey: Survey, by: Member | None, now: dt.datetime | None = None) -> int:
    """« Relancer maintenant »: one e-mail to each invited person who has not answered,
    except those reminded in the last hours — so a double click or a retried request
    sends nothing twice. Locked like the automatic run."""
    now = now or timezone.now()
    survey = (
        Survey.objects.select_for_update().select_related("program__organisation").get(pk=survey.pk)
    )
    if not survey.is_open(now):
        return 0
    waiting = (
        Invitation.objects.filter(
            survey=survey,
            response__isnull=True,
            member__is_active=True,
            member__archived_at__isnull=True,
        )
        .filter(
            Q(last_reminded_at__isnull=True) | Q(last_reminded_at__lt=now - MANUAL_REMINDER_GAP)
        )
        .select_related("member")
        .order_by("pk")
    )
    sent = 0
    for invitation in waiting:
        invitation.survey = survey
        _invitation_email(invitation, reminder=True)
        sent += 1
    Invitation.objects.filter(pk__in=[i.pk for i in waiting]).update(last_reminded_at=now)
    if sent:
        log_action("survey.reminded", actor=by, target=survey, data={"reminded": sent})
    return sent


def surveys_run(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Every open survey (the scheduler tick calls this)."""
    now = now or timezone.now()
    total = {"invited": 0, "reminded": 0}
    for survey in (
        Survey.objects.filter(opens_at__lte=now, closes_at__gt=now)
        .exclude(trigger=Trigger.MANUAL, invitations__isnull=True)
        .distinct()
        .order_by("pk")
    ):
        done = survey_run(survey=survey, now=now)
        total["invited"] += done["invited"]
        total["reminded"] += done["reminded"]
    return total


# --- Answers ---------------------------------------------------------------------------------


class SurveyClosed(Exception):
    pass


def visible_questions(survey: Survey, answers: dict[str, Any]) -> list[dict[str, Any]]:
    """The questions shown for these answers: a condition on an earlier answer hides a
    question unless that answer is one of its values."""
    shown: list[dict[str, Any]] = []
    shown_keys: set[str] = set()
    for question in survey.questions:
        condition = question.get("show_if")
        if condition:
            # an answer to a hidden question shows nothing: conditions chain
            earlier = (
                answers.get(condition["question"]) if condition["question"] in shown_keys else None
            )
            given = earlier if isinstance(earlier, list) else [earlier]
            if not any(str(v) in condition["in"] for v in given if v is not None):
                continue
        shown.append(question)
        shown_keys.add(question["key"])
    return shown


def answers_check(survey: Survey, raw: Any) -> dict[str, Any]:
    """Answers as {key: value}, each checked against its question; SurveyError otherwise.
    `raw` is [{question, value}] (the API) or {key: value} (the form)."""
    errors: list[dict[str, Any]] = []
    pairs: list[tuple[Any, Any]]
    if isinstance(raw, dict):
        pairs = list(raw.items())
    elif isinstance(raw, list):
        pairs = [
            (item.get("question"), item.get("value")) if isinstance(item, dict) else (None, None)
            for item in raw
        ]
    else:
        raise SurveyError([{"field": "answers", "reason": _("liste de réponses attendue")}])
    by_key = {q["key"]: q for q in survey.questions}
    given: dict[str, Any] = {}
    for key, value in pairs:
        if key not in by_key:
            errors.append({"field": f"answers.{str(key)[:40]}", "reason": _("question inconnue")})
            continue
        if value is None or value == "" or value == []:
            continue
        question = by_key[key]
        problem, clean = _value_check(question, value)
        if problem:
            errors.append({"field": f"answers.{key}", "reason": problem})
        else:
            given[key] = clean
    if not errors:
        shown = visible_questions(survey, given)
        shown_keys = {q["key"] for q in shown}
        given = {k: v for k, v in given.items() if k in shown_keys}
        for question in shown:
            if question["required"] and question["key"] not in given:
                errors.append(
                    {"field": f"answers.{question['key']}", "reason": _("réponse obligatoire")}
                )
    if errors:
        raise SurveyError(errors)
    return given


def _value_check(question: dict[str, Any], value: Any) -> tuple[str, Any]:
    kind = question["kind"]
    if kind in (QuestionKind.SCALE, QuestionKind.NPS):
        low, high = (1, 5) if kind == QuestionKind.SCALE else (0, 10)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            return _("nombre entier de %(low)s à %(high)s attendu") % {
                "low": low,
                "high": high,
            }, None
        return "", value
    if kind in CHOICE_KINDS:
        names = [o["fr"] for o in question["options"]]
        values = value if isinstance(value, list) else [value]
        if kind == QuestionKind.SINGLE and len(values) != 1:
            return _("une seule option attendue"), None
        picked = []
        for item in values:
            match = _option_of(question, item)
            if match is None:
                return _("option inexistante : %(value)s") % {"value": str(item)[:100]}, None
            if match not in picked:
                picked.append(match)
        if kind == QuestionKind.SINGLE:
            return "", picked[0]
        return "", [n for n in names if n in picked]
    if not isinstance(value, str):
        return _("texte attendu"), None
    limit = MAX_SHORT_TEXT if kind == QuestionKind.SHORT_TEXT else MAX_LONG_TEXT
    text = value.replace("\x00", "").strip()
    if len(text) > limit:
        return _("trop long (%(n)s caractères au plus)") % {"n": limit}, None
    return "", text


def _option_of(question: dict[str, Any], value: Any) -> str | None:
    """An option named in French or English (its French text is what is kept)."""
    if not isinstance(value, str):
        return None
    for option in question["options"]:
        if value in (option["fr"], option["en"]):
            return option["fr"]
    return None


@transaction.atomic
def response_save(
    *, invitation: Invitation, answers: Any, now: dt.datetime | None = None
) -> tuple[Response, bool]:
    """The person's answers; a second response replaces the first while the survey is open."""
    now = now or timezone.now()
    invitation = (
        Invitation.objects.select_for_update()
        .select_related("survey__program", "member")
        .get(pk=invitation.pk)
    )
    survey = invitation.survey
    if not survey.is_open(now):
        raise SurveyClosed()
    clean = answers_check(survey, answers)
    enrolment = Enrolment.objects.filter(program=survey.program, member=invitation.member).first()
    role = enrolment.role if enrolment else ""
    response, created = Response.objects.update_or_create(
        invitation=invitation,
        defaults={"survey": survey, "answers": clean, "role": role, "updated_at": now},
        create_defaults={
            "survey": survey,
            "answers": clean,
            "role": role,
            "submitted_at": now,
            "updated_at": now,
        },
    )
    response.cohorts.set(
        Cohort.objects.filter(
            organisation_id=survey.program.organisation_id, members=invitation.member
        )
    )
    Answer.objects.filter(response=response).delete()
    Answer.objects.bulk_create(_answer_rows(survey, response, clean))
    return response, created


def _answer_rows(survey: Survey, response: Response, clean: dict[str, Any]) -> list[Answer]:
    kinds = {q["key"]: q["kind"] for q in survey.questions}
    rows = []
    for key, value in clean.items():
        kind = kinds[key]
        if kind in (QuestionKind.SCALE, QuestionKind.NPS):
            rows.append(Answer(response=response, survey=survey, key=key, number=value))
        elif kind in CHOICE_KINDS:
            for option in value if isinstance(value, list) else [value]:
                rows.append(Answer(response=response, survey=survey, key=key, choice=option))
        else:
            rows.append(Answer(response=response, survey=survey, key=key, text=value))
    return rows

import base64
import datetime as dt
from typing import Any

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from cohorte.accounts.http import MemberRequest
from cohorte.accounts.models import Member
from cohorte.accounts.selectors import members_visible_to
from cohorte.core import parse
from cohorte.core.audit import log_action
from cohorte.core.exports import csv_response
from cohorte.core.moments import format_moment, localtime_or_utc
from cohorte.programs.models import Cohort

from . import attachments, rendering, services, system_messages
from .forms import ComposeForm, EmailLogForm, ScheduleForm
from .models import Attachment, Email, EmailStatus, MessageStatus, Notification, ReleaseNote
from .selectors import (
    email_log,
    email_log_count,
    email_log_page,
    message_delivery,
    message_programs,
    messages_visible_to,
)

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _require_staff(request: MemberRequest) -> None:
    if not (request.user.is_org_admin or request.user.managed_programs.exists()):
        raise Http404("No messaging for this member.")


def _compose_form(request: MemberRequest, data=None, initial=None) -> ComposeForm:
    organisation = request.user.organisation
    return ComposeForm(
        data,
        initial=initial,
        programs=message_programs(request.user),
        cohorts=Cohort.objects.filter(organisation=organisation) if organisation else [],
        allow_organisation=request.user.is_org_admin,
    )


def _draft_from(form: ComposeForm) -> services.Draft:
    data = form.cleaned_data
    return services.Draft(
        audience=data["audience"],
        subject_fr=data.get("subject_fr") or "",
        subject_en=data.get("subject_en") or "",
        body_fr=data.get("body_fr") or "",
        body_en=data.get("body_en") or "",
        cohort_id=data.get("cohort"),
        people=form.people_ids(),
    )


def _people_of(request: MemberRequest, ids: list[int]) -> list[Member]:
    return list(
        members_visible_to(request.user).filter(pk__in=ids).order_by("last_name", "first_name")
    )


@login_required
def compose(request: MemberRequest, message_id: int | None = None) -> HttpResponse:
    """« Messages de la communauté »: compose (or revise) and the list of messages."""
    _require_staff(request)
    message = (
        get_object_or_404(messages_visible_to(request.user), pk=message_id) if message_id else None
    )
    if message is not None and message.status == MessageStatus.SENT:
        flash.error(request, _("Ce message est déjà parti : dupliquez-le pour le renvoyer."))
        return redirect("messaging:message", message_id=message.pk)
    initial = None
    if message is not None:
        initial = {
            "program": message.program_id,
            "audience": message.audience,
            "cohort": message.cohort_id,
            "people": ",".join(str(pk) for pk in message.people),
            "subject_fr": message.subject_fr,
            "subject_en": message.subject_en,
            "body_fr": message.body_fr,
            "body_en": message.body_en,
        }
    elif request.GET.get("people") or request.GET.getlist("member"):
        # « people selected in any table »: the members list and the participants' table
        try:
            chosen = parse.parse_ids(
                [request.GET.get("people", ""), *request.GET.getlist("member")]
            )
        except parse.ParseError as error:
            flash.error(request, _("Personnes : %(reason)s.") % {"reason": error.message})
            chosen = []
        program_id = None
        if request.GET.get("program"):
            try:
                program_id = parse.parse_id(request.GET["program"])
            except parse.ParseError:
                program_id = None
        initial = {
            "audience": "people",
            "people": ",".join(str(pk) for pk in chosen),
            "program": program_id,
        }
    form = _compose_form(request, request.POST or None, initial=initial)
    attachment_errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        uploads = request.FILES.getlist("attachments")
        attachment_errors = [
            problem for upload in uploads if (problem := attachments.attachment_check(upload))
        ]
        program = message_programs(request.user).filter(pk=form.cleaned_data["program"]).first()
        if form.cleaned_data["program"] and program is None:
            form.add_error("program", _("Programme inconnu."))
        if not attachment_errors and not form.errors:
            try:
                with transaction.atomic():
                    saved = services.message_save(
                        organisation_id=request.user.organisation_id or 0,
                        program=program,
                        draft=_draft_from(form),
                        by=request.user,
                        message=message,
                    )
                    for upload in uploads:
                        name = upload.name or "piece-jointe"
                        Attachment.objects.create(
                            message=saved,
                            file=upload,
                            name=name[:200],
                            size=upload.size or 0,
                            content_type=attachments.content_type_of(upload)
                            or "application/octet-stream",
                        )
            except ValidationError as error:
                for field, problems in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, problems)
            else:
                return redirect("messaging:message", message_id=saved.pk)
    people = _people_of(request, form.people_shown_ids())
    form.show_people(people)
    return render(
        request,
        "messaging/compose.html",
        {
            "form": form,
            "editing": message,
            "tags": rendering.tag_help(),
            "people": people,
            "attachment_errors": attachment_errors,
            "messages_list": messages_visible_to(request.user).filter(kind="community")[:50],
        },
    )


@login_required
def message_detail(request: MemberRequest, message_id: int) -> HttpResponse:
    """The preview for a real recipient, then « Envoyer un message » or « Prévoir horaire »."""
    _require_staff(request)
    message = get_object_or_404(messages_visible_to(request.user), pk=message_id)
    preparing = services.message_preparing(message)
    delivery = message_delivery(message) if message.status == MessageStatus.SENT else None
    if request.headers.get("HX-Request") and (delivery is not None or preparing):
        if delivery is not None and request.GET.get("preparing"):
            # its rows are written: the whole page changes (status, actions), not only the bar
            response = HttpResponse(status=204)
            response["HX-Refresh"] = "true"
            return response
        return render(  # the progress polling
            request,
            "messaging/message.html#delivery",
            {"message": message, "delivery": delivery, "preparing": preparing},
        )
    count, sample = services.recipients_preview(message)
    example, rendered = services.render_for_preview(message)
    tz = message.organisation.tzinfo
    # a time out of range stored before the bounds existed must not break the page
    proposed = localtime_or_utc(
        message.send_at
        if message.send_at and parse.within_bounds(message.send_at)
        else timezone.now() + dt.timedelta(days=1),
        tz,
    )
    schedule = ScheduleForm(initial={"send_at": proposed})
    return render(
        request,
        "messaging/message.html",
        {
            "message": message,
            "delivery": delivery,
            "preparing": preparing,
            "count": count,
            "sample": sample,
            "example": example,
            "rendered": rendered,
            "schedule": schedule,
            "tz": message.organisation.timezone,
            "attachments": message.attachments.all(),
        },
    )


@login_required
@require_POST
def message_send(request: MemberRequest, message_id: int) -> HttpResponse:
    _require_staff(request)
    message = get_object_or_404(messages_visible_to(request.user), pk=message_id)
    if request.POST.get("when") == "later":
        tz = message.organisation.tzinfo
        with timezone.override(tz):
            form = ScheduleForm(request.POST)
            valid = form.is_valid()
        if not valid:
            problems = form.errors.get("send_at") or [_("Date invalide.")]
            flash.error(request, " ".join(str(problem) for problem in problems))
            return redirect("messaging:message", message_id=message.pk)
        try:
            services.message_schedule(
                message=message, send_at=form.cleaned_data["send_at"], by=request.user
            )
        except ValidationError as error:
            flash.error(request, " ".join(error.messages))
            return redirect("messaging:message", message_id=message.pk)
        flash.success(
            request,
            _("Message programmé pour le %(when)s.")
            % {
                "when": timezone.localtime(form.cleaned_data["send_at"], tz).strftime(
                    "%d/%m/%Y %H:%M"
                )
            },
        )
        return redirect("messaging:compose")
    count, later = services.message_send_now(message=message, by=request.user)
    if later:
        flash.success(
            request,
            _("Envoi à %(count)s personnes en préparation : suivez-le sur cette page.")
            % {"count": number_format(count, force_grouping=True)},
        )
        return redirect("messaging:message", message_id=message.pk)
    flash.success(
        request,
        ngettext(
            "Message envoyé à %(count)d personne.", "Message envoyé à %(count)d personnes.", count
        )
        % {"count": count},
    )
    return redirect("messaging:compose")


@login_required
@require_POST
def message_delete(request: MemberRequest, message_id: int) -> HttpResponse:
    _require_staff(request)
    message = get_object_or_404(messages_visible_to(request.user), pk=message_id)
    try:
        services.message_delete(message=message, by=request.user)
        flash.success(request, _("Message supprimé."))
    except ValidationError as error:
        flash.error(request, " ".join(error.messages))
    return redirect("messaging:compose")


@login_required
@require_POST
def message_duplicate(request: MemberRequest, message_id: int) -> HttpResponse:
    _require_staff(request)
    message = get_object_or_404(messages_visible_to(request.user), pk=message_id)
    copy = services.message_duplicate(message=message, by=request.user)
    return redirect("messaging:edit", message_id=copy.pk)


@login_required
def people_search(request: MemberRequest) -> HttpResponse:
    """« Personnes »: suggestions as one types (htmx)."""
    _require_staff(request)
    q = request.GET.get("q", "").strip()
    found: list[Member] = []
    if len(q) >= 2:
        from cohorte.accounts.selectors import MemberFilters, member_rows

        found = list(
            member_rows(members=members_visible_to(request.user), filters=MemberFilters(q=q))[:10]
        )
    return render(request, "messaging/_people_options.html", {"found": found})


# --- The e-mail log ----------------------------------------------------------------------------


def _log_rows(request: MemberRequest, form: EmailLogForm, *, with_statuses: bool = True):
    """The rows the filters ask for; None when a filter is invalid (the form says why)."""
    if not form.is_valid():
        return None
    data = form.cleaned_data
    tz = (
        request.user.organisation.tzinfo
        if request.user.organisation
        else timezone.get_current_timezone()
    )
    start = (
        dt.datetime.combine(data["start"], dt.time.min, tzinfo=tz) if data.get("start") else None
    )
    end = (
        dt.datetime.combine(data["end"] + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        if data.get("end")
        else None
    )
    return email_log(
        user=request.user,
        member_ids=data.get("member") or [],
        statuses=(data.get("status") or []) if with_statuses else [],
        start=start,
        end=end,
        message_id=data.get("message"),
    )


#: statuses whose row shows the provider's or the server's last error
_FAILED = frozenset(EmailStatus.values) - {
    EmailStatus.OPENED,
    EmailStatus.DELIVERED,
    EmailStatus.SENT,
}


def _log_lines(rows: list[Email]) -> list[dict[str, str]]:
    """What each row of the log shows, ready to print: the template reads a dict at once,
    where each `row.x` on a model first tries `row["x"]` and catches the failure."""
    labels = {value: str(label) for value, label in EmailStatus.choices}
    lines = []
    for row in rows:
        named = row.to_name and row.to_name != row.to_email
        lines.append(
            {
                "subject": row.subject,
                "to": f"{row.to_name} ({row.to_email})" if named else row.to_email,
                "sent": format_moment(row.sent_at or row.created_at, "j F Y H\\hi"),
                "status": row.status,
                "status_label": labels.get(row.status, row.status),
                "opened": format_moment(row.opened_at, "j F Y H\\hi"),
                "error": Truncator(row.last_error).chars(120)
                if row.last_error and row.status in _FAILED
                else "",
            }
        )
    return lines


@login_required
def email_log_view(request: MemberRequest) -> HttpResponse:
    """« Registre des courriels »: every e-mail sent, filtered, a page at a time."""
    _require_staff(request)
    form = EmailLogForm(request.GET)
    query = _log_rows(request, form, with_statuses=False)
    rows: list[Email] = []
    next_cursor = ""
    matching: int | None = None
    more = False
    if query is not None:
        statuses = form.cleaned_data.get("status") or []
        rows, next_cursor = email_log_page(
            query, after=form.cleaned_data.get("after") or "", statuses=statuses
        )
        matching, more = email_log_count(query, statuses=statuses)
    member_ids = form.cleaned_data.get("member") or [] if query is not None else []
    return render(
        request,
        "messaging/email_log.html",
        {
            "form": form,
            "rows": rows,
            "lines": _log_lines(rows),
            "next_cursor": next_cursor,
            "matching": matching,
            "more": more,
            "chosen": _people_of(request, member_ids),
            "statuses": EmailStatus.choices,
            "chosen_statuses": request.GET.getlist("status"),
        },
        status=200 if query is not None else 400,
    )


def _minute(value: dt.datetime | None, tz: dt.tzinfo) -> str:
    """« 2026-12-02 14:05 » in the organisation's time zone, as format_moment(value,
    "Y-m-d H:i") writes it: built directly, it costs a tenth (twice per row of a CSV of
    100,000 rows, the date format was most of the time)."""
    if value is None:
        return ""
    try:
        moment = value.astimezone(tz)
    except (OverflowError, ValueError):  # year 1 or 9999 (see cohorte.core.moments)
        moment = localtime_or_utc(value, tz)
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d} "
        f"{moment.hour:02d}:{moment.minute:02d}"
    )


@login_required
def email_log_csv(request: MemberRequest) -> HttpResponse | StreamingHttpResponse:
    """« Télécharger »: the filtered log, streamed."""
    _require_staff(request)
    form = EmailLogForm(request.GET)
    rows = _log_rows(request, form)
    if rows is None:
        problems = [
            f"{field}: {' '.join(str(e) for e in errors)}" for field, errors in form.errors.items()
        ]
        return HttpResponse(
            "\n".join(problems), status=400, content_type="text/plain; charset=utf-8"
        )
    labels = {value: str(label) for value, label in EmailStatus.choices}  # translated once
    tz = (
        request.user.organisation.tzinfo
        if request.user.organisation
        else timezone.get_current_timezone()
    )

    def lines():
        for row in rows.values_list(
            "subject",
            "to_name",
            "to_email",
            "created_at",
            "sent_at",
            "status",
            "opened_at",
            "last_error",
        ).iterator(chunk_size=5000):
            subject, name, address, created, sent, status, opened, error = row
            yield [
                subject,
                name,
                address,
                _minute(sent or created, tz),
                labels.get(status, status),
                _minute(opened, tz),
                error,
            ]

    french = translation.get_language() == "fr"
    header = [
        _("Nom"),
        _("Envoyé à"),
        _("Courriel"),
        _("Date de l'envoi"),
        _("Statut"),
        _("Ouvert le"),
        _("Détail"),
    ]
    log_action(
        "export.email_log_csv", actor=request.user, data={"filters": request.GET.urlencode()}
    )
    stamp = timezone.localdate().isoformat()
    return csv_response(
        f"registre-courriels-{stamp}.csv", header, lines(), delimiter=";" if french else ","
    )


def email_opened(request: HttpRequest, token: str) -> HttpResponse:
    """The 1×1 image of HTML messages sent over plain SMTP: an opening (or a mail client's
    automatic prefetch — the log says so)."""
    try:
        email_id = signing.loads(token, salt="email-open", max_age=60 * 60 * 24 * 400)
    except signing.BadSignature:
        email_id = None
    email = Email.objects.filter(pk=email_id).first() if email_id else None
    if email is not None:
        services.email_status_record(
            email=email,
            status=EmailStatus.OPENED,
            at=timezone.now(),
            event_key=f"pixel:{email.pk}",
        )
    response = HttpResponse(PIXEL, content_type="image/gif")
    response["Cache-Control"] = "no-store, private"
    return response


# --- System-generated messages --------------------------------------------------------------


def _require_admin(request: MemberRequest) -> int:
    if not request.user.is_org_admin or request.user.organisation_id is None:
        raise Http404("Administrators only.")
    return request.user.organisation_id


@login_required
def system_messages_page(request: MemberRequest) -> HttpResponse:
    """« Messages générés par le système », grouped by category."""
    organisation_id = _require_admin(request)
    groups: dict[str, list[services.SystemText]] = {}
    for text in services.system_texts(organisation_id=organisation_id):
        groups.setdefault(str(text.spec.category), []).append(text)
    return render(request, "messaging/system_messages.html", {"groups": groups})


@login_required
def system_message_edit(request: MemberRequest, key: str) -> HttpResponse:
    organisation_id = _require_admin(request)
    if key not in system_messages.SPECS:
        raise Http404("No such message.")
    text = services.system_text(organisation_id=organisation_id, key=key)
    values: dict[str, Any] = {
        "subject_fr": text.subject_fr,
        "subject_en": text.subject_en,
        "body_fr": text.body_fr,
        "body_en": text.body_en,
        "active": text.active,
    }
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = {
            "subject_fr": request.POST.get("subject_fr", ""),
            "subject_en": request.POST.get("subject_en", ""),
            "body_fr": request.POST.get("body_fr", ""),
            "body_en": request.POST.get("body_en", ""),
            "active": request.POST.get("active") == "1",
        }
        try:
            services.system_template_save(
                organisation_id=organisation_id, key=key, by=request.user, **values
            )
        except ValidationError as error:
            errors = error.message_dict
        else:
            flash.success(request, _("Message mis à jour."))
            return redirect("messaging:system")
    sample = {
        "first_name": request.user.first_name or "Camille",
        "full_name": request.user.full_name,
        "email": request.user.email,
        "organisation": request.user.organisation.name if request.user.organisation else "",
        "program": _("Mon programme"),
        "sign_in_link": request.build_absolute_uri("/compte/connexion/"),
        "admin_email": request.user.email,
        "percent": 60,
        "partner": "Alex Martin",
        "date": "12/03",
        "time": "14:00",
        "end_date": "30/06",
        "confirmed": 1,
        "objective": 3,
        "days": 7,
    }
    preview = {
        language: services.system_render(
            services.SystemText(
                key,
                text.spec,
                values["subject_fr"],
                values["subject_en"],
                values["body_fr"],
                values["body_en"],
                True,
                True,
            ),
            language=language,
            values=sample,
        )
        for language in ("fr", "en")
    }
    return render(
        request,
        "messaging/system_message_edit.html",
        {
            "text": text,
            "values": values,
            "errors": errors,
            "preview": preview,
            "keywords": text.spec.keyword_names(),
        },
    )


# --- Notifications --------------------------------------------------------------------------


@login_required
def notifications_page(request: MemberRequest) -> HttpResponse:
    """The bell's page: description, date, delete."""
    rows = Notification.objects.filter(member=request.user)[:200]
    return render(request, "messaging/notifications.html", {"rows": rows})


@login_required
def notification_open(request: MemberRequest, notification_id: int) -> HttpResponse:
    notification = get_object_or_404(Notification, pk=notification_id, member=request.user)
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk).update(read_at=timezone.now())
    # a path on this site only: « /\\evil.example » is another site to a browser
    target = notification.url
    if not (
        target.startswith("/")
        and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    ):
        target = ""
    return redirect(target or "messaging:notifications")


@login_required
@require_POST
def notification_delete(request: MemberRequest, notification_id: int) -> HttpResponse:
    Notification.objects.filter(pk=notification_id, member=request.user).delete()
    return redirect("messaging:notifications")


@login_required
def release_note(request: MemberRequest, note_id: int) -> HttpResponse:
    """« Notes de mise à jour »: for administrators only."""
    if not request.user.is_org_admin:
        raise Http404("Administrators only.")
    note = get_object_or_404(ReleaseNote, pk=note_id, published_at__isnull=False)
    english = translation.get_language() == "en"
    return render(
        request,
        "messaging/release_note.html",
        {
            "note": note,
            "title": note.title_en if english else note.title_fr,
            "body": rendering.sanitise(note.body_en if english else note.body_fr),
        },
    )

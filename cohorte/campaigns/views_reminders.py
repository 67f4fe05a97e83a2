"""« Relancer les managers »: by status from the statistics, or one manager; and the
campaign's staged reminder rules. Only the organisation's administrators (others: 404)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from cohorte.accounts.http import MemberRequest
from cohorte.accounts.models import Member
from cohorte.core.parse import ParseError, parse_id, parse_ids, parse_int, safe_next

from . import reminders, rules, selectors
from .models import STATUS_PLURALS, Campaign, InterviewStatus


def _admin_campaign(member, campaign_id: int) -> Campaign:
    campaign = Campaign.objects.select_related("organisation").filter(pk=campaign_id).first()
    if campaign is None or not rules.is_admin_of(member, campaign):
        raise Http404
    return campaign


def _status_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value in InterviewStatus.values else None


def _done_message(request: MemberRequest, result: reminders.Sending) -> None:
    sent = result.sent
    for skipped in result.skipped:
        name = skipped.manager.full_name or skipped.manager.email
        if skipped.reason == "archived":
            text = _("%(name)s est archivé(e) : aucune relance ne lui est envoyée.")
        else:
            text = _("%(name)s est désactivé(e) : aucune relance ne lui est envoyée.")
        messages.warning(request, text % {"name": name})
    if sent:
        messages.success(
            request,
            ngettext("%(n)s manager relancé.", "%(n)s managers relancés.", sent) % {"n": sent},
        )
    elif result.reminded:
        messages.info(
            request,
            _("Ces managers viennent d'être relancés : aucun e-mail n'est renvoyé."),
        )
    elif not result.skipped:
        messages.info(request, _("Aucun manager à relancer."))


@login_required
@require_http_methods(["GET", "POST"])
def remind(request: MemberRequest, campaign_id: int) -> HttpResponse:
    """GET: the window listing the managers concerned (an htmx partial, or a page); POST
    « Relancer »: one e-mail each to the ticked ones, a retry sends nothing twice."""
    campaign = _admin_campaign(request.user, campaign_id)
    data = request.POST if request.method == "POST" else request.GET
    status = _status_or_none(data.get("status"))
    if status is None:
        return render(
            request,
            "campaigns/remind.html",
            {"campaign": campaign, "status": None, "error": _("Choisissez un statut connu.")},
            status=400,
        )
    if request.method == "POST":
        try:
            selected = parse_ids(data.getlist("manager"))
        except ParseError as error:
            messages.error(request, error.message)
            return redirect(f"{reverse('campaigns:remind', args=[campaign.pk])}?status={status}")
        result = reminders.managers_remind(
            campaign=campaign, status=status, by=request.user, only=selected
        )
        _done_message(request, result)
        return redirect("campaigns:detail", campaign.pk)
    recipients = selectors.reminder_recipients(campaign, status)
    context = {
        "campaign": campaign,
        "status": status,
        "status_label": STATUS_PLURALS[InterviewStatus(status)],
        "recipients": recipients,
        "total": sum(r["count"] for r in recipients),
    }
    template = "campaigns/remind.html"
    if request.headers.get("HX-Request"):
        template = "campaigns/_remind_form.html"
    return render(request, template, context)


@login_required
@require_POST
def remind_manager(request: MemberRequest, campaign_id: int) -> HttpResponse:
    """« Relancer le responsable »: one e-mail listing their pending interviews (or those
    in `status`)."""
    campaign = _admin_campaign(request.user, campaign_id)
    back = safe_next(request, reverse("campaigns:interviews", args=[campaign.pk]))
    try:
        manager_id = parse_id(request.POST.get("manager"))
    except ParseError as error:
        messages.error(request, _("Responsable : %(reason)s.") % {"reason": error.message})
        return redirect(back)
    raw_status = request.POST.get("status") or ""
    if raw_status and _status_or_none(raw_status) is None:
        messages.error(request, _("Choisissez un statut connu."))
        return redirect(back)
    manager = Member.objects.filter(pk=manager_id, organisation_id=campaign.organisation_id).first()
    if manager is None or not campaign.interviews.filter(manager=manager).exists():
        raise Http404
    result = reminders.manager_remind(
        campaign=campaign, manager=manager, by=request.user, status=raw_status or None
    )
    if result.sent:
        messages.success(
            request,
            _("%(name)s est relancé(e).") % {"name": manager.full_name or manager.email},
        )
    else:
        _done_message(request, result)
    return redirect(back)


def _rules_from_post(post) -> dict:
    """The form's fields as reminder rules; a day count that is not one is refused here with
    the field's name, the bounds are reminder_rules_clean's."""
    days = []
    for part in (post.get("before") or "").replace(";", ",").split(","):
        if part.strip():
            days.append(parse_int(part, minimum=1, maximum=60))
    values: dict = {"enabled": post.get("enabled") == "on", "before": days}
    for name in ("every_after", "escalate_after", "hr_after"):
        raw = (post.get(name) or "").strip()
        values[name] = parse_int(raw, minimum=1, maximum=365) if raw else None
    return values


@login_required
@require_http_methods(["GET", "POST"])
def remind_rules(request: MemberRequest, campaign_id: int) -> HttpResponse:
    """The staged reminders of the circuit's steps, set or switched off for the campaign."""
    campaign = _admin_campaign(request.user, campaign_id)
    errors: list[str] = []
    current = dict(campaign.reminder_rules or {})
    if request.method == "POST":
        try:
            wanted = _rules_from_post(request.POST)
        except ParseError as error:
            errors.append(error.message)
            wanted = None
        if wanted is not None:
            try:
                reminders.reminder_rules_save(campaign=campaign, by=request.user, rules_in=wanted)
            except ValidationError as error:
                errors.extend(m for ms in error.message_dict.values() for m in ms)
            else:
                messages.success(request, _("Règles de relance enregistrées."))
                return redirect("campaigns:remind-rules", campaign.pk)
        current = {
            "enabled": request.POST.get("enabled") == "on",
            "before": request.POST.get("before", ""),
            "every_after": request.POST.get("every_after", ""),
            "escalate_after": request.POST.get("escalate_after", ""),
            "hr_after": request.POST.get("hr_after", ""),
        }
    elif isinstance(current.get("before"), list):
        current["before"] = ", ".join(str(d) for d in current["before"])
    return render(
        request,
        "campaigns/remind_rules.html",
        {"campaign": campaign, "rules": current, "errors": errors},
        status=400 if errors else 200,
    )

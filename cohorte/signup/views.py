from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from cohorte.accounts.http import MemberRequest
from cohorte.accounts.models import Language
from cohorte.core.parse import ParseError, parse_ids, safe_next
from cohorte.programs.models import Program
from cohorte.programs.selectors import program_for, programs_visible_to

from . import antiabuse, services
from .forms import STATUS_TAB_LABELS, STATUS_TABS, SignupForm, SignupSettingsForm
from .models import Application, ApplicationStatus
from .selectors import (
    application_counts,
    applications_of,
    program_slug,
    signup_fields,
    signup_settings_of,
)

# --- The public site ---------------------------------------------------------------------


def _language(request: HttpRequest) -> str:
    """The site's language: French unless the visitor chose English (?lang=en)."""
    value = request.POST.get("lang") or request.GET.get("lang") or ""
    return value if value in Language.values else Language.FR


def _public_program(request: HttpRequest, program_id: int) -> tuple[Program, bool]:
    """The programme and whether this is a manager's preview of an unpublished site;
    anyone else gets « not found » until the site is published."""
    program = Program.objects.select_related("organisation").filter(pk=program_id).first()
    if program is None:
        raise Http404("No such programme.")
    if program.site_published:
        return program, False
    user = request.user
    if user.is_authenticated and programs_visible_to(user).filter(pk=program.pk).exists():  # type: ignore[arg-type]
        return program, True
    raise Http404("No such programme.")


def _canonical(request: HttpRequest, program: Program, slug: str | None, name: str):
    """A stale or missing slug (the programme was renamed) leads to the current address."""
    current = program_slug(program)
    if slug == current:
        return None
    url = reverse(name, args=[program.pk, current])
    query = request.GET.urlencode()
    return redirect(f"{url}?{query}" if query else url, permanent=False)


def _public_render(
    request, template: str, program: Program, preview: bool, lang: str, status=200, **extra
):
    with translation.override(lang):
        context = {
            "program": program,
            "preview": preview,
            "lang": lang,
            "slug": program_slug(program),
            "slogan": program.slogan_in(lang),
            "about": program.about_in(lang),
            "partners": list(program.partner_logos.all()),
            "images": {
                "header": program.brand_file_url("header_logo") or program.brand_file_url("logo"),
                "footer": program.brand_file_url("footer_logo"),
                "image": program.brand_file_url("image"),
            },
            "signup": signup_settings_of(program),
            **extra,
        }
        return render(request, template, context, status=status)


def public_site(request: HttpRequest, program_id: int, slug: str | None = None) -> HttpResponse:
    program, preview = _public_program(request, program_id)
    moved = _canonical(request, program, slug, "signup:site")
    if moved:
        return moved
    return _public_render(request, "signup/site.html", program, preview, _language(request))


def _signup_form(request, program: Program, lang: str, data=None) -> SignupForm:
    settings_ = signup_settings_of(program)
    with translation.override(lang):
        fields = signup_fields(program, settings_.roles)
        form = SignupForm(
            data,
            roles=settings_.roles,
            fields=fields,
            initial={"language": lang, "started": antiabuse.form_token(program.pk)},
        )
    return form


def join(request: HttpRequest, program_id: int, slug: str) -> HttpResponse:
    """« Rejoindre le programme »: the same answer whether the address is known or not."""
    program, preview = _public_program(request, program_id)
    if request.method != "POST":
        moved = _canonical(request, program, slug, "signup:join")
        if moved:
            return moved
    lang = _language(request)
    settings_ = signup_settings_of(program)
    if not settings_.open:
        return _public_render(request, "signup/join.html", program, preview, lang, closed=True)
    if request.method != "POST":
        form = _signup_form(request, program, lang)
        return _public_render(request, "signup/join.html", program, preview, lang, form=form)
    form = _signup_form(request, program, lang, data=request.POST)
    with translation.override(lang):
        valid = form.is_valid()
        refusal, status = "", 400
        if valid and (
            request.POST.get(antiabuse.HONEYPOT)
            or not antiabuse.form_token_ok(request.POST.get("started", ""), program.pk)
        ):
            refusal = _(
                "Votre demande n'a pas pu être envoyée : le formulaire a été rempli trop vite "
                "ou a expiré. Vérifiez vos réponses puis envoyez-le à nouveau."
            )
        elif valid and antiabuse.throttled(
            ip=antiabuse.client_ip(request), email=form.cleaned_data["email"]
        ):
            refusal = _("Trop de demandes ont été envoyées. Réessayez dans une heure.")
            status = 429
    if not valid or refusal:
        # a new start time: the person who corrects the form is not held back again
        fresh = request.POST.copy()
        fresh["started"] = antiabuse.form_token(program.pk)
        fresh[antiabuse.HONEYPOT] = ""
        form.data = fresh
        return _public_render(
            request, "signup/join.html", program, preview, lang, status, form=form, refusal=refusal
        )
    data = form.cleaned_data
    services.application_submit(
        program=program,
        submission=services.Submission(
            email=data["email"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            language=data["language"],
            role=data["role"],
            answers=data["answers"],
        ),
    )
    url = reverse("signup:sent", args=[program.pk, program_slug(program)])
    return redirect(f"{url}?lang={lang}")


def sent(request: HttpRequest, program_id: int, slug: str) -> HttpResponse:
    program, preview = _public_program(request, program_id)
    return _public_render(request, "signup/sent.html", program, preview, _language(request))


def confirm(request: HttpRequest, program_id: int, slug: str, token: str) -> HttpResponse:
    """The link in the confirmation e-mail shows a button: a mail scanner that opens links
    does not confirm anyone; the person's click (a POST) does."""
    program = Program.objects.select_related("organisation").filter(pk=program_id).first()
    if program is None:
        raise Http404("No such programme.")
    try:
        application = services.application_from_token(token)
        if application.program_id != program.pk:
            raise ParseError(_("Ce lien n'est pas valide."))
    except ParseError as error:
        # without a genuine link, an unpublished programme stays unknown
        program, preview = _public_program(request, program_id)
        return _public_render(
            request,
            "signup/confirm.html",
            program,
            preview,
            _language(request),
            problem=error.message,
        )
    lang = application.language
    if request.method == "POST":
        application = services.application_confirm(application=application)
        return _public_render(
            request, "signup/confirm.html", program, False, lang, application=application, done=True
        )
    return _public_render(
        request, "signup/confirm.html", program, False, lang, application=application
    )


# --- The manager's side ------------------------------------------------------------------


@login_required
@require_POST
def site_publish(request: MemberRequest, program_id: int) -> HttpResponse:
    program = program_for(request.user, program_id)
    published = request.POST.get("published") == "1"
    services.site_publish(program=program, by=request.user, published=published)
    if published:
        messages.success(request, _("Le site du programme est publié."))
    else:
        messages.success(request, _("Le site du programme n'est plus visible du public."))
    return redirect(safe_next(request, reverse("activity:program", args=[program.pk])))


@login_required
def applications(request: MemberRequest, program_id: int) -> HttpResponse:
    """« Candidatures »: by status; select several to accept or refuse them."""
    program = program_for(request.user, program_id)
    request.current_program = program
    status = request.GET.get("statut") or ApplicationStatus.PENDING
    if status not in STATUS_TABS:
        messages.error(request, _("Statut inconnu : %(value)s.") % {"value": status[:40]})
        status = ApplicationStatus.PENDING
    rows = list(applications_of(program, status)[:500])
    counts = application_counts(program)
    return render(
        request,
        "signup/applications.html",
        {
            "program": program,
            "status": status,
            "tabs": [(s, STATUS_TAB_LABELS[s], counts[s]) for s in STATUS_TABS],
            "rows": rows,
            "signup": signup_settings_of(program),
            "slug": program_slug(program),
        },
    )


@login_required
@require_POST
def applications_decide(request: MemberRequest, program_id: int) -> HttpResponse:
    """Accept or refuse the selection, after a confirmation that names everyone."""
    program = program_for(request.user, program_id)
    request.current_program = program
    back = reverse("signup:applications", args=[program.pk])
    action = request.POST.get("action", "")
    try:
        ids = parse_ids(request.POST.getlist("application"), limit=500)
    except ParseError as error:
        messages.error(request, _("Sélection invalide : %(reason)s.") % {"reason": error.message})
        return redirect(back)
    if action not in ("accept", "refuse"):
        messages.error(request, _("Choisissez d'accepter ou de refuser."))
        return redirect(back)
    chosen = list(
        Application.objects.filter(
            program=program, pk__in=ids, status=ApplicationStatus.PENDING
        ).order_by("last_name", "first_name", "pk")
    )
    if not chosen:
        messages.error(request, _("Sélectionnez au moins une candidature en attente."))
        return redirect(back)
    accept = action == "accept"
    if request.POST.get("confirm") != "1":
        return render(
            request,
            "signup/applications_confirm.html",
            {"program": program, "chosen": chosen, "accept": accept, "action": action},
        )
    decision = services.applications_decide(
        program=program, ids=[a.pk for a in chosen], accept=accept, by=request.user
    )
    if decision.accepted:
        count = len(decision.accepted)
        messages.success(
            request,
            ngettext(
                "%(count)d candidature acceptée : la personne a rejoint le programme et en est "
                "informée par courriel.",
                "%(count)d candidatures acceptées : ces personnes ont rejoint le programme et "
                "en sont informées par courriel.",
                count,
            )
            % {"count": count},
        )
    if decision.refused:
        count = len(decision.refused)
        messages.success(
            request,
            ngettext(
                "%(count)d candidature refusée ; la personne en est informée par courriel.",
                "%(count)d candidatures refusées ; ces personnes en sont informées par courriel.",
                count,
            )
            % {"count": count},
        )
    for application in decision.refused_address:
        messages.error(
            request,
            _(
                "%(email)s ne peut pas être inscrit avec cette adresse : la candidature reste en "
                "attente."
            )
            % {"email": application.email},
        )
    return redirect(back)


@login_required
def signup_settings(request: MemberRequest, program_id: int) -> HttpResponse:
    program = program_for(request.user, program_id)
    request.current_program = program
    current = signup_settings_of(program)
    form = SignupSettingsForm(
        request.POST or None,
        initial={
            "open": current.open,
            "roles": current.roles,
            "approval_required": current.approval_required,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.signup_settings_save(program=program, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Réglages des inscriptions enregistrés."))
            return redirect("signup:applications", program_id=program.pk)
    return render(request, "signup/settings.html", {"program": program, "form": form})

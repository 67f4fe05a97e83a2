from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cohorte.core.audit import log_action
from cohorte.core.parse import safe_next

from . import services
from .forms import LanguageForm, MemberPasswordResetForm, ProfileForm, SignInForm
from .http import MemberRequest
from .models import CustomField


class SignInView(auth_views.LoginView):
    form_class = SignInForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    form_class = MemberPasswordResetForm
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password-reset-done")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-complete")


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    """Switch the interface language; a signed-in member keeps it on their account."""
    form = LanguageForm(request.POST)
    response = HttpResponseRedirect(safe_next(request, reverse("programs:home")))
    if form.is_valid():
        language = form.cleaned_data["language"]
        if request.user.is_authenticated and request.user.language != language:
            old = request.user.language
            request.user.language = language
            request.user.save(update_fields=["language"])
            log_action(
                "member.language_changed",
                actor=request.user,
                target=request.user,
                data={"old": old, "new": language},
            )
        translation.activate(language)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600, samesite="Lax"
        )
    return response


def my_space(request: HttpRequest) -> HttpResponse:
    """The space's first address, kept for links already sent: « Mon espace » is its own
    page now (cohorte.space)."""
    return redirect("space:home", permanent=True)


@login_required
def profile_edit(request: MemberRequest) -> HttpResponse:
    """A member edits their own profile and photo; completion follows at once."""
    member = request.user
    form = ProfileForm(
        request.POST or None,
        request.FILES or None,
        instance=member,
        custom_fields=CustomField.objects.filter(organisation_id=member.organisation_id or 0),
        custom_values=services.profile_fields_of(member),
    )
    if request.method == "POST" and form.is_valid():
        data = {
            name: form.cleaned_data[name] for name in form.Meta.fields if name in form.cleaned_data
        }
        member.refresh_from_db()
        services.member_profile_update(
            member=member, by=member, data=data, custom=form.custom_data()
        )
        messages.success(
            request,
            _("Profil enregistré : complété à %(pct)d %%.") % {"pct": member.profile_completion},
        )
        return redirect("space:home")
    return render(request, "accounts/profile_edit.html", {"form": form})

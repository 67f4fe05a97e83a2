import hashlib

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.cache import cache
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Language, Member


def deactivated_message(member: Member) -> str:
    """What a deactivated member reads at sign-in, in their own language."""
    admin_email = member.organisation.admin_email() if member.organisation else ""
    with translation.override(member.language):
        return _(
            "Votre compte a été désactivé. Veuillez envoyer un courriel à %(email)s "
            "pour réactiver votre compte."
        ) % {"email": admin_email or settings.DEFAULT_FROM_EMAIL}


class SignInForm(AuthenticationForm):
    username = forms.EmailField(
        label=gettext_lazy("Courriel"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {
        "invalid_login": gettext_lazy("Courriel ou mot de passe incorrect."),
        "inactive": gettext_lazy("Ce compte est inactif."),
        "throttled": gettext_lazy(
            "Trop de tentatives de connexion. Réessayez dans quelques minutes."
        ),
    }

    def _throttle_key(self, email: str) -> str:
        ip = self.request.META.get("REMOTE_ADDR", "") if self.request else ""
        digest = hashlib.sha256(f"{email}|{ip}".encode()).hexdigest()
        return f"login-failures:{digest}"

    def clean(self):
        email = Member.objects.normalize_email(self.cleaned_data.get("username"))
        password = self.cleaned_data.get("password")
        if not email or not password:
            return self.cleaned_data
        key = self._throttle_key(email)
        if (cache.get(key) or 0) >= settings.COHORTE_LOGIN_ATTEMPTS:
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
        self.user_cache = authenticate(self.request, username=email, password=password)
        if self.user_cache is None:
            member = Member.objects.filter(email=email).select_related("organisation").first()
            if member is not None and not member.is_active and member.check_password(password):
                raise forms.ValidationError(deactivated_message(member), code="inactive")
            cache.add(key, 0, timeout=settings.COHORTE_LOGIN_WINDOW_SECONDS)
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, timeout=settings.COHORTE_LOGIN_WINDOW_SECONDS)
            raise self.get_invalid_login_error()
        cache.delete(key)
        self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class LanguageForm(forms.Form):
    language = forms.ChoiceField(choices=Language.choices)
    next = forms.CharField(required=False)


class MemberPasswordResetForm(PasswordResetForm):
    """The reset e-mail speaks the member's language, not the requester's browser's."""

    def send_mail(self, subject_template_name, email_template_name, context, *args, **kwargs):
        with translation.override(context["user"].language):
            super().send_mail(subject_template_name, email_template_name, context, *args, **kwargs)

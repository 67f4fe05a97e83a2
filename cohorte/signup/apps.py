from django.apps import AppConfig


class SignupConfig(AppConfig):
    name = "cohorte.signup"
    verbose_name = "Inscriptions publiques"

from django.apps import AppConfig


class HelpConfig(AppConfig):
    name = "cohorte.help"
    label = "help"

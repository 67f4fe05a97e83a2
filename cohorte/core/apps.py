from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "cohorte.core"
    label = "core"

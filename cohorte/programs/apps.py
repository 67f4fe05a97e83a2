from django.apps import AppConfig


class ProgramsConfig(AppConfig):
    name = "cohorte.programs"
    label = "programs"

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "cohorte.reports"
    label = "reports"

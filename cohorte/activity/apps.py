from django.apps import AppConfig


class ActivityConfig(AppConfig):
    name = "cohorte.activity"
    label = "activity"

    def ready(self) -> None:
        from . import receivers  # noqa: F401

from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "cohorte.meetings"
    label = "meetings"

    def ready(self) -> None:
        from . import receivers  # noqa: F401

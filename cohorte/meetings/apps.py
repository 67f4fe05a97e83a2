from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "cohorte.meetings"
    label = "meetings"

    def ready(self) -> None:
        from cohorte.core import todo

        from . import receivers  # noqa: F401
        from .evaluations import evaluation_items

        todo.register(evaluation_items)

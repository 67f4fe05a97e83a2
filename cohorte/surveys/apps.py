from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "cohorte.surveys"
    label = "surveys"

    def ready(self) -> None:
        from cohorte.core import todo

        from .selectors import survey_todo_items

        todo.register(survey_todo_items)

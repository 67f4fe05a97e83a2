from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "cohorte.campaigns"
    label = "campaigns"
    verbose_name = "Campagnes d'entretiens"

    def ready(self) -> None:
        from cohorte.core import todo

        from .selectors import interview_todo_items

        todo.register(interview_todo_items)

from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "cohorte.campaigns"
    label = "campaigns"
    verbose_name = "Campagnes d'entretiens"

    def ready(self) -> None:
        from cohorte.core import todo

        from .selectors import interview_todo_items

        todo.register(interview_todo_items)

        from django.contrib.auth.signals import user_logged_in

        from .navigation import on_login

        user_logged_in.connect(on_login, dispatch_uid="campaigns-nav-on-login")

from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "cohorte.messaging"
    label = "messaging"

    def ready(self) -> None:
        from . import checks, receivers  # noqa: F401

from django.apps import AppConfig


class SpaceConfig(AppConfig):
    """« Mon espace »: every member's own page, their « À faire » and its count in the header."""

    name = "cohorte.space"
    label = "space"

    def ready(self) -> None:
        from cohorte.core import todo

        from . import providers, signals

        for provider in providers.PROVIDERS:
            todo.register(provider)
        signals.connect()

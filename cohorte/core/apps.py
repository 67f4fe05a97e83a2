from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "cohorte.core"
    label = "core"

    def ready(self) -> None:
        from django.urls import register_converter

        from .converters import IdConverter

        register_converter(IdConverter, "id")

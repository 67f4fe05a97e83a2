from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "cohorte.core"
    label = "core"

    def ready(self) -> None:
        from django.urls import register_converter

        from .converters import IdConverter

        register_converter(IdConverter, "id")

        from django.db.backends.signals import connection_created

        from .collation import sqlite_register

        connection_created.connect(sqlite_register, dispatch_uid="cohorte-collations")

        from django.db.models.signals import pre_save
        from django.tasks.signals import log_task_started, task_finished, task_started
        from django_tasks_db.models import DBTaskResult

        from . import logs

        # a task enqueued during a request carries its id into the worker's log lines; ours
        # runs before Django's « state=RUNNING » line (receivers run in connection order)
        pre_save.connect(logs.task_row_remember_request, sender=DBTaskResult)
        task_started.disconnect(log_task_started)
        task_started.connect(logs.task_started)
        task_started.connect(log_task_started)
        task_finished.connect(logs.task_finished)

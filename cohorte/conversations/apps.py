from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "cohorte.conversations"
    label = "conversations"

    def ready(self) -> None:
        from cohorte.core import todo

        from .selectors import conversation_todo_items

        todo.register(conversation_todo_items)

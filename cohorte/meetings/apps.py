from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "cohorte.meetings"
    label = "meetings"

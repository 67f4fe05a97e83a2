from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "cohorte.accounts"
    label = "accounts"

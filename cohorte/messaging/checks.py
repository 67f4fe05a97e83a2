"""`manage.py check --deploy` (make check-deploy) fails when production could receive forged
delivery events: the tracking webhook needs its secret."""

from django.core.checks import Tags, Warning, register

from .webhooks import webhook_secrets


@register(Tags.security, deploy=True)
def webhook_secret_set(app_configs, **kwargs):
    if webhook_secrets():
        return []
    return [
        Warning(
            "ANYMAIL_WEBHOOK_SECRET is not set (or is not of the form user:password): the "
            "e-mail tracking webhook refuses every call, so no delivery status arrives.",
            hint="Set ANYMAIL_WEBHOOK_SECRET=user:long-random-password and give the same "
            "credentials to the e-mail provider's webhook URL.",
            id="messaging.W001",
        )
    ]

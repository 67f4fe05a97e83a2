"""The production server refuses to start on settings that would be unsafe, and says which
variable to set and how — before it forks a single worker.

Read from the environment alone (no Django settings yet: they refuse a missing SECRET_KEY
with a bare traceback), with Django's own rules for the secret key (its deploy check W009:
at least 50 characters, at least 5 different ones, not ``django-insecure-…``) and ours for
the webhook secret (``user:password``, as cohorte/messaging/webhooks.py reads it).

Run by ``make serve`` (``python -m cohorte.core.startup``) and by the gunicorn
configuration (cohorte/gunicorn_conf.py) when gunicorn is started by hand.
"""

import os
import sys
from collections.abc import Mapping

from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)

#: the key settings.py uses in development, never acceptable in production
DEVELOPMENT_SECRET_KEY_PREFIX = "dev-only-insecure-key"  # noqa: S105
_MAKE_KEY = "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
_MAKE_PASSWORD = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"  # noqa: S105


def _on(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def production_refusals(environ: Mapping[str, str]) -> list[str]:
    """Each reason not to start, in French then English, naming the variable and the fix."""
    refusals = []
    if _on(environ.get("DEBUG", "0")):
        refusals.append(
            "DEBUG est activé : le serveur de production exige DEBUG=0.\n"
            "  DEBUG is on: the production server needs DEBUG=0."
        )
    key = environ.get("SECRET_KEY", "")
    if not key:
        refusals.append(
            f"SECRET_KEY manque. Créez-en une et gardez-la : SECRET_KEY=$({_MAKE_KEY})\n"
            "  SECRET_KEY is missing. Make one and keep it (same command)."
        )
    elif (
        key.startswith((SECRET_KEY_INSECURE_PREFIX, DEVELOPMENT_SECRET_KEY_PREFIX))
        or len(key) < SECRET_KEY_MIN_LENGTH
        or len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS
    ):
        refusals.append(
            f"SECRET_KEY n'est pas sûre : il faut au moins {SECRET_KEY_MIN_LENGTH} caractères "
            f"dont {SECRET_KEY_MIN_UNIQUE_CHARACTERS} différents, ni la clé de développement "
            f"ni le préfixe « {SECRET_KEY_INSECURE_PREFIX} ». Remplacez-la : "
            f"SECRET_KEY=$({_MAKE_KEY})\n"
            f"  SECRET_KEY is insecure: it needs {SECRET_KEY_MIN_LENGTH} characters or more, "
            f"{SECRET_KEY_MIN_UNIQUE_CHARACTERS} of them different, and must be neither the "
            f"development key nor start with « {SECRET_KEY_INSECURE_PREFIX} ». Replace it "
            "(same command)."
        )
    if not [host for host in environ.get("ALLOWED_HOSTS", "").split(",") if host.strip()]:
        refusals.append(
            "ALLOWED_HOSTS manque : les noms sous lesquels Cohorte est servi, séparés par des "
            "virgules (ALLOWED_HOSTS=cohorte.exemple.org).\n"
            "  ALLOWED_HOSTS is missing: the host names Cohorte is served under, separated "
            "by commas (ALLOWED_HOSTS=cohorte.example.org)."
        )
    user, _, password = environ.get("ANYMAIL_WEBHOOK_SECRET", "").partition(":")
    if not user or not password:
        refusals.append(
            "ANYMAIL_WEBHOOK_SECRET manque ou n'est pas de la forme utilisateur:motdepasse ; "
            "sans lui, aucun statut de livraison des courriels n'arrive. "
            f"ANYMAIL_WEBHOOK_SECRET=anymail:$({_MAKE_PASSWORD}), et les mêmes identifiants "
            "dans l'adresse du webhook chez le fournisseur d'e-mail.\n"
            "  ANYMAIL_WEBHOOK_SECRET is missing or not of the form user:password: without "
            "it no delivery status arrives. Set it (same command) and give the same "
            "credentials to the e-mail provider's webhook URL."
        )
    return refusals


def refuse_unsafe_start(environ: Mapping[str, str] | None = None) -> None:
    """Exit with status 2 and every reason on stderr if production must not start."""
    refusals = production_refusals(os.environ if environ is None else environ)
    if refusals:
        print(
            "Cohorte refuse de démarrer en production / Cohorte will not start in production:",
            *(f"- {refusal}" for refusal in refusals),
            sep="\n",
            file=sys.stderr,
        )
        raise SystemExit(2)


if __name__ == "__main__":
    refuse_unsafe_start()

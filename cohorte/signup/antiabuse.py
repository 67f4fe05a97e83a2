"""Spam and abuse on a public form, with no third-party tracker: a field people never see
(the honeypot), a minimum time to fill the form (a signed timestamp given with the page),
and counts per IP and per address in the shared cache."""

import time

from django.conf import settings
from django.core import signing

from cohorte.core.ratelimit import hashed, over_limit

FORM_SALT = "cohorte.signup.form"
#: the honeypot's name: a word autofill and bots like, that no person sees
HONEYPOT = "website"


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def form_token(program_id: int, *, issued_at: float | None = None) -> str:
    """The signed moment the form was shown, for this programme."""
    return signing.dumps(
        {"p": program_id, "t": int(issued_at if issued_at is not None else time.time())},
        salt=FORM_SALT,
        compress=True,
    )


def form_token_ok(token: str, program_id: int, *, now: float | None = None) -> bool:
    """Whether the form was shown for this programme, at least the minimum time ago and
    not more than a day ago (a token copied once and posted for ever is refused)."""
    now = now if now is not None else time.time()
    try:
        data = signing.loads(token or "", salt=FORM_SALT)
    except signing.BadSignature:
        return False
    if not isinstance(data, dict) or data.get("p") != program_id:
        return False
    issued = data.get("t")
    if not isinstance(issued, int):
        return False
    age = now - issued
    return _setting("COHORTE_SIGNUP_MIN_SECONDS", 3) <= age <= 24 * 3600


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or ""


def throttled(*, ip: str, email: str) -> bool:
    """One more sign-up from this IP and for this address; True beyond either limit."""
    window = _setting("COHORTE_SIGNUP_WINDOW_SECONDS", 3600)
    over_ip = over_limit(f"signup-ip:{hashed(ip)}", _setting("COHORTE_SIGNUP_PER_IP", 10), window)
    over_address = over_limit(
        f"signup-address:{hashed(email.lower())}",
        _setting("COHORTE_SIGNUP_PER_ADDRESS", 3),
        window,
    )
    return over_ip or over_address

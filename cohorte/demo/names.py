"""The demo's people: names drawn once each (no two people share a full name) and e-mail
addresses written in plain ASCII from them, as a real organisation's directory would."""

import random
import re
import unicodedata
from collections.abc import Iterable

FRENCH_FIRST = [
    "Camille", "Léa", "Manon", "Chloé", "Inès", "Jade", "Louise", "Zoé", "Lina", "Emma",
    "Lucas", "Hugo", "Louis", "Nathan", "Gabriel", "Jules", "Arthur", "Raphaël", "Adam",
    "Théo", "Sofiane", "Yasmine", "Mamadou", "Aïcha", "Élodie", "Benoît", "Gaëlle", "Noé",
    "Maëlys", "Anaïs",
]  # fmt: skip
FRENCH_LAST = [
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Ait-Salem", "Diallo", "Nguyen", "Girard", "Bonnet", "Dupont",
]  # fmt: skip
ENGLISH_FIRST = [
    "Emily", "Oliver", "Grace", "Jack", "Sophie", "Harry", "Olivia", "George", "Amelia",
]  # fmt: skip
ENGLISH_LAST = ["Smith", "Johnson", "Brown", "Taylor", "Wilson", "Evans", "Walker", "Wright"]

DOMAIN = "cohorte.example"


def ascii_slug(text: str) -> str:
    """« Benoît Lefèvre » → « benoit-lefevre »: accents dropped (NFKD, then the combining
    marks removed), anything else that is not a letter or a digit becomes a hyphen."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = plain.encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")


def email_for(first: str, last: str, taken: set[str]) -> str:
    """first.last@cohorte.example, numbered only if that address is already someone's."""
    local = f"{ascii_slug(first)}.{ascii_slug(last)}"
    email, n = f"{local}@{DOMAIN}", 2
    while email in taken:
        email, n = f"{local}{n}@{DOMAIN}", n + 1
    taken.add(email)
    return email


def unique_names(
    rng: random.Random, count: int, *, english_every: int, reserved: Iterable[tuple[str, str]]
) -> list[tuple[str, str, bool]]:
    """`count` (first, last, english) triples, every full name different from the others
    and from `reserved` (the staff); every `english_every`-th person has an English name."""
    used = {(first, last) for first, last in reserved}
    people = []
    for n in range(count):
        english = n % english_every == english_every - 1
        firsts, lasts = (ENGLISH_FIRST, ENGLISH_LAST) if english else (FRENCH_FIRST, FRENCH_LAST)
        while True:
            name = (rng.choice(firsts), rng.choice(lasts))
            if name not in used:
                break
        used.add(name)
        people.append((*name, english))
    return people

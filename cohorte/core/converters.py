"""URL converters: an id in a path is ASCII digits that fit a database key, or no match (404)."""

from .parse import MAX_ID


class IdConverter:
    """`<id:program_id>`: 1 to 2⁶³−1. Django's `<int:…>` lets 99999999999999999999 through
    to the database, which then fails instead of answering « not found »."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise ValueError(value)  # the pattern does not match: 404
        return number

    def to_url(self, value: int | str) -> str:
        return str(value)

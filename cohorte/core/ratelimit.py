"""Counting requests in the shared cache (Redis when there is one, per settings), so that
every app server sees the same counts: sign-in failures, password resets, public sign-ups."""

import hashlib

from django.core.cache import cache


def over_limit(key: str, limit: int, window: int) -> bool:
    """Count one more request under `key` for `window` seconds; True beyond `limit`."""
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # the key expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    return count > limit


def hashed(value: str) -> str:
    """A cache key part that keeps no address or IP in clear."""
    return hashlib.sha256(value.encode()).hexdigest()

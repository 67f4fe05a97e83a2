"""Moved to `cohorte.demo` (its own room): this name stays for the imports not yet moved."""

from cohorte.demo import *  # noqa: F403
from cohorte.demo import __all__  # noqa: F401

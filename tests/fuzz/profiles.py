"""Hypothesis profiles for the fuzz tests (docs/testing.md, "Fuzzing").

``ci`` (the default) keeps the example counts small, so that the whole package runs in
well under 30 s on a 2-core machine and can sit in every test run; ``long`` is for
``make fuzz``: thousands of examples per property. The environment variable
``HYPOTHESIS_PROFILE`` picks one. Each test states its count for ``ci`` through
``examples()``, which ``long`` multiplies, so a test that is slow per example (the one
through HTTP) keeps its proportion.

Neither profile keeps Hypothesis' example database: a failure found is turned into an
explicit ``@example`` in its test, which is the record that stays (``.hypothesis/`` is
in .gitignore too, for runs by hand with a database). No deadline: the machine is
shared, and a wall-clock limit would fail at random.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

LONG_FACTOR = 25  # ``long`` runs this many times the ``ci`` examples of each test

settings.register_profile(
    "ci",
    database=None,
    deadline=None,
    print_blob=True,
    # The strategies build big, deliberately hostile inputs (64 KiB strings, rotas of a
    # year): slow to generate and large is the point, not a mistake in the strategy.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("long", parent=settings.get_profile("ci"))
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)


def examples(ci: int) -> int:
    """``ci`` examples in the ``ci`` profile, ``LONG_FACTOR`` times that in ``long``."""
    return ci * LONG_FACTOR if PROFILE == "long" else ci

"""Loads the Hypothesis profile (``ci`` unless ``HYPOTHESIS_PROFILE`` says ``long``)
before any fuzz test module is collected: see profiles.py."""

from tests.fuzz import profiles

__all__ = ["profiles"]

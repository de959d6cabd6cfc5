"""The error every frontend raises for a model it cannot lower."""

from __future__ import annotations


class FrontendError(Exception):
    """A model archir cannot lower: names the source line or node, and lists every
    unsupported op at once (scanned before anything is converted)."""

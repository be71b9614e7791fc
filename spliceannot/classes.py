"""The output classes of a splice model: their names and column indices, the one place.

A probability array's last axis (and a training label) is ``NEITHER``,
``ACCEPTOR``, ``DONOR``.
"""

from __future__ import annotations

CLASSES = ("neither", "acceptor", "donor")
NEITHER, ACCEPTOR, DONOR = (CLASSES.index(name) for name in CLASSES)
SITE_CLASSES = {"acceptor": ACCEPTOR, "donor": DONOR}
"""Site kind -> column."""

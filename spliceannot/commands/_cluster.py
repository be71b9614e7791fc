"""``--engine`` / ``--ray-address``, importable from here as ``spliceannot predict`` does.

Defined once in :mod:`spliceannot.commands.options`.
"""

from spliceannot.commands.options import engine_options

__all__ = ["engine_options"]

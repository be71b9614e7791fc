"""The signals that end a run the way Ctrl-C does: partial output is dropped, not published."""

from __future__ import annotations

import signal

# SIGHUP: a closed terminal or ssh session.  SIGINT is left to Python (KeyboardInterrupt).
TERMINATING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)

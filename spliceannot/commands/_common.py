"""What every command shares: error exit, signals, progress bar."""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Callable, Iterator

import click

from spliceannot.signals import TERMINATING_SIGNALS

EXIT_BAD_INPUT = 2


def fail(command: str, message: str) -> None:
    """Print ``spliceannot COMMAND: error: MESSAGE`` on one line and exit 2.

    A message that runs over several lines (a file name with a newline in
    it, a library's multi-line text) is kept whole, its line ends shown as
    ``\\n``.
    """
    text = message.strip().replace("\r", "\\r").replace("\n", "\\n") or "unknown error"
    click.echo(f"spliceannot {command}: error: {text}", err=True)
    sys.exit(EXIT_BAD_INPUT)


@contextlib.contextmanager
def handle_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP (a closed terminal or ssh session) into SystemExit(128 + signal),
    so ``finally`` blocks drop partial output."""

    def on_term(signum, frame):
        raise SystemExit(128 + signum)

    previous = {signum: signal.signal(signum, on_term) for signum in TERMINATING_SIGNALS}
    try:
        yield
    except KeyboardInterrupt:
        click.echo("spliceannot: interrupted", err=True)
        sys.exit(130)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def log_to_stderr(prog: str) -> Iterator[None]:
    """Show the library's warnings on stderr, as ``PROG: WARNING: ...``, while a command runs."""
    import logging

    logger = logging.getLogger("spliceannot")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{prog}: %(levelname)s: %(message)s"))
    handler.setLevel(logging.WARNING)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


@contextlib.contextmanager
def progress_bar(
    enabled: bool | None, *, unit: str, total: int | None = None
) -> Iterator[Callable[[int], None] | None]:
    """A tqdm bar on stderr (on by default when stderr is a terminal); yields its update function."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    with tqdm(total=total, unit=unit, file=sys.stderr, dynamic_ncols=True) as bar:
        yield bar.update


def resolve_cache(path: str | None, disabled: bool, command: str) -> str | None:
    """The score-cache file to use: ``--cache``, else the default one, or None with ``--no-cache``.

    The default cache is skipped with a warning when its directory cannot be
    created; an explicit ``--cache`` that cannot be used is an error.
    """
    if disabled:
        if path:
            fail(command, "--cache and --no-cache contradict each other")
        return None
    if path:
        return path
    from spliceannot.cache import default_cache_path

    default = default_cache_path()
    try:
        default.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        click.echo(f"spliceannot {command}: warning: no score cache ({default.parent}: {error.strerror})", err=True)
        return None
    return str(default)

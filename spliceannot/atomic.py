"""Files that appear at their path only when complete.

Output to a regular file is written to a temporary file beside it and
renamed into place on success (a rename within one directory is atomic), so
an error or an interrupt never leaves a truncated file at the path a user
asked for.  A symbolic link is followed: the temporary file goes beside the
link's target and replaces the target, so the link stays a link (and a
target on another filesystem works).  What is not a regular file (a named
pipe, ``/dev/null``, ``/dev/stdout``, ``>(...)``) is written in place: it
cannot be renamed over, and a reader is waiting on it.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

STDOUT = "-"
_MAX_LINKS = 40
# paths that name this process's standard output
_STDOUT_NAMES = ("/dev/stdout", "/dev/fd/1", "/proc/self/fd/1")


@dataclass(frozen=True)
class OutputTarget:
    """Where an output path's bytes go.

    Attributes
    ----------
    path
        The file to write: ``-`` for standard output, the path itself for a
        pipe or device, else the regular file at the end of its symbolic links.
    atomic
        True when ``path`` is (or will be) a regular file written through a
        temporary file and a rename.
    """

    path: str
    atomic: bool


def output_target(path: str | os.PathLike) -> OutputTarget:
    """Decide how to write ``path`` (see :class:`OutputTarget`)."""
    path = os.fspath(path)
    if path == STDOUT:
        return OutputTarget(STDOUT, False)
    current = os.path.abspath(path)
    for _ in range(_MAX_LINKS):
        if current in _STDOUT_NAMES or current == f"/proc/{os.getpid()}/fd/1":
            return OutputTarget(STDOUT, False)
        if current.startswith(("/dev/", "/proc/")):
            return OutputTarget(path, False)
        if not os.path.islink(current):
            break
        current = os.path.normpath(os.path.join(os.path.dirname(current), os.readlink(current)))
    else:
        return OutputTarget(path, True)  # a link loop: opening it reports the error
    real = os.path.realpath(current)
    try:
        mode = os.stat(real).st_mode
    except OSError:
        return OutputTarget(real, True)  # a new file (or one we cannot see: the write says why)
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return OutputTarget(real, True)  # a directory: the caller refuses it
    return OutputTarget(path, False)


def temporary_beside(path: str | Path) -> str:
    """Create an empty temporary file beside ``path`` (beside its link target) and return its name."""
    target = Path(os.path.realpath(path))
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    return name


def publish(temporary: str | Path, path: str | Path) -> None:
    """Give ``temporary`` the permissions a new file would get and rename it onto ``path``.

    A symbolic link at ``path`` is kept: its target is replaced.
    """
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)  # mkstemp creates 0600
    os.replace(temporary, os.path.realpath(path))


def discard(temporary: str | Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temporary)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[str]:
    """Yield a name to write; a regular file appears at ``path`` only if the block succeeds.

    For a pipe or device the name is ``path`` itself (written in place).
    """
    target = output_target(path)
    if not target.atomic:
        yield "/dev/stdout" if target.path == STDOUT else target.path
        return
    temporary = temporary_beside(target.path)
    try:
        yield temporary
        publish(temporary, target.path)
    except BaseException:
        discard(temporary)
        raise

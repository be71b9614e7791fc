"""Files that appear at their path only when complete.

Output is written to a temporary file beside the target and renamed into
place on success (a rename within one directory is atomic), so an error or
an interrupt never leaves a truncated file at the path a user asked for.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def temporary_beside(path: str | Path) -> str:
    """Create an empty temporary file in ``path``'s directory and return its name."""
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.resolve().parent)
    os.close(fd)
    return name


def publish(temporary: str | Path, path: str | Path) -> None:
    """Give ``temporary`` the permissions a new file would get and rename it to ``path``."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)  # mkstemp creates 0600
    os.replace(temporary, path)


def discard(temporary: str | Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temporary)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[str]:
    """Yield a temporary name to write; it becomes ``path`` if the block succeeds."""
    temporary = temporary_beside(path)
    try:
        yield temporary
        publish(temporary, path)
    except BaseException:
        discard(temporary)
        raise

"""One timed run of a command: wall time, CPU time and peak resident memory."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunResult:
    """What one run of a command cost.

    Attributes
    ----------
    wall_s : float
        Elapsed seconds from start to exit (process start, imports and model
        loading included).
    user_s, system_s : float
        CPU seconds of the process and its descendants.
    peak_rss_mib : float
        Largest resident set of the process or any descendant (``ru_maxrss``
        from ``wait4``), in MiB.
    returncode : int
        Exit status; negative for a signal, 124 after a timeout.
    """

    wall_s: float
    user_s: float
    system_s: float
    peak_rss_mib: float
    returncode: int


def run_measured(
    argv: list[str],
    stdout: Path,
    stderr: Path,
    env: dict[str, str] | None = None,
    timeout_s: float | None = None,
) -> RunResult:
    """Run ``argv`` to completion, its output going to files, and measure it.

    The child leads a new process group, so that a timeout ends all of it.
    ``wait4`` gives the child's own resource use, so runs never mix with each
    other or with this process.
    """
    timed_out = threading.Event()
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        start = time.perf_counter()
        process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, start_new_session=True
        )
        timer = None
        if timeout_s:

            def kill() -> None:
                timed_out.set()
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

            timer = threading.Timer(timeout_s, kill)
            timer.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        if timer:
            timer.cancel()
    returncode = 124 if timed_out.is_set() else os.waitstatus_to_exitcode(status)
    process.returncode = returncode  # reaped by wait4: keep Popen from waiting again
    return RunResult(
        wall_s=wall,
        user_s=usage.ru_utime,
        system_s=usage.ru_stime,
        peak_rss_mib=usage.ru_maxrss / 1024.0,
        returncode=returncode,
    )

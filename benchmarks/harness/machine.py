"""A description of the machine the benchmark ran on."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

from .paths import REPO


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def cpu_model() -> str:
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def physical_cores() -> int | None:
    """Distinct (physical id, core id) pairs in /proc/cpuinfo, if it lists them."""
    pairs, physical = set(), None
    for line in _read("/proc/cpuinfo").splitlines():
        name, _, value = line.partition(":")
        name = name.strip()
        if name == "physical id":
            physical = value.strip()
        elif name == "core id":
            pairs.add((physical, value.strip()))
    return len(pairs) or None


def memory_gib() -> float | None:
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024**2
    return None


def os_name() -> str:
    for line in _read("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip('"')
    return platform.platform()


def load_average() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def git_revision() -> str:
    """The repository's commit, with ``+ local changes`` when the work tree differs from it."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + (" + local changes" if dirty else "")


def describe() -> dict[str, str]:
    """CPU, cores, memory, OS, kernel and the Python running the harness."""
    cores = os.cpu_count()
    physical = physical_cores()
    memory = memory_gib()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = cores
    return {
        "CPU": cpu_model(),
        "cores": f"{cores} logical"
        + (f", {physical} physical" if physical else "")
        + (f", {usable} usable by this process" if usable != cores else ""),
        "memory": f"{memory:.1f} GiB" if memory else "unknown",
        "OS": f"{os_name()}, Linux {platform.release()}",
        "harness Python": platform.python_version(),
    }

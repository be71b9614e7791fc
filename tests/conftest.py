"""Shared fixtures: a tiny seeded model, small annotation tables, CLI runners."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from toy import FASTA, builtin_rows, table_text, write_tiny_checkpoint

settings.register_profile("spliceannot", derandomize=True, deadline=None, database=None)
# "ci" (the default): a few seconds per property; "long": 10,000 random examples per property,
# chosen with `pytest --hypothesis-profile=long` or SPLICEANNOT_HYPOTHESIS_PROFILE=long.
settings.register_profile("ci", parent=settings.get_profile("spliceannot"), max_examples=60)
settings.register_profile(
    "long", deadline=None, max_examples=10_000, derandomize=False, database=None,
    suppress_health_check=list(HealthCheck),
)
settings.load_profile(os.environ.get("SPLICEANNOT_HYPOTHESIS_PROFILE", "ci"))

# Synthetic transcripts (on top of SpliceAI's chr16 genes) that put scorable
# positions within a window's half-width of either end of the example contig.
EDGE_TRANSCRIPTS = [
    ("NEARSTART", "16", "+", 0, 2000, (0, 1500), (1000, 2000)),
    ("NEAREND", "16", "+", 396754, 397079, (396754,), (397079,)),
]


@pytest.fixture(autouse=True, scope="session")
def _private_score_cache(tmp_path_factory):
    """Commands that cache scores by default write to a cache of this test session only."""
    previous = os.environ.get("SPLICEANNOT_CACHE")
    os.environ["SPLICEANNOT_CACHE"] = str(tmp_path_factory.mktemp("spliceannot-cache"))
    yield
    if previous is None:
        os.environ.pop("SPLICEANNOT_CACHE", None)
    else:
        os.environ["SPLICEANNOT_CACHE"] = previous


@pytest.fixture(autouse=True)
def _restore_signals():
    """``annotate`` to stdout resets SIGPIPE (as bcftools behaves); keep pytest's own."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGPIPE, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A two-member flank-80 checkpoint with seeded weights (.safetensors)."""
    import torch

    torch.set_num_threads(1)  # tiny tensors: more threads only add overhead on small CPUs
    return write_tiny_checkpoint(tmp_path_factory.mktemp("model") / "tiny.safetensors")


@pytest.fixture(scope="session")
def chr16_table(tmp_path_factory) -> Path:
    """SpliceAI's grch38 rows on chr16 (and TP53 on chr17), as a small table file."""
    rows = [
        line
        for line in builtin_rows("grch38", {"16", "17"})
        if line.split("\t")[1] == "16" or line.split("\t")[0] == "TP53"
    ]
    path = tmp_path_factory.mktemp("tables") / "chr16.txt"
    path.write_text(table_text([]) + "\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="session")
def edge_table(tmp_path_factory, chr16_table) -> Path:
    """``chr16_table`` plus transcripts reaching the contig's start and end."""
    path = tmp_path_factory.mktemp("tables") / "edges.txt"
    extra = table_text(EDGE_TRANSCRIPTS).split("\n", 1)[1]
    path.write_text(chr16_table.read_text() + extra)
    return path


@pytest.fixture(scope="session")
def base_args(tiny_model, chr16_table) -> list[str]:
    """``annotate`` with the example FASTA, the chr16 table and the tiny model."""
    return ["annotate", "-R", str(FASTA), "-A", str(chr16_table), "-m", str(tiny_model)]


def spliceannot_executable() -> str:
    beside = Path(sys.executable).with_name("spliceannot")
    if beside.exists():
        return str(beside)
    found = shutil.which("spliceannot")
    if found is None:
        pytest.skip("the spliceannot command is not installed")
    return found


@pytest.fixture(scope="session")
def run_shell(need_bcftools):
    """Run a bash pipeline with ``spliceannot`` and ``bcftools`` on PATH."""
    executable = spliceannot_executable()
    env = dict(os.environ)
    env["PATH"] = f"{Path(executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["OMP_NUM_THREADS"] = "1"

    def run(script: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["bash", "-c", script],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run


@pytest.fixture(scope="session")
def need_bcftools():
    if shutil.which("bcftools") is None:
        pytest.skip("bcftools is not installed (apt-get install bcftools tabix)")

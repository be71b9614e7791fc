"""Locations: the repository, the cache and the benchmark outputs."""

from __future__ import annotations

import os
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent.parent
REPO = BENCH_DIR.parent
PEERS_DIR = BENCH_DIR / "peers"
EXAMPLES = REPO / "examples"

#: Real GRCh38 chr16 sequence (bases 1..186,963 are N) and its RefSeq genes.
EXAMPLE_FASTA_GZ = EXAMPLES / "chr16_region.fa.gz"
EXAMPLE_GTF_GZ = EXAMPLES / "chr16_genes.gtf.gz"


def cache_dir() -> Path:
    """The cache root: ``$SPLICEANNOT_CACHE``, else ``~/.cache/spliceannot``."""
    return Path(os.environ.get("SPLICEANNOT_CACHE") or Path.home() / ".cache" / "spliceannot")


def peers_dir() -> Path:
    """Where the peer virtual environments live (``<cache>/peers``)."""
    return cache_dir() / "peers"


def bench_cache() -> Path:
    """Where workloads and tool outputs go (``<cache>/bench``)."""
    return cache_dir() / "bench"


def shorten(text: str) -> str:
    """Write the cache and repository prefixes of paths in ``text`` as variables."""
    return text.replace(str(cache_dir()), "$CACHE").replace(str(REPO), "$REPO")

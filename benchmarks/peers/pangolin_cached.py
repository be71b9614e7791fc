"""Run Pangolin's CLI with its per-variant scoring memoised on disk.

Usage (from the Pangolin venv; ``run_pangolin.sh`` does this when
``$PANGOLIN_SCORE_CACHE`` names a directory)::

    python pangolin_cached.py CACHE_DIR PANGOLIN_ARGS...

Pangolin's ``compute_score(ref_seq, alt_seq, strand, d, models)`` runs the 12
networks on one window pair and returns two arrays (loss, gain); it depends on
nothing else, and the CLI changes the arrays it gets back in place (masking).
Here each result is kept in CACHE_DIR under a digest of (ref_seq, alt_seq,
strand, d) and a fresh copy is handed back on every call, so a second run over
the same variants with other options (``-m False``, ``-s``) writes what a plain
run writes without running the networks again. Everything else is Pangolin's
own code, unchanged.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import pangolin.pangolin as cli


def cached(compute_score, directory: Path):
    directory.mkdir(parents=True, exist_ok=True)

    def compute(ref_seq, alt_seq, strand, d, models):
        key = hashlib.sha256(f"{strand}\t{d}\t{ref_seq}\t{alt_seq}".encode()).hexdigest()
        path = directory / f"{key}.npz"
        if path.exists():
            with np.load(path) as saved:
                return saved["loss"].copy(), saved["gain"].copy()
        loss, gain = compute_score(ref_seq, alt_seq, strand, d, models)
        np.savez(path, loss=loss, gain=gain)
        return loss.copy(), gain.copy()

    return compute


def main() -> None:
    directory = Path(sys.argv[1])
    cli.compute_score = cached(cli.compute_score, directory)
    sys.argv = ["pangolin", *sys.argv[2:]]
    cli.main()


if __name__ == "__main__":
    main()

"""Reference outputs of Pangolin's own PyTorch module on a real and a random window.

Run with the Pangolin peer's Python (``benchmarks/peers/setup_pangolin.sh``),
which imports ``pangolin.model`` (tkzeng/Pangolin 5cf94b8)::

    $VENV/bin/python benchmarks/pangolin_raw.py MODELS_DIR tests/data/pangolin/raw_windows.npz

Writes the inputs as base codes (uint8, 0 N 1 A 2 C 3 G 4 T) and, for each of
the twelve networks the Pangolin command line loads (tissue-major), all
twelve output channels over the central positions.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import numpy as np
import torch
from pangolin.model import AR, L, Pangolin, W

OUTPUTS = 100
LENGTH = 10_000 + OUTPUTS
REAL_START = 200_000  # 0-based, inside LUC7L/FAM234A on the example chr16 region


def real_codes(fasta: Path) -> np.ndarray:
    with gzip.open(fasta, "rt") as handle:
        sequence = "".join(line.strip() for line in handle if not line.startswith(">"))
    window = sequence[REAL_START : REAL_START + LENGTH].upper()
    table = {"A": 1, "C": 2, "G": 3, "T": 4}
    return np.array([table.get(base, 0) for base in window], dtype=np.uint8)


def one_hot(codes: np.ndarray) -> torch.Tensor:
    rows = np.vstack([np.zeros(4), np.eye(4)]).astype(np.float32)
    return torch.from_numpy(rows[codes].T.copy())


def main(models: str, output: str) -> None:
    repository = Path(__file__).resolve().parent.parent
    codes = np.stack([
        real_codes(repository / "examples" / "chr16_region.fa.gz"),
        np.random.default_rng(16).integers(0, 5, LENGTH).astype(np.uint8),
    ])
    x = torch.stack([one_hot(c) for c in codes])
    names = [f"final.{replicate}.{task}.3.v2" for task in (0, 2, 4, 6) for replicate in (1, 2, 3)]
    outputs = []
    for name in names:
        network = Pangolin(L, W, AR)
        network.load_state_dict(torch.load(Path(models) / name, map_location="cpu"))
        network.eval()
        with torch.no_grad():
            outputs.append(network(x).numpy())
    np.savez_compressed(output, codes=codes, outputs=np.stack(outputs, axis=1), names=np.array(names))


if __name__ == "__main__":
    main(*sys.argv[1:3])

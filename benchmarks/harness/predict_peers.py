"""Pieces of the genome-prediction benchmark (``benchmarks/predict.py``).

- the input: a slice of Drosophila chr2R from augustus-doc, written as FASTA;
- the two commands: ``spliceannot predict`` and OpenSpliceAI 0.0.7's
  ``openspliceai predict``, and how their outputs read;
- the FLOP accounting of the SpliceAI-10k network, useful and executed;
- a torch microbenchmark of the machine's fp32 matmul and convolution rate,
  run in spliceannot's environment.

Standard library only (the microbenchmark runs as a separate program).
"""

from __future__ import annotations

import gzip
import json
import math
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .paths import REPO

FETCH_AUGUSTUS = REPO / "scripts" / "fetch-augustus-doc.sh"

# ----------------------------------------------------------------------------- the input


def augustus_doc() -> Path:
    """augustus-doc's unpacked doc directory (``scripts/fetch-augustus-doc.sh``, cached)."""
    result = subprocess.run(
        ["bash", str(FETCH_AUGUSTUS)], check=True, stdout=subprocess.PIPE, text=True
    )
    return Path(result.stdout.strip().splitlines()[-1])


def chr2r_path(doc: Path) -> Path:
    """``chr2R.fa`` or ``chr2R.fa.gz`` in either of the package's layouts."""
    for folder in ("tutorial", "tutorial/data"):
        for suffix in ("", ".gz"):
            path = doc / folder / f"chr2R.fa{suffix}"
            if path.exists():
                return path
    raise FileNotFoundError(f"chr2R.fa(.gz) not found under {doc}/tutorial")


def read_first_record(path: Path) -> tuple[str, bytes]:
    """Name and sequence of the first FASTA record (plain or gzip)."""
    opener = gzip.open if path.suffix == ".gz" else open
    name, parts = None, []
    with opener(path, "rb") as handle:
        for line in handle:
            if line.startswith(b">"):
                if name is not None:
                    break
                name = line[1:].split()[0].decode()
                continue
            parts.append(line.strip())
    if name is None:
        raise ValueError(f"{path}: no FASTA record")
    return name, b"".join(parts)


_NOT_N = re.compile(rb"[^Nn]")
_NOT_ACGT = re.compile(rb"[^ACGTacgt]")


@dataclass(frozen=True)
class Slice:
    """The benchmark input: ``sequence[offset : offset + length]`` of a source contig."""

    source: str
    contig: str
    contig_length: int
    offset: int  # 0-based
    length: int
    non_acgt: int
    fasta: str
    sha256: str


def write_slice(
    source: Path, offset: int | None, length: int, out_dir: Path, name: str = "chr2R"
) -> Slice:
    """Cut the slice, write it as a 60-column FASTA (record ``name``) and its ``.fai``.

    ``offset`` None: the first base that is not N.  ``length`` 0: to the end.
    Writing the ``.fai`` ourselves keeps every run of every tool reading the
    same files (pyfaidx would otherwise add one on OpenSpliceAI's first run).
    """
    import hashlib

    contig, sequence = read_first_record(source)
    if offset is None:
        match = _NOT_N.search(sequence)
        offset = match.start() if match else 0
    if not 0 <= offset < len(sequence):
        raise ValueError(f"--offset {offset} is outside {contig} (0..{len(sequence) - 1})")
    end = len(sequence) if length == 0 else min(len(sequence), offset + length)
    piece = sequence[offset:end]
    out_dir.mkdir(parents=True, exist_ok=True)
    fasta = out_dir / f"{contig}_{offset + 1}-{end}.fa"
    width = 60
    header = f">{name}\n".encode()
    body = b"".join(piece[i : i + width] + b"\n" for i in range(0, len(piece), width))
    if not fasta.exists() or fasta.read_bytes() != header + body:
        fasta.write_bytes(header + body)
    Path(f"{fasta}.fai").write_text(f"{name}\t{len(piece)}\t{len(header)}\t{width}\t{width + 1}\n")
    return Slice(
        source=str(source),
        contig=contig,
        contig_length=len(sequence),
        offset=offset,
        length=len(piece),
        non_acgt=len(_NOT_ACGT.findall(piece)),
        fasta=str(fasta),
        sha256=hashlib.sha256(piece).hexdigest(),
    )


# ----------------------------------------------------------------------------- FLOPs

CHANNELS = 32
INPUT_CHANNELS = 4
CLASSES = 3
#: (kernel width, dilation) of SpliceAI-10k's four groups of four residual units
GROUPS = ((11, 1), (11, 4), (21, 10), (41, 25))
UNITS = tuple(group for group in GROUPS for _ in range(4))
FLANK = 2 * sum(d * (w - 1) for w, d in UNITS)  # 10,000
MEMBERS = 5
OPENSPLICEAI_SL = 5000  # outputs per window (openspliceai.constants.SL)
OPENSPLICEAI_BATCH = 12  # windows per forward pass (predict.py: 6 * N_GPUS, N_GPUS = 2)


def flop_accounting() -> dict:
    """Multiply-adds per output position of one SpliceAI-10k network, by layer kind.

    A convolution with ``c_in`` inputs, ``c_out`` outputs and kernel width
    ``w`` costs ``c_in * c_out * w`` multiply-adds (2 FLOP each) per output
    position, whatever its dilation.
    """
    dilated = [CHANNELS * CHANNELS * w for w, _ in UNITS for _ in range(2)]
    pointwise = {
        "stem 4->32": INPUT_CHANNELS * CHANNELS,
        "skips 32->32 (1 + 4)": (1 + len(GROUPS)) * CHANNELS * CHANNELS,
        "head 32->3": CHANNELS * CLASSES,
    }
    macs_dilated = sum(dilated)
    macs_pointwise = sum(pointwise.values())
    per_model = 2 * (macs_dilated + macs_pointwise)
    return {
        "dilated_convs": len(dilated),
        "kernel_taps": sum(w for w, _ in UNITS) * 2,
        "flop_dilated": 2 * macs_dilated,
        "flop_pointwise": {k: 2 * v for k, v in pointwise.items()},
        "flop_per_model": per_model,
        "members": MEMBERS,
        "flop_per_position": MEMBERS * per_model,
    }


def _valid_macs(outputs: int) -> int:
    """Multiply-adds of one network over a valid-convolution chunk of ``outputs`` positions."""
    length = outputs + FLANK
    macs = length * INPUT_CHANNELS * CHANNELS + length * CHANNELS * CHANNELS  # stem, stem skip
    for index, (w, d) in enumerate(UNITS):
        length -= d * (w - 1)
        macs += length * CHANNELS * CHANNELS * w
        length -= d * (w - 1)
        macs += length * CHANNELS * CHANNELS * w
        if index % 4 == 3:
            macs += length * CHANNELS * CHANNELS  # the group's skip
    assert length == outputs
    return macs + outputs * CHANNELS * CLASSES


def spliceannot_executed_flop(
    positions_per_strand: list[int], chunk_size: int = 50_000, batch_size: int = 4
) -> int:
    """FLOP ``spliceannot predict`` executes (five members) for whole intervals of these lengths.

    Chunks of ``chunk_size`` rounded up to 64 (at least 1,024) each read
    ``chunk + flank`` bases; a batch is padded to its longest chunk.
    """
    chunk = -(-chunk_size // 64) * 64
    total = 0
    for length in positions_per_strand:
        sizes = []
        for first in range(0, length, chunk):
            size = min(chunk, length - first)
            sizes.append(max(1024, -(-size // 64) * 64))
        for start in range(0, len(sizes), batch_size):
            batch = sizes[start : start + batch_size]
            total += len(batch) * _valid_macs(max(batch))
    return 2 * MEMBERS * total


def openspliceai_executed_flop(length: int) -> int:
    """FLOP ``openspliceai predict`` executes for one sequence of ``length`` bases (one strand).

    Windows of 5,000 outputs read 15,000 bases; its convolutions are padded
    ('same'), so every layer but the head computes all 15,000 positions.
    """
    windows = math.ceil(length / OPENSPLICEAI_SL)
    width = OPENSPLICEAI_SL + FLANK
    per_window = width * INPUT_CHANNELS * CHANNELS + width * CHANNELS * CHANNELS
    per_window += sum(width * CHANNELS * CHANNELS * w * 2 for w, _ in UNITS)
    per_window += len(GROUPS) * width * CHANNELS * CHANNELS
    per_window += OPENSPLICEAI_SL * CHANNELS * CLASSES
    return 2 * MEMBERS * windows * per_window


# ----------------------------------------------------------------------------- the machine's rate

MICROBENCH = r'''
import json, os, sys, time
import torch
import torch.nn.functional as F

threads = [int(t) for t in sys.argv[1].split(",")]
seconds = float(sys.argv[2])
torch.manual_seed(0)
results = []

def timed(fn, flop):
    fn()
    fn()
    times, begin = [], time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - begin < seconds and len(times) < 200):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return flop / min(times) / 1e9, len(times)

def conv_case(width, dilation, batch=4, outputs=16384):
    x = torch.randn(batch, 32, outputs + dilation * (width - 1))
    w = torch.randn(32, 32, width) * 0.05
    b = torch.zeros(32)
    flop = 2 * batch * outputs * 32 * 32 * width
    return x, w, b, flop

with torch.inference_mode():
    a = torch.randn(2048, 2048)
    m = torch.randn(2048, 2048)
    c = torch.empty(2048, 2048)
    for n in threads:
        torch.set_num_threads(n)
        rate, reps = timed(lambda: torch.mm(a, m, out=c), 2 * 2048 ** 3)
        results.append({"kernel": "matmul 2048x2048x2048", "threads": n,
                        "gflops": rate, "reps": reps})
        for width, dilation in ((11, 1), (41, 25)):
            x, w, b, flop = conv_case(width, dilation)
            shape = f"conv1d 32->32 k{width} d{dilation}, batch 4 x 16384 outputs"
            rate, reps = timed(lambda: F.conv1d(x, w, b, dilation=dilation), flop)
            results.append({"kernel": shape + " (F.conv1d)", "threads": n,
                            "gflops": rate, "reps": reps})
            if torch.backends.mkldnn.is_available():
                rate, reps = timed(
                    lambda: torch.mkldnn_convolution(x, w, b, [0], [1], [dilation], 1), flop)
                results.append({"kernel": shape + " (oneDNN, as predict)", "threads": n,
                                "gflops": rate, "reps": reps})

check = {}
try:
    from spliceannot.engine.architecture import Architecture
    from spliceannot.engine.model import SpliceAI
    model = SpliceAI(Architecture(10000))
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv1d)]
    check = {
        "convs": len(convs),
        "dilated_convs": sum(1 for m in convs if m.kernel_size[0] > 1),
        "flop_per_model": 2 * sum(m.weight.numel() for m in convs),
    }
except Exception as error:  # an older spliceannot: the stdlib accounting stands alone
    check = {"error": repr(error)}

print(json.dumps({"torch": torch.__version__, "mkldnn": torch.backends.mkldnn.is_available(),
                  "default_threads": torch.get_num_threads(), "results": results,
                  "model_check": check}))
'''


def microbenchmark(python: str, threads: list[int], seconds: float = 1.0) -> dict:
    """Best fp32 GFLOP/s of a 2048^3 matmul and of SpliceAI-shaped dilated convolutions.

    Runs in ``python`` (spliceannot's environment) for each thread count,
    each kernel for about ``seconds`` (the fastest repetition counts).  Also
    counts the FLOP per position of spliceannot's own SpliceAI-10k module, to
    check :func:`flop_accounting`.
    """
    env = {**os.environ}
    for key in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.pop(key, None)
    argv = [python, "-c", MICROBENCH, ",".join(map(str, threads)), str(seconds)]
    result = subprocess.run(argv, check=True, capture_output=True, text=True, env=env)
    return json.loads(result.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- the tools' outputs

_OUR_SUMMARY = re.compile(
    r"spliceannot predict: .*?(\d+) positions predicted \(([^)]*)\).*; ([\d.]+) s \("
)


def parse_our_summary(stderr: str) -> dict:
    """Positions (total and per strand) and the predict-and-write seconds from our last line."""
    match = None
    for match in _OUR_SUMMARY.finditer(stderr):
        pass
    if match is None:
        return {}
    strands = {}
    for part in match.group(2).split(","):
        key, _, value = part.strip().partition(":")
        if value.strip().isdigit():
            strands[key.strip()] = int(value)
    return {"positions": int(match.group(1)), "strands": strands,
            "compute_s": float(match.group(3))}  # fmt: skip


_STEP = re.compile(r"^--- (Step [^:]+):")
_SECONDS = re.compile(r"^--- ([\d.]+) seconds ---")


def parse_openspliceai_steps(stdout: str) -> dict[str, float]:
    """Seconds of each of ``openspliceai predict``'s steps, from its ``--- ... ---`` lines."""
    steps, current = {}, None
    for line in stdout.splitlines():
        line = line.strip()
        step = _STEP.match(line)
        if step:
            current = step.group(1)
            continue
        seconds = _SECONDS.match(line)
        if seconds and current:
            steps[current] = float(seconds.group(1))
            current = None
    return steps


def read_our_bed(path: Path) -> dict[tuple[str, str], dict[int, float]]:
    """(class, strand) -> position -> probability from ``spliceannot predict --bed``."""
    calls: dict[tuple[str, str], dict[int, float]] = {}
    with open(path) as handle:
        for line in handle:
            fields = line.rstrip("\n").split("\t")
            if len(fields) >= 7:
                calls.setdefault((fields[3], fields[5]), {})[int(fields[1])] = float(fields[6])
    return calls


#: ``openspliceai predict`` writes a site as a 1-bp window around the model's position
#: (predict.py: ACCEPTOR_WINDOW = (-1, 0), DONOR_WINDOW = (0, 1)); adding this back
#: gives the position the model scored, which is the base create-data labels
#: (acceptor = first exon base, donor = last exon base), as in SpliceAI.
OPENSPLICEAI_WINDOW_SHIFT = {"acceptor": 1, "donor": 0}


def openspliceai_output_dir(out_dir: Path) -> Path:
    """Where ``openspliceai predict -o out_dir -f 10000`` puts its files."""
    return out_dir / f"SpliceAI_{OPENSPLICEAI_SL}_{FLANK}"


def read_openspliceai_beds(out_dir: Path) -> dict[str, dict[int, float]]:
    """class -> model position (0-based, in the input sequence) -> probability.

    Its BED columns: name, start, end, name_Label, score, strand (and
    ``absolute_coordinates`` when the record name carries no coordinates);
    without ``-a`` and for an unsplit record, start is relative to the
    record.  Should a position appear twice, the larger value is kept.
    """
    calls: dict[str, dict[int, float]] = {}
    folder = openspliceai_output_dir(out_dir)
    for name in ("acceptor", "donor"):
        found = calls.setdefault(name, {})
        with open(folder / f"{name}_predictions.bed") as handle:
            for line in handle:
                fields = line.split("\t")
                if len(fields) < 5:
                    continue
                position = int(fields[1]) + OPENSPLICEAI_WINDOW_SHIFT[name]
                value = float(fields[4])
                if value > found.get(position, -1.0):
                    found[position] = value
    return calls


def agreement(
    ours: dict[tuple[str, str], dict[int, float]],
    theirs: dict[str, dict[int, float]],
    cut: float = 0.5,
) -> dict[str, dict]:
    """Per class: our ``+`` calls >= cut, theirs >= cut, and how many coincide exactly (0 bp)."""
    result = {}
    for name in ("acceptor", "donor"):
        mine = {p for p, v in ours.get((name, "+"), {}).items() if v >= cut}
        other = {p for p, v in theirs.get(name, {}).items() if v >= cut}
        both = len(mine & other)
        listed = theirs.get(name, {})
        scored = sum(1 for p in mine if p in listed)  # any value in their BED (>= its -t)
        result[name] = {
            "ours": len(mine),
            "theirs": len(other),
            "both": both,
            "ours_also_theirs": both / len(mine) if mine else math.nan,
            "theirs_also_ours": both / len(other) if other else math.nan,
            "ours_in_their_bed": scored / len(mine) if mine else math.nan,
        }
    return result


def data_digest(paths: list[Path]) -> str:
    """sha256 over the files' bytes, in order (OpenSpliceAI's BEDs, our BED)."""
    import hashlib

    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()

"""``spliceannot predict`` with a Pangolin model: one P(splice) track per tissue, named by tissue.

A tissue's track is the mean of its networks' selected channel.  The fast
tests use twelve seeded flank-80 networks with Pangolin's head saved as one
checkpoint (no weights needed); the fidelity test reads Pangolin's twelve
files (``$SPLICEANNOT_PANGOLIN_MODELS`` or ../shared; skipped when absent)
and compares with the ensemble run directly on the same windows.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from spliceannot.trainers.predict_layout import (
    SPLICEAI_LAYOUT,
    guessed_names,
    layout_of,
    pangolin_layout,
)

from spliceannot.cli import main
from spliceannot.encoding import one_hot
from spliceannot.engine.pangolin_files import SELECT, TASKS, TISSUES
from spliceannot.errors import ModelError
from spliceannot.writers.tracks import STRAND_WORDS

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
MODELS = Path(os.environ.get("SPLICEANNOT_PANGOLIN_MODELS") or Path(__file__).resolve().parents[2] / "shared"
              / "data" / "pangolin-models")  # fmt: skip
needs_weights = pytest.mark.skipif(not (MODELS / "final.1.0.3.v2").is_file(), reason="Pangolin weights not found")
PANGOLIN_SELECT = tuple(SELECT[task] for task in TASKS for _ in range(3))  # tissue-major, 3 replicates
COMPLEMENT = str.maketrans("ACGTN", "TGCAN")


def tissue_means(columns: np.ndarray) -> np.ndarray:
    """``(n, 12)`` network columns -> ``(n, 4)``: per tissue the mean of its three networks (float32)."""
    return np.stack([np.mean([columns[:, 3 * t + r] for r in range(3)], axis=0) for t in range(4)], axis=1)


def direct(ensemble, sequence: str, strand: str, pad: bool = True) -> np.ndarray:
    """The ensemble's ``(positions, 12)`` output on the (N-padded) sequence, in genomic order."""
    half = ensemble.flank // 2 if pad else 0
    padded = "N" * half + sequence + "N" * half
    if strand == "-":
        padded = padded.translate(COMPLEMENT)[::-1]
    with torch.inference_mode():
        out = ensemble(torch.from_numpy(one_hot(padded, "zeros")).T[None])[0].numpy()
    return out if strand == "+" else out[::-1]


def run(*args):
    return CliRunner().invoke(main, ["predict", *[str(a) for a in args]])


def read_hdf5(path: Path) -> tuple[dict, dict[str, dict[str, np.ndarray]]]:
    import h5py

    with h5py.File(path) as handle:
        attrs = dict(handle.attrs)
        data = {name: {key: group[key][()] for key in group} for name, group in handle.items()}
    return attrs, data


# --------------------------------------------------------------------------- layout


def test_pangolin_layout_groups_replicates_by_tissue():
    layout = pangolin_layout(PANGOLIN_SELECT)
    assert layout.names == TISSUES == ("heart", "liver", "brain", "testis")
    assert layout.groups == ((0, 1, 2), (3, 4, 5), (6, 7, 8), (9, 10, 11)) and layout.width == 4
    probs = np.random.default_rng(1).random((2, 50, 12), dtype=np.float32)
    combined = layout.combine(probs)
    assert combined.dtype == np.float32 and combined.shape == (2, 50, 4)
    np.testing.assert_array_equal(combined[1], tissue_means(probs[1]))  # numpy's float32 mean, bit for bit
    # a partial set keeps its tissues, in TISSUES order
    partial = pangolin_layout((SELECT[4], SELECT[0]))
    assert partial.tracks == {"heart": 0, "brain": 1} and partial.groups == ((1,), (0,))
    with pytest.raises(ModelError, match="no tissue's P\\(splice\\)"):
        pangolin_layout((2,))
    with pytest.raises(ModelError, match="averages them"):
        pangolin_layout(None)
    # SpliceAI's values pass through untouched (the same array)
    assert SPLICEAI_LAYOUT.combine(probs) is probs and SPLICEAI_LAYOUT.names == ("acceptor", "donor")


# --------------------------------------------------------------------------- a tiny Pangolin-shaped model


@pytest.fixture(scope="module")
def tiny_pangolin(tmp_path_factory):
    """Twelve seeded flank-80 networks with Pangolin's head, read one channel each, as one checkpoint."""
    from spliceannot.engine.architecture import Architecture
    from spliceannot.engine.model import SpliceAI
    from spliceannot.engine.weights import load_model, save_checkpoint

    torch.set_num_threads(1)
    torch.manual_seed(5)
    architecture = Architecture(flank=80, batchnorm_eps=1e-5, outputs=12, head="pangolin")
    members = []
    for _ in range(12):
        net = SpliceAI(architecture)
        with torch.no_grad():
            net.head.weight.mul_(20)
        members.append(net.eval())
    path = tmp_path_factory.mktemp("pangolin") / "tiny_pangolin.safetensors"
    save_checkpoint(path, members, select=PANGOLIN_SELECT)
    return path, load_model(str(path))


@pytest.fixture(scope="module")
def small_genome(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    rng = np.random.default_rng(11)
    contigs = {name: "".join(rng.choice(list("ACGT"), size)) for name, size in (("c1", 1500), ("c2", 700))}
    path = tmp_path_factory.mktemp("genome") / "g.fa"
    path.write_text("".join(f">{name}\n{sequence}\n" for name, sequence in contigs.items()))
    return path, contigs


def test_tracks_are_tissue_means_in_every_format(tiny_pangolin, small_genome, tmp_path):
    import pyBigWig

    path, model = tiny_pangolin
    fasta, contigs = small_genome
    assert layout_of(model).names == TISSUES and guessed_names(str(path)) == TISSUES
    out = tmp_path / "t"
    result = run("-R", fasta, "-m", path, "--bedgraph", out, "--bigwig", out, "--bed", tmp_path / "s.bed",
                 "--bed-threshold", 0.2, "--hdf5", tmp_path / "a.h5", "--hdf5-dtype", "float32",
                 "--threshold", 0, "--threads", 1, "--no-progress")  # fmt: skip
    assert result.exit_code == 0, result.output
    names = {p.name for p in tmp_path.iterdir()}
    expected = {f"t.{tissue}.{word}.{suffix}" for tissue in TISSUES for word in ("plus", "minus")
                for suffix in ("bedGraph", "bw")}  # fmt: skip
    assert names == expected | {"s.bed", "a.h5"}
    assert not any("acceptor" in name or "donor" in name for name in names)
    attrs, data = read_hdf5(tmp_path / "a.h5")
    assert list(attrs["columns"]) == list(TISSUES)
    called = 0
    for contig, sequence in contigs.items():
        for strand, word in STRAND_WORDS.items():
            want = tissue_means(direct(model.ensemble, sequence, strand))
            got = data[contig][word]
            assert got.shape == (len(sequence), 4) and got.dtype == np.float32
            np.testing.assert_allclose(got, want, atol=1e-6, rtol=0)
            for column, tissue in enumerate(TISSUES):
                with pyBigWig.open(str(tmp_path / f"t.{tissue}.{word}.bw")) as handle:
                    values = np.array(handle.values(contig, 0, len(sequence)), dtype=np.float32)
                np.testing.assert_array_equal(values, got[:, column])
                rows = [line.split("\t") for line in (tmp_path / f"t.{tissue}.{word}.bedGraph").read_text().splitlines()]
                covered = sum(int(r[2]) - int(r[1]) for r in rows if r[0] == contig)
                assert covered == len(sequence)  # --threshold 0: every position
            called += int((got >= np.float32(0.2)).sum())
    bed = [line.split("\t") for line in (tmp_path / "s.bed").read_text().splitlines()]
    assert len(bed) == called > 0
    assert {row[3] for row in bed} <= set(TISSUES) and {row[5] for row in bed} <= {"+", "-"}
    row = bed[0]
    value = data[row[0]][STRAND_WORDS[row[5]]][int(row[1]), TISSUES.index(row[3])]
    assert float(row[6]) == pytest.approx(float(value), rel=1e-3) and int(row[4]) == min(1000, int(1000 * value))


def test_duplicate_paths_are_checked_with_the_tissue_names(tiny_pangolin, small_genome, tmp_path):
    path, _ = tiny_pangolin
    fasta, _ = small_genome
    clash = tmp_path / "t.heart.plus.bedGraph"
    result = run("-R", fasta, "-m", path, "--bedgraph", tmp_path / "t", "--bed", clash, "--no-progress")
    assert result.exit_code == 2 and "named by two outputs" in result.output
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- Pangolin's own weights


@needs_weights
def test_real_weights_tissue_tracks_equal_the_ensemble(tmp_path):
    from spliceannot.engine.weights import load_model
    from spliceannot.readers.fasta_stream import stream_fasta

    fasta = EXAMPLES / "chr16_region.fa.gz"
    start, end = 274_200, 274_300  # 0-based half-open
    result = run("-R", fasta, "-m", MODELS, "--regions", f"chr16:{start + 1}-{end}", "--hdf5", tmp_path / "a.h5",
                 "--hdf5-dtype", "float32", "--bedgraph", tmp_path / "t", "--threshold", 0.3,
                 "--threads", 1, "--no-progress")  # fmt: skip
    assert result.exit_code == 0, result.output
    attrs, data = read_hdf5(tmp_path / "a.h5")
    assert list(attrs["columns"]) == list(TISSUES) and attrs["model"] == str(MODELS)
    model = load_model(str(MODELS))
    (sequence,) = [bytes(s).decode() for name, s in stream_fasta(fasta) if name == "chr16"]
    half = model.flank // 2
    window = sequence[start - half : end + half]
    for strand, word in STRAND_WORDS.items():
        got = data["chr16"][word]
        assert got.shape == (len(sequence), 4)
        assert np.isnan(got[:start]).all() and np.isnan(got[end:]).all()
        columns = direct(model.ensemble, window, strand, pad=False)
        np.testing.assert_allclose(got[start:end], tissue_means(columns), atol=1e-6, rtol=0)
    # the two ends of the minus-strand exon chr16:274214-274265 (examples/chr16_genes.gtf.gz) are the
    # slice's two highest values in every tissue
    ends = {274_214 - 1, 274_265 - 1}
    minus = data["chr16"]["minus"]
    for column in range(4):
        assert set(np.argsort(minus[start:end, column])[-2:] + start) == ends
    site = 274_265 - 1
    assert (minus[site] > 0.3).all()
    for tissue in TISSUES:
        lines = (tmp_path / f"t.{tissue}.minus.bedGraph").read_text().splitlines()
        assert f"chr16\t{site}\t{site + 1}\t" in "\n".join(lines)

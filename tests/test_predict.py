"""``predict``: chunked genome-wide inference, its coordinates and its output files.

Models are tiny seeded networks (flank 80 and 400) saved as checkpoints, or
a motif "oracle" that calls exactly the planted sites of the synthetic
genome, so the coordinate convention is checked against create-data's
labels without a trained model.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from spliceannot.cli import main
from spliceannot.encoding import one_hot
from spliceannot.engine.weights import LoadedModel, save_checkpoint
from spliceannot.readers import fasta_stream
from spliceannot.trainers import intervals
from spliceannot.trainers import predict as lib
from spliceannot.trainers import predict_plan as plan
from spliceannot.trainers.gene_windows import iter_gene_windows
from spliceannot.trainers.genes import load_genes
from spliceannot.trainers.predict_genome import predict_genome
from spliceannot.writers import tracks
from synthetic import write_synthetic_genome
from toy import FASTA as CHR16_FASTA
from toy import builtin_rows, table_text, tiny_ensemble

COMPLEMENT = str.maketrans("ACGTN", "TGCAN")
CLASSES = ("acceptor", "donor")


# --------------------------------------------------------------------------- helpers


def tiny_model(flank: int, seed: int):
    """Two random members with visible scores, on one CPU thread (exact seams are per thread count)."""
    torch.set_num_threads(1)
    return tiny_ensemble(flank, seed=seed)


def revcomp(sequence: str) -> str:
    return sequence.translate(COMPLEMENT)[::-1]


def random_dna(length: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    return np.frombuffer(b"ACGT", dtype=np.uint8)[rng.integers(0, 4, length)].tobytes().decode()


def write_fasta(path: Path, contigs: dict[str, str]) -> Path:
    lines = []
    for name, sequence in contigs.items():
        lines.append(f">{name}\n")
        lines += [sequence[i : i + 60] + "\n" for i in range(0, len(sequence), 60)]
    path.write_text("".join(lines))
    return path


def read_fasta(path: Path) -> dict[str, str]:
    contigs: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        if line.startswith(">"):
            name = line[1:].split()[0]
            contigs[name] = []
        else:
            contigs[name].append(line.strip().upper())
    return {name: "".join(parts) for name, parts in contigs.items()}


def run(*args) -> object:
    return CliRunner().invoke(main, ["predict", *[str(a) for a in args]])


def check_ok(result) -> None:
    assert result.exit_code == 0, (result.output, result.exception)


def bed_rows(path: Path) -> list[list[str]]:
    return [line.split("\t") for line in path.read_text().splitlines()]


def created_labels(fasta: Path, annotation: Path) -> set[tuple[str, int, str, str]]:
    """(contig, genomic base, class, strand) of every site create-data labels."""
    sites = set()
    for windows in iter_gene_windows(fasta, annotation, biotype="all"):
        step = 1 if windows.strand == "+" else -1
        for row, start in enumerate(windows.starts):
            for offset in np.flatnonzero(windows.y[row] > 0):
                label = CLASSES[int(windows.y[row, offset]) - 1]
                sites.add((windows.chrom, start + step * int(offset), label, windows.strand))
    return sites


class MotifOracle:
    """Calls the synthetic genome's planted sites from their motifs (flank 80).

    Donor (last exon base): ``CAG|GTAAGT``.  Acceptor (first exon base):
    branch point ``TACTAAC``, 4 nt, a 15-nt C/T tract, ``CAG|G``.  Both are
    read in model orientation, so the minus strand's sites are found only
    if the reverse complement and the mapping back to genomic order are right.
    """

    flank = 80
    CODE = {letter: code for code, letter in enumerate("NACGT")}

    def __init__(self) -> None:
        self.calls = 0

    def _match(self, codes: np.ndarray, centres: np.ndarray, motif: str, offset: int) -> np.ndarray:
        hit = np.ones((len(codes), len(centres)), dtype=bool)
        for k, letter in enumerate(motif):
            hit &= codes[:, centres + offset + k] == self.CODE[letter]
        return hit

    def __call__(self, codes: np.ndarray) -> np.ndarray:
        self.calls += 1
        batch, length = codes.shape
        centres = np.arange(self.flank // 2, length - self.flank // 2)
        donor = self._match(codes, centres, "CAGGTAAGT", -2)
        acceptor = self._match(codes, centres, "CAGG", -3)
        acceptor &= self._match(codes, centres, "TACTAAC", -29)
        for k in range(-18, -3):
            acceptor &= np.isin(codes[:, centres + k], (2, 4))
        probs = np.zeros((batch, len(centres), 3), dtype=np.float32)
        probs[..., 1] = acceptor
        probs[..., 2] = donor
        probs[..., 0] = 1 - probs[..., 1] - probs[..., 2]
        return probs


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[int, tuple[LoadedModel, Path]]:
    directory = tmp_path_factory.mktemp("models")
    found = {}
    for flank in (80, 400):
        model = tiny_model(flank, seed=flank)
        path = directory / f"tiny{flank}.safetensors"
        save_checkpoint(path, list(model.ensemble.members))
        found[flank] = (model, path)
    return found


@pytest.fixture(scope="module")
def genome(tmp_path_factory) -> tuple[Path, Path]:
    """Synthetic genome: planted genes on both strands of three short contigs."""
    return write_synthetic_genome(
        tmp_path_factory.mktemp("genome"),
        chromosomes=("chr1", "chr2", "chr3"),
        genes_per_chromosome=3,
        seed=3,
    )


@pytest.fixture(scope="module")
def n_genome(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """Two contigs with N: a 1,500-N run (skipped), a 200-N run (predicted), N at an end."""
    first = random_dna(2_000, 1) + "N" * 1_500 + random_dna(1_000, 2)
    first += "N" * 200 + random_dna(1_301, 3)
    second = "N" * 30 + random_dna(1_777, 4)
    contigs = {"c1": first, "c2": second}
    return write_fasta(tmp_path_factory.mktemp("n") / "n.fa", contigs), contigs


# --------------------------------------------------------------------------- chunking


@pytest.mark.parametrize("flank", [80, 400])
def test_seams_are_exact(models, flank):
    """Positions do not depend on chunk size, batch size or interval start: equal bit for bit.

    assert_array_equal, not a tolerance: chunks lie on a 64-position grid
    and are computed over at least 1,024 positions, so every position goes
    through the same CPU convolution kernel in the same vector lane.
    """
    model, _ = models[flank]
    network = lib.Network(model, device="cpu")
    sequence = (random_dna(3_000, 7) + "NNNNNNN" + random_dna(2_996, 8)).encode()
    for strand in "+-":
        one_chunk = lib.GenomePredictor(network, chunk_size=10**6, batch_size=1, skip_n=0)
        whole = one_chunk.predict(sequence, strand=strand)
        assert whole.shape == (len(sequence), 3)
        settings = [(1000, 1), (777, 3)] + ([(64, 5), (5000, 2)] if flank == 80 else [])
        for chunk_size, batch_size in settings:
            predictor = lib.GenomePredictor(
                network, chunk_size=chunk_size, batch_size=batch_size, skip_n=0
            )
            np.testing.assert_array_equal(predictor.predict(sequence, strand=strand), whole)
        predictor = lib.GenomePredictor(network, chunk_size=777, batch_size=2, skip_n=0)
        for start, end in ((1, 2), (1_001, 2_345), (4_097, len(sequence))):
            part = predictor.predict(sequence, strand=strand, start=start, end=end)
            np.testing.assert_array_equal(part, whole[start:end])


def test_thread_count_does_not_change_bits(models):
    model, _ = models[400]
    sequence = random_dna(2_500, 12).encode()
    try:
        results = []
        for threads in (1, 2):
            torch.set_num_threads(threads)
            results.append(lib.predict_contig(model, sequence, strand="-", chunk_size=1_000))
    finally:
        torch.set_num_threads(1)
    np.testing.assert_array_equal(results[0], results[1])


def test_matches_the_ensemble_with_n_padding(models):
    """Chunks equal Ensemble.forward on the N-padded sequence, to float32 rounding."""
    model, _ = models[80]
    sequence = random_dna(1_500, 9)
    padded = one_hot("N" * 40 + sequence + "N" * 40, "zeros")
    with torch.inference_mode():
        expected = model.ensemble(torch.from_numpy(padded).T[None])[0].numpy()
    for fused in (True, False):
        network = lib.Network(model, device="cpu", fused=fused)
        got = lib.predict_contig(network, sequence.encode(), chunk_size=512, batch_size=2)
        np.testing.assert_allclose(got, expected, atol=2e-6, rtol=0)
    minus = lib.predict_contig(model, sequence.encode(), strand="-", device="cpu")
    rc = one_hot("N" * 40 + revcomp(sequence) + "N" * 40, "zeros")
    with torch.inference_mode():
        expected_rc = model.ensemble(torch.from_numpy(rc).T[None])[0].numpy()
    np.testing.assert_allclose(minus, expected_rc[::-1], atol=2e-6, rtol=0)


def test_interval_helpers():
    assert intervals.merge_intervals([(5, 9), (0, 2), (2, 3), (8, 12), (20, 20)]) == [(0, 3), (5, 12)]
    holes = [(2, 4), (8, 22), (29, 40)]
    assert intervals.subtract_intervals([(0, 10), (20, 30)], holes) == [(0, 2), (4, 8), (22, 29)]
    assert intervals.intersect_intervals([(0, 10), (20, 30)], [(5, 25)]) == [(5, 10), (20, 25)]
    assert intervals.n_runs(b"ACNNNNTnnnnnGRN", 4) == [(2, 6), (7, 12)]
    assert intervals.n_runs(b"ACNNNNT", 0) == []
    chunks = list(lib.chunk_intervals([(3, 200)], 128, align=64, min_length=128, anchor=0))
    assert chunks == [((0, 128), (3, 128)), ((128, 256), (128, 200))]
    regions = plan.parse_regions(["chr1:1-10,2", " chrX:5-5"])
    assert regions == [("chr1", 0, 10), ("2", 0, -1), ("chrX", 4, 5)]


# --------------------------------------------------------------------------- strands and N


def test_reverse_complement_mirrors_the_tracks(models, tmp_path):
    """Plus of a contig == minus of its reverse complement, reversed (and vice versa), exactly."""
    _, path = models[400]
    sequence = random_dna(3_001, 11)
    forward = write_fasta(tmp_path / "f.fa", {"c": sequence})
    backward = write_fasta(tmp_path / "r.fa", {"c": revcomp(sequence)})
    for fasta, prefix in ((forward, tmp_path / "f"), (backward, tmp_path / "r")):
        check_ok(run("-R", fasta, "-m", path, "--bigwig", prefix, "--chunk-size", "1000",
                     "--no-progress"))
    import pyBigWig

    def track(prefix, name, strand):
        with pyBigWig.open(f"{prefix}.{name}.{strand}.bw") as handle:
            return handle.values("c", 0, len(sequence), numpy=True)

    for name in CLASSES:
        plus, minus = track(tmp_path / "f", name, "plus"), track(tmp_path / "r", name, "minus")
        assert not np.isnan(plus).any()
        np.testing.assert_array_equal(plus, minus[::-1])
        other = track(tmp_path / "r", name, "plus")
        np.testing.assert_array_equal(track(tmp_path / "f", name, "minus"), other[::-1])


def test_long_n_runs_are_skipped_short_ones_predicted(models, n_genome, tmp_path):
    fasta, contigs = n_genome
    _, path = models[80]
    prefix = tmp_path / "t"
    result = run("-R", fasta, "-m", path, "--bedgraph", prefix, "--threshold", "0",
                 "--bigwig", prefix, "--hdf5", tmp_path / "t.h5", "--hdf5-dtype", "float32",
                 "--skip-n", "1000", "--no-progress")
    check_ok(result)
    assert "3000 nt in runs of N skipped" in result.output  # 1,500 per strand
    import h5py
    import pyBigWig

    first = contigs["c1"]
    skipped = np.zeros(len(first), dtype=bool)
    skipped[2_000:3_500] = True
    for name in CLASSES:
        for strand in ("plus", "minus"):
            covered = np.zeros(len(first), dtype=bool)
            for line in Path(f"{prefix}.{name}.{strand}.bedGraph").read_text().splitlines():
                chrom, start, end, _ = line.split("\t")
                if chrom == "c1":
                    covered[int(start) : int(end)] = True
            np.testing.assert_array_equal(covered, ~skipped)  # threshold 0: every predicted base
            with pyBigWig.open(f"{prefix}.{name}.{strand}.bw") as handle:
                values = handle.values("c1", 0, len(first), numpy=True)
                np.testing.assert_array_equal(np.isnan(values), skipped)
                assert not np.isnan(handle.values("c2", 0, len(contigs["c2"]), numpy=True)).any()
    with h5py.File(tmp_path / "t.h5") as handle:
        array = handle["c1/plus"][:]
        np.testing.assert_array_equal(np.isnan(array).any(axis=1), skipped)
        short = array[4_500:4_700]  # the 200-N run: predicted, context partly N
        assert np.isfinite(short).all()
    check_ok(run("-R", fasta, "-m", path, "--hdf5", tmp_path / "all.h5", "--skip-n", "0",
                 "--no-progress"))
    with h5py.File(tmp_path / "all.h5") as handle:
        assert np.isfinite(handle["c1/minus"][:]).all()


def test_library_skips_n_runs_in_contig_blocks(models, n_genome):
    _, contigs = n_genome
    model, _ = models[80]
    predictor = lib.GenomePredictor(model, device="cpu", chunk_size=1_000, skip_n=1_000)
    sequence = contigs["c1"].encode()
    blocks = list(predictor.contig_blocks("c1", sequence, "-"))
    covered = sorted({p for b in blocks for p in range(b.start, b.end)})
    assert covered == list(range(0, 2_000)) + list(range(3_500, len(sequence)))
    whole = lib.predict_contig(model, sequence, strand="-", chunk_size=100_000, device="cpu")
    for block in blocks:
        np.testing.assert_array_equal(block.probs, whole[block.start : block.end])


# --------------------------------------------------------------------------- coordinates


def oracle_calls(fasta: Path, genes=None) -> set[tuple[str, int, str, str]]:
    """Sites the motif oracle calls through predict_genome and the BED writer."""
    predictor = lib.GenomePredictor(MotifOracle(), chunk_size=2_000, batch_size=3, skip_n=1_000)
    out = Path(str(fasta) + (".genes" if genes else ".all") + ".bed")
    summary = predict_genome(fasta, predictor, [tracks.BedWriter(out, 0.5)], genes=genes)
    assert summary.sites == len(out.read_text().splitlines())
    calls = set()
    for chrom, start, end, name, score, strand, probability in bed_rows(out):
        assert int(end) == int(start) + 1 and score == "1000" and probability == "1"
        calls.add((chrom, int(start), name, strand))
    return calls


def test_bed_bases_are_create_data_labels(genome):
    """The BED interval of a called site is the base create-data labels, on both strands."""
    fasta, annotation = genome
    labels = created_labels(fasta, annotation)
    assert {strand for *_, strand in labels} == {"+", "-"}
    assert {name for _, _, name, _ in labels} == set(CLASSES)
    assert oracle_calls(fasta) == labels  # whole genome, both strands
    contigs = fasta_stream.fasta_contigs(fasta)
    genes = plan.gene_spans(load_genes(annotation, contigs, biotype="all"))
    assert oracle_calls(fasta, genes) == labels  # inside genes, on their strands


def test_writers_map_block_index_to_genomic_base(tmp_path):
    """Index i of a block (either strand) is genomic base start + i; runs merge across blocks."""
    probs = np.zeros((10, 3), dtype=np.float32)
    probs[:, 0] = 1
    probs[[2, 3, 4], 1] = 0.25  # acceptor run of equal values
    probs[7, 2] = 0.75
    halves = [tracks.Block("c", "-", 100, probs[:3]), tracks.Block("c", "-", 103, probs[3:])]
    bed = tracks.BedWriter(tmp_path / "x.bed", 0.2)
    graph = tracks.BedGraphWriter(tmp_path / "x", ("+", "-"), 0.2)
    for writer in (bed, graph):
        writer.begin_contig("c", 200)
        for block in halves:
            writer.write(block)
        writer.end_contig("c")
        writer.close()
        writer.publish()
    assert bed_rows(tmp_path / "x.bed") == [
        ["c", "102", "103", "acceptor", "250", "-", "0.25"],
        ["c", "103", "104", "acceptor", "250", "-", "0.25"],
        ["c", "104", "105", "acceptor", "250", "-", "0.25"],
        ["c", "107", "108", "donor", "750", "-", "0.75"],
    ]
    assert (tmp_path / "x.acceptor.minus.bedGraph").read_text() == "c\t102\t105\t0.25\n"
    assert (tmp_path / "x.donor.minus.bedGraph").read_text() == "c\t107\t108\t0.75\n"
    assert (tmp_path / "x.acceptor.plus.bedGraph").read_text() == ""


# --------------------------------------------------------------------------- CLI outputs


def test_annotation_run_outputs_parse_and_are_sorted(models, genome, tmp_path):
    fasta, annotation = genome
    _, path = models[80]
    result = run("-R", fasta, "-A", annotation, "-m", path, "--bedgraph", tmp_path / "g",
                 "--bed", tmp_path / "g.bed", "--bigwig", tmp_path / "g", "--no-progress")
    check_ok(result)
    contigs = fasta_stream.fasta_contigs(fasta)
    genes = load_genes(annotation, contigs, biotype="all")
    inside = {(g.chrom, s, p) for g in genes for p in range(g.start, g.end) for s in [g.strand]}
    rows = bed_rows(tmp_path / "g.bed")
    assert rows
    keys = [(contigs.index(r[0]), int(r[1]), "+-".index(r[5]), CLASSES.index(r[3])) for r in rows]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    for chrom, start, end, name, score, strand, probability in rows:
        assert (chrom, strand, int(start)) in inside and int(end) == int(start) + 1
        # the score is int(1000 p) of the float32 value; the column prints p to 4 digits
        assert float(probability) >= 0.01 and abs(int(score) - 1000 * float(probability)) <= 1
    for name in CLASSES:
        for strand, sign in (("plus", "+"), ("minus", "-")):
            lines = Path(f"{tmp_path / 'g'}.{name}.{strand}.bedGraph").read_text().splitlines()
            previous = (-1, -1)
            for line in lines:
                chrom, start, end, value = line.split("\t")
                key = (contigs.index(chrom), int(start))
                assert key > previous and int(end) > int(start) and float(value) >= 0.01
                previous = (key[0], int(end) - 1)
                assert all((chrom, sign, p) in inside for p in range(int(start), int(end)))


def test_bigwig_and_hdf5_equal_the_arrays(models, genome, tmp_path):
    fasta, _ = genome
    model, path = models[80]
    check_ok(run("-R", fasta, "-m", path, "--bigwig", tmp_path / "w", "--hdf5", tmp_path / "w.h5",
                 "--hdf5-dtype", "float32", "--chunk-size", "3000", "--no-progress"))
    import h5py
    import pyBigWig

    sequences = read_fasta(fasta)
    with h5py.File(tmp_path / "w.h5") as h5:
        assert h5.attrs["flank"] == 80
        for contig, sequence in sequences.items():
            for strand, word in (("+", "plus"), ("-", "minus")):
                expected = lib.predict_contig(model, sequence.encode(), strand=strand, device="cpu")
                np.testing.assert_array_equal(h5[f"{contig}/{word}"][:], expected[:, 1:])
                for name, column in tracks.CLASS_COLUMNS.items():
                    with pyBigWig.open(f"{tmp_path / 'w'}.{name}.{word}.bw") as handle:
                        assert handle.chroms() == {c: len(s) for c, s in sequences.items()}
                        values = handle.values(contig, 0, len(sequence), numpy=True)
                    np.testing.assert_array_equal(values.astype(np.float32), expected[:, column])


def test_same_input_same_bytes(models, genome, tmp_path):
    """Two runs, and runs with other chunk and batch sizes, write identical text."""
    fasta, _ = genome
    _, path = models[80]
    outputs = []
    for index, (chunk, batch) in enumerate([(50_000, 4), (50_000, 4), (1_000, 3)]):
        prefix = tmp_path / f"d{index}"
        check_ok(run("-R", fasta, "-m", path, "--bedgraph", prefix, "--bed", f"{prefix}.bed",
                     "--regions", "chr1,chr3:101-7000", "--chunk-size", chunk,
                     "--batch-size", batch, "--no-progress"))
        names = [f"{prefix}.bed"]
        names += [f"{prefix}.{c}.{s}.bedGraph" for c in CLASSES for s in ("plus", "minus")]
        outputs.append([Path(name).read_bytes() for name in names])
    assert outputs[0] == outputs[1] == outputs[2]
    assert all(outputs[0])
    chroms = {line.split(b"\t")[0] for line in outputs[0][0].splitlines()}
    assert chroms == {b"chr1", b"chr3"}
    lines = outputs[0][0].splitlines()
    starts = [int(line.split(b"\t")[1]) for line in lines if line.startswith(b"chr3")]
    assert min(starts) >= 100 and max(starts) < 7000


def test_gzip_fasta_gives_the_same_bytes(models, genome, tmp_path):
    import gzip

    fasta, _ = genome
    _, path = models[80]
    packed = tmp_path / "genome.fa.gz"
    packed.write_bytes(gzip.compress(fasta.read_bytes()))
    for source, name in ((fasta, "plain.bed"), (packed, "packed.bed")):
        check_ok(run("-R", source, "-m", path, "--bed", tmp_path / name, "--regions", "chr2",
                     "--no-progress"))
    assert (tmp_path / "plain.bed").read_bytes() == (tmp_path / "packed.bed").read_bytes()


def test_failure_mid_run_leaves_no_file(models, genome, tmp_path):
    """An error (or interrupt) after some blocks: no output, no temporary file."""
    fasta, _ = genome
    model, _ = models[80]
    predictor = lib.GenomePredictor(model, device="cpu", chunk_size=1_000)
    writers = [tracks.BedWriter(tmp_path / "x.bed", 0.01), tracks.BedGraphWriter(tmp_path / "x", "+-", 0),
               tracks.BigWigWriter(tmp_path / "x", "+-", fasta_stream.fasta_lengths(fasta)),
               tracks.Hdf5Writer(tmp_path / "x.h5", "+-")]
    seen = []

    def progress(count: int) -> None:
        seen.append(count)
        if len(seen) == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        predict_genome(fasta, predictor, writers, progress=progress)
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------- SpliceAI tables


def test_table_annotation_predicts_the_genes_of_the_gtf(models, genome, tmp_path):
    """A SpliceAI-style table (rows named `1`, not `chr1`; plain and gzip) = the GTF's genes."""
    import gzip

    fasta, annotation = genome
    _, path = models[80]
    genes = load_genes(annotation, fasta_stream.fasta_contigs(fasta), biotype="all")
    assert {g.strand for g in genes} == {"+", "-"}
    rows = [(g.name, g.chrom.removeprefix("chr"), g.strand, g.start, g.end,
             g.transcripts[0].exon_starts, g.transcripts[0].exon_ends) for g in genes]
    table = tmp_path / "genes.txt"
    table.write_text(table_text(rows))
    (tmp_path / "genes.txt.gz").write_bytes(gzip.compress(table.read_bytes()))
    outputs = {}
    for name, source in (("gtf", annotation), ("table", table), ("gz", tmp_path / "genes.txt.gz")):
        prefix = tmp_path / name
        check_ok(run("-R", fasta, "-A", source, "-m", path, "--bed", f"{prefix}.bed",
                     "--bedgraph", prefix, "--no-progress"))
        names = [f"{prefix}.bed"]
        names += [f"{prefix}.{c}.{s}.bedGraph" for c in CLASSES for s in ("plus", "minus")]
        outputs[name] = [Path(n).read_bytes() for n in names]
    assert outputs["table"] == outputs["gtf"] == outputs["gz"]
    assert all(outputs["gtf"])


def test_builtin_grch38_table(models, tmp_path):
    """`-A grch38`: positions inside its chr16 genes (named `16`), each on its own strand."""
    import h5py

    _, path = models[80]
    begin, end = 265_000, 285_000  # 0-based half-open
    check_ok(run("-R", CHR16_FASTA, "-A", "grch38", "-m", path, "--regions",
                 f"chr16:{begin + 1}-{end}", "--hdf5", tmp_path / "g.h5", "--no-progress"))
    expected = {"+": set(), "-": set()}
    for line in builtin_rows("grch38", {"16"}):
        _, _, strand, tx_start, tx_end = line.split("\t")[:5]
        expected[strand].update(range(max(int(tx_start), begin), min(int(tx_end), end)))
    assert expected["+"] and expected["-"]  # FAM234A, ARHGDIG, PDIA2 on +; RGS11 on -
    with h5py.File(tmp_path / "g.h5") as handle:
        for strand, word in (("+", "plus"), ("-", "minus")):
            values = handle[f"chr16/{word}"][:]
            predicted = set(np.flatnonzero(np.isfinite(values[:, 0])).tolist())
            assert predicted == expected[strand]


@pytest.mark.parametrize("source", ["grch38", "table"])
def test_biotype_needs_a_gtf(models, genome, tmp_path, source):
    fasta, _ = genome
    _, path = models[80]
    if source == "table":
        source = tmp_path / "genes.txt"
        source.write_text(table_text([("G", "chr1", "+", 100, 900, (100,), (900,))]))
    result = run("-R", fasta, "-A", source, "--biotype", "protein_coding", "-m", path,
                 "--bed", tmp_path / "x.bed", "--no-progress")
    assert result.exit_code == 2
    assert result.output == (f"spliceannot predict: error: {source}: --biotype protein_coding "
                             "needs a GTF/GFF3 (a SpliceAI-style table has no biotypes); "
                             "use --biotype all\n")
    assert not (tmp_path / "x.bed").exists()


# --------------------------------------------------------------------------- output directories


@pytest.mark.parametrize("option, value", [("--bed", "out/sites.bed"), ("--bedgraph", "out/g"),
                                           ("--bigwig", "out/t"), ("--hdf5", "out/p.h5")])
def test_missing_output_directory_is_refused_before_any_work(genome, tmp_path, monkeypatch,
                                                             option, value):
    """As annotate refuses -O: `PATH: output directory DIR does not exist`, exit 2, nothing written.

    The model named does not exist either: the output check comes before loading it.
    """
    fasta, _ = genome
    monkeypatch.chdir(tmp_path)
    result = run("-R", fasta, "-m", tmp_path / "absent.safetensors", option, value,
                 "--no-progress")
    assert result.exit_code == 2
    assert result.output == (f"spliceannot predict: error: {value}: output directory "
                             f"{tmp_path.resolve() / 'out'} does not exist\n")
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "case",
    ["missing-fasta", "bad-annotation", "unknown-region", "no-output", "bad-region", "past-end",
     "no-dir", "missing-model"],
)
def test_bad_input_exits_2_with_one_line(models, genome, tmp_path, case):
    fasta, _ = genome
    _, path = models[80]
    target = tmp_path / "keep.bed"
    target.write_text("untouched\n")
    garbage = tmp_path / "garbage.gtf"
    garbage.write_bytes(b"\x00\x01 not an annotation\n")
    common = ["--bed", target, "--no-progress"]
    args = {
        "missing-fasta": ["-R", tmp_path / "absent.fa", "-m", path, *common],
        "bad-annotation": ["-R", fasta, "-A", garbage, "-m", path, *common],
        "unknown-region": ["-R", fasta, "--regions", "chrZ:1-10", "-m", path, *common],
        "no-output": ["-R", fasta, "-m", path],
        "bad-region": ["-R", fasta, "--regions", "chr1:10-5", "-m", path, *common],
        "past-end": ["-R", fasta, "--regions", "chr1:1-100,chr3:1-99999999", "-m", path, *common],
        "no-dir": ["-R", fasta, "-m", path, "--bed", tmp_path / "absent" / "x.bed"],
        "missing-model": ["-R", fasta, "-m", tmp_path / "absent.safetensors", *common],
    }[case]
    result = run(*args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("spliceannot predict: error: "), result.output
    assert "Traceback" not in result.output
    named = {"missing-fasta": "-R", "bad-annotation": "-A", "no-dir": "--bed",
             "missing-model": "-m"}
    if case in named:  # the message names the file
        assert str(args[args.index(named[case]) + 1]) in lines[0]
    assert target.read_text() == "untouched\n"
    assert sorted(os.listdir(tmp_path)) == ["garbage.gtf", "keep.bed"]  # no temporary left

"""``create-data``: windows, labels, splits and HDF5 files from a synthetic genome.

Expected values come from the planted genes (read back from the GTF text
here, not through the reader under test) and from the FASTA itself.
"""

from __future__ import annotations

import gzip
import math
import os
import re
import sys
from collections import Counter
from pathlib import Path

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from spliceannot.cli import main
from spliceannot.errors import InputError
from spliceannot.readers import fasta_stream
from spliceannot.readers.gtf_features import SKIP_EMPTY, SKIP_NO_EXONS, SKIP_TRANS_SPLICED
from spliceannot.trainers import data
from spliceannot.trainers.gene_windows import NOTE_NONCANONICAL, GeneWindows, iter_gene_windows
from spliceannot.trainers.genes import NOTE_SINGLE_EXON, SKIP_NOT_IN_FASTA, Gene
from spliceannot.trainers.layout import CONTEXT, POSITIONS, WIDTH, SpliceData
from spliceannot.trainers.splits import HUMAN_TEST_CHROMS, SplitOptions, assign_splits
from synthetic import write_synthetic_genome

COMPLEMENT = str.maketrans("ACGTN", "TGCAN")


# --------------------------------------------------------------------------- helpers


def revcomp(sequence: str) -> str:
    return sequence.translate(COMPLEMENT)[::-1]


def read_fasta(path: Path) -> dict[str, str]:
    contigs: dict[str, list[str]] = {}
    name = None
    for line in path.read_text().splitlines():
        if line.startswith(">"):
            name = line[1:].split()[0]
            contigs[name] = []
        else:
            contigs[name].append(line.strip())
    return {name: "".join(lines) for name, lines in contigs.items()}


def write_fasta(path: Path, contigs: dict[str, str]) -> Path:
    path.write_text("".join(f">{name}\n{sequence}\n" for name, sequence in contigs.items()))
    return path


def planted(annotation: Path) -> dict[str, tuple[str, str, list[tuple[int, int]]]]:
    """gene name -> (chrom, strand, sorted exons, 0-based half-open), from the GTF text."""
    genes: dict[str, tuple[str, str, list[tuple[int, int]]]] = {}
    for line in annotation.read_text().splitlines():
        fields = line.split("\t")
        if len(fields) < 9 or fields[2] != "exon":
            continue
        name = re.search(r'gene_name "([^"]+)"', fields[8]).group(1)
        genes.setdefault(name, (fields[0], fields[6], []))[2].append(
            (int(fields[3]) - 1, int(fields[4]))
        )
    for _, _, exons in genes.values():
        exons.sort()
    return genes


def expected_sites(strand: str, exons: list[tuple[int, int]]) -> tuple[set[int], set[int]]:
    """Genomic acceptors and donors of sorted exons, written out per strand."""
    if strand == "+":
        return {start for start, _ in exons[1:]}, {end - 1 for _, end in exons[:-1]}
    return {end - 1 for _, end in exons[:-1]}, {start for start, _ in exons[1:]}


def decode(x: np.ndarray) -> str:
    letters = np.array(list("ACGT"))[x.argmax(axis=-1)]
    letters[x.sum(axis=-1) == 0] = "N"
    return "".join(letters)


def genomic(start: int, strand: str, offset: int) -> int:
    """Genomic coordinate of window position ``offset`` (label position ``0`` = ``start``)."""
    return start + offset if strand == "+" else start - offset


def observed_sites(windows) -> tuple[set[int], set[int]]:
    acceptors, donors = set(), set()
    for start, y in zip(windows.starts, windows.y):
        for label, found in ((1, acceptors), (2, donors)):
            found.update(genomic(start, windows.strand, int(i)) for i in np.flatnonzero(y == label))
    return acceptors, donors


def read_split(path: Path) -> dict:
    with h5py.File(path, "r") as handle:
        found = {name: handle[name][:] for name in ("x", "y", "start")}
        for name in ("chrom", "strand", "gene"):
            found[name] = [value.decode() for value in handle[name][:]]
        found["attrs"] = dict(handle.attrs)
        found["chunks"] = handle["x"].chunks, handle["x"].compression
    return found


def genes_of(path: Path) -> list[str]:
    return list(dict.fromkeys(read_split(path)["gene"]))


def windows_by_gene(fasta: Path, annotation: Path, **options) -> dict[str, GeneWindows]:
    return {w.gene: w for w in iter_gene_windows(fasta, annotation, **options)}


def summary_counts(directory: Path) -> dict[str, int]:
    text = (directory / "summary.tsv").read_text()
    block = text.split("\n\n", 1)[1].strip().splitlines()[1:]
    return {reason: int(count) for reason, count in (line.split("\t") for line in block)}


def cli(*args) -> object:
    return CliRunner().invoke(main, ["create-data", *[str(a) for a in args]])


@pytest.fixture(scope="module")
def genome(tmp_path_factory) -> tuple[Path, Path]:
    """Three contigs, genes on both strands."""
    return write_synthetic_genome(tmp_path_factory.mktemp("genome"))


@pytest.fixture(scope="module")
def plus_genome(tmp_path_factory) -> tuple[Path, Path]:
    """The same genes, all on the plus strand."""
    return write_synthetic_genome(tmp_path_factory.mktemp("plus"), minus_fraction=0.0)


@pytest.fixture(scope="module")
def windows(genome) -> dict[str, GeneWindows]:
    return windows_by_gene(*genome)


@pytest.fixture(scope="module")
def by_lists(genome, tmp_path_factory) -> Path:
    """create-data with test chr1 (named without `chr`) and validation chr2."""
    out = tmp_path_factory.mktemp("lists") / "out"
    data.create_data(*genome, out, test_chroms=["1"], val_chroms=["chr2"])
    return out


# --------------------------------------------------------------------------- labels and windows


def test_labels_are_the_planted_exon_boundaries_on_both_strands(genome, windows):
    genes = planted(genome[1])
    assert {strand for _, strand, _ in genes.values()} == {"+", "-"}
    assert set(windows) == set(genes)
    for name, (chrom, strand, exons) in genes.items():
        found = windows[name]
        assert (found.chrom, found.strand) == (chrom, strand)
        assert observed_sites(found) == expected_sites(strand, exons), name


def test_sites_sit_on_the_planted_consensus_in_transcript_orientation(windows):
    checked = Counter()
    for found in windows.values():
        for x, y in zip(found.x, found.y):
            text = decode(x)
            for i in np.flatnonzero(y == 2):  # donor: exon ends CAG, intron starts GTAAGT
                assert text[CONTEXT + i - 2 : CONTEXT + i + 7] == "CAGGTAAGT"
                checked[found.strand, "donor"] += 1
            for i in np.flatnonzero(y == 1):  # acceptor: intron ends CAG, exon starts G
                assert text[CONTEXT + i - 3 : CONTEXT + i + 1] == "CAGG"
                assert set(text[CONTEXT + i - 18 : CONTEXT + i - 3]) <= {"C", "T"}
                checked[found.strand, "acceptor"] += 1
    assert len(checked) == 4 and min(checked.values()) > 5


def test_windows_of_chosen_chromosomes(genome):
    chosen = list(iter_gene_windows(*genome, chromosomes=["2"]))
    assert [w.gene for w in chosen] == [f"SYN2_{k}" for k in range(1, 7)]
    assert {w.chrom for w in chosen} == {"chr2"}


def test_window_count_starts_and_padding(genome, windows):
    for name, (_, strand, exons) in planted(genome[1]).items():
        found = windows[name]
        start, end = exons[0][0], exons[-1][1]
        length = end - start
        assert found.x.shape == (math.ceil(length / POSITIONS), WIDTH, 4)
        assert found.x.dtype == np.int8 and found.y.dtype == np.int8
        assert found.starts == [start if strand == "+" else end - 1]
        labels = found.y.reshape(-1)
        assert (labels[:length] >= 0).all() and (labels[length:] == -1).all()


def _long_transcript(directory: Path, fasta: Path, annotation: Path) -> tuple[Path, list]:
    """A transcript from the first exon of chr1's first gene to the last exon of its fifth."""
    genes = [value for value in planted(annotation).values() if value[0] == "chr1"]
    strand = genes[0][1]
    exons = [genes[0][2][0], genes[4][2][-1]]
    attributes = (
        'gene_id "LONG"; transcript_id "LONG.1"; gene_name "LONG"; gene_biotype "protein_coding";'
    )
    lines = [
        f"chr1\tt\texon\t{start + 1}\t{end}\t.\t{strand}\t.\t{attributes}" for start, end in exons
    ]
    path = directory / "long.gtf"
    path.write_text("\n".join(lines) + "\n")
    return path, exons


@pytest.mark.parametrize("minus_fraction", [0.0, 1.0])
def test_a_long_gene_spans_several_windows(tmp_path, minus_fraction):
    fasta, annotation = write_synthetic_genome(tmp_path, minus_fraction=minus_fraction)
    long_gtf, exons = _long_transcript(tmp_path, fasta, annotation)
    (found,) = iter_gene_windows(fasta, long_gtf)
    start, end = exons[0][0], exons[-1][1]
    length = end - start
    assert length > 2 * POSITIONS
    count = math.ceil(length / POSITIONS)
    assert len(found.starts) == count == found.y.shape[0]
    strand = "+" if minus_fraction == 0 else "-"
    step = POSITIONS if strand == "+" else -POSITIONS
    first = start if strand == "+" else end - 1
    assert found.starts == [first + k * step for k in range(count)]
    assert observed_sites(found) == expected_sites(strand, exons)
    last = found.y[-1]
    tail = length - (count - 1) * POSITIONS
    assert (last[tail:] == -1).all() and (last[:tail] >= 0).all()
    assert (found.y[:-1] >= 0).all()
    # consecutive windows overlap by their context: window k+1's left context is window k's labels
    assert np.array_equal(found.x[1][:CONTEXT], found.x[0][CONTEXT : CONTEXT + POSITIONS])


def _mirrored(fasta: Path, annotation: Path, directory: Path) -> tuple[Path, Path]:
    """Every contig reverse-complemented and every gene moved to the other strand."""
    contigs = read_fasta(fasta)
    lines = []
    for line in annotation.read_text().splitlines():
        fields = line.split("\t")
        if len(fields) < 9:
            continue
        length = len(contigs[fields[0]])
        start, end = int(fields[3]) - 1, int(fields[4])
        fields[3], fields[4] = str(length - end + 1), str(length - start)
        fields[6] = {"+": "-", "-": "+"}[fields[6]]
        lines.append("\t".join(fields))
    mirrored = {name: revcomp(sequence.upper()) for name, sequence in contigs.items()}
    path = directory / "mirrored.gtf"
    path.write_text("\n".join(lines) + "\n")
    return write_fasta(directory / "mirrored.fa", mirrored), path


@pytest.mark.parametrize("flank_sequence", ["n", "genome"])
def test_a_minus_strand_gene_gives_the_windows_of_its_plus_strand_mirror(
    plus_genome, tmp_path, flank_sequence
):
    fasta, annotation = plus_genome
    plus = windows_by_gene(fasta, annotation, flank_sequence=flank_sequence)
    minus = windows_by_gene(*_mirrored(fasta, annotation, tmp_path), flank_sequence=flank_sequence)
    lengths = {name: len(sequence) for name, sequence in read_fasta(fasta).items()}
    assert set(plus) == set(minus)
    assert {w.strand for w in plus.values()} == {"+"}
    assert {w.strand for w in minus.values()} == {"-"}
    for name, forward in plus.items():
        reverse = minus[name]
        assert np.array_equal(forward.x, reverse.x), name
        assert np.array_equal(forward.y, reverse.y), name
        assert reverse.starts == [lengths[forward.chrom] - 1 - s for s in forward.starts]


@pytest.mark.parametrize("flank_sequence", ["n", "genome"])
def test_context_is_n_outside_the_gene_or_the_genome(genome, flank_sequence):
    contigs = {name: sequence.upper() for name, sequence in read_fasta(genome[0]).items()}
    genes = planted(genome[1])
    found = windows_by_gene(*genome, flank_sequence=flank_sequence)
    for name, (chrom, strand, exons) in genes.items():
        sequence = contigs[chrom]
        shown = (exons[0][0], exons[-1][1]) if flank_sequence == "n" else (0, len(sequence))
        for start, x in zip(found[name].starts, found[name].x):
            expected = []
            for offset in range(-CONTEXT, POSITIONS + CONTEXT):
                position = genomic(start, strand, offset)
                base = sequence[position] if shown[0] <= position < shown[1] else "N"
                expected.append(base if strand == "+" else base.translate(COMPLEMENT))
            assert decode(x) == "".join(expected), (name, flank_sequence)


# --------------------------------------------------------------------------- input formats


def test_fasta_parser_handles_wrapping_case_crlf_and_block_edges(tmp_path, monkeypatch):
    text = ">a first contig\r\nACgt\r\nnNac\r\n\r\n>b\nGGGG\n>c desc>with>marks\nttAA"
    path = tmp_path / "odd.fa"
    path.write_bytes(text.encode())
    expected = [("a", b"ACGTNNAC"), ("b", b"GGGG"), ("c", b"TTAA")]
    for block in (1, 2, 3, 5, 7, 1 << 22):
        monkeypatch.setattr(fasta_stream, "_READ_BLOCK", block)
        assert [(n, bytes(s)) for n, s in fasta_stream.stream_fasta(path)] == expected, block
        assert [n for n, _ in fasta_stream.stream_fasta(path, wanted={"b"})] == ["b"]
    assert fasta_stream.fasta_contigs(path) == ["a", "b", "c"]
    (tmp_path / "bad.fa").write_text("ACGT\n>a\nACGT\n")
    with pytest.raises(InputError, match="not a FASTA"):
        list(fasta_stream.stream_fasta(tmp_path / "bad.fa"))


def test_gzip_and_bgzip_fasta_give_the_same_windows(genome, windows, tmp_path):
    import pysam

    fasta, annotation = genome
    gz = tmp_path / "genome.fa.gz"
    with gzip.open(gz, "wb") as handle:
        handle.write(fasta.read_bytes())
    bgz = tmp_path / "genome.fa.bgz"
    pysam.tabix_compress(str(fasta), str(bgz))
    pysam.faidx(str(bgz))  # with a .fai beside it the contig names come from the index
    assert (tmp_path / "genome.fa.bgz.fai").exists()
    for compressed in (gz, bgz):
        other = windows_by_gene(compressed, annotation)
        assert set(other) == set(windows)
        for name, found in windows.items():
            assert np.array_equal(other[name].x, found.x) and np.array_equal(other[name].y, found.y)


def test_gff3_gives_the_same_windows_as_gtf(genome, windows, tmp_path):
    fasta, gff3 = write_synthetic_genome(tmp_path, gff3=True)
    assert gff3.suffix == ".gff3" and fasta.read_bytes() == genome[0].read_bytes()
    other = windows_by_gene(fasta, gff3)
    assert set(other) == set(windows)
    for name, found in windows.items():
        assert other[name].starts == found.starts
        assert np.array_equal(other[name].x, found.x) and np.array_equal(other[name].y, found.y)


# --------------------------------------------------------------------------- transcripts, introns


def test_all_transcripts_label_the_union_of_the_isoforms_sites(plus_genome, tmp_path):
    fasta, annotation = plus_genome
    name = "SYN2_3"
    chrom, strand, exons = planted(annotation)[name]
    (first_start, first_end), rest = exons[0], exons[1:]
    # isoform 2: starts 100 nt upstream and has its first donor 30 nt earlier
    isoform = [(first_start - 100, first_end - 30)] + rest
    attributes = (
        f'gene_id "gene-{chrom}-3"; transcript_id "tx-{chrom}-3b"; gene_name "{name}"; '
        'gene_biotype "protein_coding"; transcript_biotype "protein_coding";'
    )
    extra = [f"{chrom}\tt\texon\t{s + 1}\t{e}\t.\t{strand}\t.\t{attributes}" for s, e in isoform]
    gtf = tmp_path / "isoforms.gtf"
    gtf.write_text(annotation.read_text() + "\n".join(extra) + "\n")

    union = windows_by_gene(fasta, gtf, transcripts="all")[name]
    acceptors, donors = observed_sites(union)
    assert acceptors == expected_sites(strand, exons)[0]
    assert donors == expected_sites(strand, exons)[1] | {first_end - 31}
    assert union.transcripts == 2 and union.start == first_start - 100
    assert union.starts == [first_start - 100]

    canonical = windows_by_gene(fasta, gtf)[name]  # the isoform with more exonic bases
    assert canonical.transcripts == 1
    assert observed_sites(canonical)[1] == expected_sites(strand, isoform)[1]
    assert len(windows_by_gene(fasta, gtf, transcripts="all")) == len(planted(annotation))


def test_canonical_introns_drops_a_planted_non_canonical_intron(plus_genome, tmp_path):
    fasta, annotation = plus_genome
    chrom, _, exons = planted(annotation)["SYN1_2"]
    intron_start, intron_end = exons[0][1], exons[1][0]
    contigs = read_fasta(fasta)
    sequence = contigs[chrom]
    assert sequence[intron_start : intron_start + 2] == "GT"
    contigs[chrom] = sequence[:intron_start] + "CT" + sequence[intron_start + 2 :]
    mutated = write_fasta(tmp_path / "mutated.fa", contigs)

    counts = Counter()
    kept = windows_by_gene(mutated, annotation, canonical_introns=True, counts=counts)
    assert counts[NOTE_NONCANONICAL] == 1
    acceptors, donors = observed_sites(kept["SYN1_2"])
    expected_acceptors, expected_donors = expected_sites("+", exons)
    assert acceptors == expected_acceptors - {intron_end}
    assert donors == expected_donors - {intron_start - 1}
    assert observed_sites(windows_by_gene(mutated, annotation)["SYN1_2"]) == (
        expected_acceptors,
        expected_donors,
    )


def test_canonical_introns_keeps_every_planted_intron_on_both_strands(genome, windows):
    counts = Counter()
    filtered = windows_by_gene(*genome, canonical_introns=True, counts=counts)
    assert counts[NOTE_NONCANONICAL] == 0
    for name, found in windows.items():
        assert np.array_equal(filtered[name].y, found.y)


# --------------------------------------------------------------------------- splits


def test_split_by_chromosome_lists(by_lists, genome):
    genes = planted(genome[1])
    expected = {"test": "chr1", "validation": "chr2", "train": "chr3"}
    for split, chrom in expected.items():
        found = read_split(by_lists / f"{split}.h5")
        assert set(found["chrom"]) == {chrom}
        assert set(found["gene"]) == {n for n, (c, _, _) in genes.items() if c == chrom}
        assert found["attrs"]["split"] == split and found["attrs"]["test_chroms"] == "1"
        with SpliceData(by_lists / f"{split}.h5") as reader:
            x, y = reader.batch([0], flank=80)
            assert x.shape == (1, 4, POSITIONS + 80) and y.shape == (1, POSITIONS)


def test_human_split_holds_out_odd_chromosomes_and_a_seeded_tenth(genome, tmp_path):
    def run(seed: int) -> dict[str, list[str]]:
        out = tmp_path / f"seed{seed}"
        data.create_data(*genome, out, seed=seed, force=True)
        return {split: genes_of(out / f"{split}.h5") for split in ("train", "validation", "test")}

    first = run(1)
    assert {name[:4] for name in first["test"]} == {"SYN1", "SYN3"} and len(first["test"]) == 12
    assert len(first["validation"]) == 1 and len(first["train"]) == 5  # round(0.1 * 6) of chr2
    assert run(1) == first
    assert len({tuple(run(seed)["validation"]) for seed in (1, 2, 3, 4, 5)}) > 1


def test_random_split_by_gene_is_seeded(genome, tmp_path):
    def run(seed: int) -> dict[str, list[str]]:
        out = tmp_path / f"seed{seed}"
        data.create_data(*genome, out, split="random", split_by="gene", seed=seed, force=True)
        return {split: genes_of(out / f"{split}.h5") for split in ("train", "validation", "test")}

    first = run(7)
    assert run(7) == first
    assert sorted(sum(first.values(), [])) == sorted(planted(genome[1]))
    assert first["test"] and first["validation"] and first["train"]
    assert any(run(seed) != first for seed in (1, 2, 3))


def test_random_split_by_chromosome_keeps_chromosomes_whole_and_balanced():
    rng = np.random.default_rng(0)
    genes = []
    for c in range(1, 31):
        for k in range(int(rng.integers(1, 12))):
            length = int(rng.integers(1000, 9000))
            start = k * 10_000
            genes.append(Gene(f"g{c}_{k}", f"chr{c}", "+", start, start + length, ()))
    total = sum(gene.length for gene in genes)
    largest = max(sum(g.length for g in genes if g.chrom == c) for c in {g.chrom for g in genes})
    assignments = []
    for seed in (1, 2, 3):
        options = SplitOptions.resolve("random", seed=seed)
        splits = assign_splits(genes, options)
        assert splits == assign_splits(genes, options)
        by_chrom = {}
        for gene, split in zip(genes, splits):
            assert by_chrom.setdefault(gene.chrom, split) == split  # whole chromosomes
        for split, fraction in (("test", 0.1), ("validation", 0.1)):
            share = sum(g.length for g, s in zip(genes, splits) if s == split)
            assert abs(share - fraction * total) <= largest / 2
        assignments.append(splits)
    assert assignments[0] != assignments[1] or assignments[0] != assignments[2]


def test_a_random_chromosome_split_of_few_chromosomes_writes_empty_files(genome, tmp_path):
    out = tmp_path / "out"
    summary = data.create_data(*genome, out, split="random")
    # three contigs of ~33% each: none brings test or validation closer to 10%
    assert summary.splits["test"].windows == 0 and summary.splits["validation"].windows == 0
    with SpliceData(out / "test.h5") as reader:
        assert len(reader) == 0
    with SpliceData(out / "train.h5") as reader:
        assert len(reader) == 18


def test_split_option_conflicts_are_errors(genome, tmp_path):
    with pytest.raises(ValueError, match="--split-by gene"):
        SplitOptions.resolve("human", by="gene")
    with pytest.raises(ValueError, match="cannot be combined"):
        SplitOptions.resolve("random", test_chroms=["chr1"])
    with pytest.raises(ValueError, match="both test and validation"):
        SplitOptions.resolve(test_chroms=["chr1"], val_chroms=["1"])
    assert SplitOptions.resolve(by="gene").method == "random"
    assert SplitOptions.resolve().test_chroms == HUMAN_TEST_CHROMS


# --------------------------------------------------------------------------- command line


def test_cli_end_to_end(genome, tmp_path):
    out = tmp_path / "out"
    result = cli("-R", genome[0], "-A", genome[1], "-o", out, "--split", "random",
                 "--split-by", "gene", "--seed", "3", "--flank-sequence", "genome")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "acceptor_sites" in result.stderr and "wrote 18 windows" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "summary.tsv", "test.h5", "train.h5", "validation.h5"
    ]  # fmt: skip
    text = (out / "summary.tsv").read_text()
    rows = [line.split("\t") for line in text.split("\n\n")[0].splitlines()]
    table = {row[0]: dict(zip(rows[0], row)) for row in rows[1:]}
    for split in ("train", "validation", "test"):
        found = read_split(out / f"{split}.h5")
        row = table[split]
        assert int(row["windows"]) == len(found["y"]) == found["attrs"]["windows"]
        assert int(row["genes"]) == len(set(found["gene"]))
        assert int(row["acceptor_sites"]) == int((found["y"] == 1).sum())
        assert int(row["donor_sites"]) == int((found["y"] == 2).sum())
        assert found["chunks"] == ((1, WIDTH, 4), "gzip")
        attrs = found["attrs"]
        assert attrs["format"] == "spliceannot-splice-data" and attrs["seed"] == 3
        assert attrs["split_method"] == "random" and attrs["flank_sequence"] == "genome"
        assert attrs["biotype"] == "protein_coding" and attrs["fasta"] == os.path.abspath(genome[0])
    assert table["total"]["windows"] == "18"


def test_existing_output_needs_force(genome, tmp_path):
    out = tmp_path / "out"
    args = ["-R", genome[0], "-A", genome[1], "-o", out, "--split-by", "gene"]
    assert cli(*args).exit_code == 0
    again = cli(*args)
    assert again.exit_code == 2 and "--force" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    assert cli(*args, "--force").exit_code == 0


def test_no_biotype_attributes_fail_with_a_hint(genome, tmp_path):
    gtf = tmp_path / "bare.gtf"
    text = re.sub(r' (gene|transcript)_biotype "[^"]*";', "", genome[1].read_text())
    gtf.write_text(text)
    result = cli("-R", genome[0], "-A", gtf, "-o", tmp_path / "out")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no biotype attributes" in lines[0] and "--biotype all" in lines[0]
    assert not (tmp_path / "out").exists()
    ok = cli("-R", genome[0], "-A", gtf, "-o", tmp_path / "out", "--biotype", "all")
    assert ok.exit_code == 0, ok.stderr


def test_seqids_all_absent_from_the_fasta_fail(genome, tmp_path):
    gtf = tmp_path / "other.gtf"
    gtf.write_text(re.sub(r"^chr", "scaffold", genome[1].read_text(), flags=re.M))
    result = cli("-R", genome[0], "-A", gtf, "-o", tmp_path / "out")
    assert result.exit_code == 2
    assert "is a contig of the FASTA" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_genes_are_skipped_and_counted(genome, tmp_path):
    tail = 'gene_biotype "protein_coding"; transcript_biotype "protein_coding";'

    def line(chrom, feature, start, end, strand, tx):
        ids = f'gene_id "{tx}"; transcript_id "{tx}"; gene_name "{tx}";'
        return f"{chrom}\tt\t{feature}\t{start}\t{end}\t.\t{strand}\t.\t{ids} {tail}"

    bad = [
        line("chrUn", "exon", 100, 200, "+", "ELSEWHERE"),  # seqid not in the FASTA
        line("chr1", "transcript", 100, 200, "+", "NOEXONS"),  # a transcript without exons
        line("chr2", "exon", 300, 250, "+", "EMPTY"),  # end < start
        line("chr3", "exon", 200, 400, "+", "TRANS"),
        line("chr3", "exon", 500, 600, "-", "TRANS"),  # off its transcript's strand: dropped
        line("chr3", "exon", 50, 300, "-", "SINGLE"),  # single exon: kept, no sites
    ]
    gtf = tmp_path / "bad.gtf"
    gtf.write_text(genome[1].read_text() + "\n".join(bad) + "\n")
    out = tmp_path / "out"
    result = cli("-R", genome[0], "-A", gtf, "-o", out, "--split-by", "gene")
    assert result.exit_code == 0, result.stderr
    counts = summary_counts(out)
    assert counts[SKIP_NOT_IN_FASTA] == 1
    assert counts[SKIP_NO_EXONS] >= 1 and counts[SKIP_EMPTY] == 1
    assert counts[SKIP_TRANS_SPLICED] == 1
    assert counts[NOTE_SINGLE_EXON] == 2  # SINGLE, and TRANS once its - exon is gone
    genes = sum((genes_of(out / f"{s}.h5") for s in ("train", "validation", "test")), [])
    assert "SINGLE" in genes and "TRANS" in genes and "ELSEWHERE" not in genes
    assert "skipped" in result.stderr


def test_a_failing_run_leaves_no_files(genome, tmp_path):
    fasta = tmp_path / "broken.fa.gz"
    packed = gzip.compress(genome[0].read_bytes())
    fasta.write_bytes(packed[: len(packed) // 2])  # truncated in chr2
    index = "".join(f"{name}\t1\t0\t60\t61\n" for name in ("chr1", "chr2", "chr3"))
    Path(str(fasta) + ".fai").write_text(index)  # names only: the file itself is never indexed
    out = tmp_path / "out"
    result = cli("-R", fasta, "-A", genome[1], "-o", out, "--split-by", "gene")
    assert result.exit_code == 2 and "cannot read FASTA" in result.stderr
    assert list(out.iterdir()) == []


# --------------------------------------------------------------------------- paralogs


def test_remove_paralogs_without_mappy_says_how_to_install_it(genome, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "mappy", None)  # makes `import mappy` fail
    result = cli("-R", genome[0], "-A", genome[1], "-o", tmp_path / "out", "--remove-paralogs")
    assert result.exit_code == 2 and "pip install mappy" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_remove_paralogs_drops_a_train_copy_of_a_test_gene(genome, tmp_path):
    pytest.importorskip("mappy")
    fasta, annotation = genome
    contigs = read_fasta(fasta)
    chrom, strand, exons = planted(annotation)["SYN1_2"]
    start, end = exons[0][0] - 200, exons[-1][1] + 200
    contigs["chr4"] = "ACGT" * 250 + contigs[chrom][start:end] + "TTGCA" * 200
    shift = 1000 - start
    attributes = (
        'gene_id "COPY"; transcript_id "COPY.1"; gene_name "COPY"; gene_biotype "protein_coding";'
    )
    extra = [
        f"chr4\tt\texon\t{s + shift + 1}\t{e + shift}\t.\t{strand}\t.\t{attributes}"
        for s, e in exons
    ]
    gtf = tmp_path / "copy.gtf"
    gtf.write_text(annotation.read_text() + "\n".join(extra) + "\n")
    out = tmp_path / "out"
    copy = write_fasta(tmp_path / "copy.fa", contigs)
    summary = data.create_data(
        copy, gtf, out, test_chroms=["chr1"], val_chroms=["chr2"], remove_paralogs=True
    )
    removed = (out / "paralogs_removed.tsv").read_text().splitlines()
    assert len(removed) == 2 and removed[1].split("\t")[:2] == ["train", "COPY"]
    assert removed[1].split("\t")[6] == "SYN1_2"
    train = genes_of(out / "train.h5")
    assert "COPY" not in train and len(train) == 6  # chr3's genes, unrelated, all stay
    assert summary.skipped[data.NOTE_PARALOGS] == 1
    assert summary_counts(out)[data.NOTE_PARALOGS] == 1

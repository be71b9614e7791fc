"""FASTA indexes: built atomically (runs started together all see every contig), checked before
use (empty, cut-off, stale), kept in the cache when the FASTA's directory is read-only, and
FASTAs htslib cannot index explained with their line."""

from __future__ import annotations

import logging
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from spliceannot.errors import InputError
from spliceannot.readers.fasta import Reference

CONTIGS = 40
LENGTH = 25_000


def _genome(seed: int = 3) -> dict[str, str]:
    rng = random.Random(seed)
    return {
        f"ctg{k}": "".join(rng.choice("ACGT") for _ in range(LENGTH + 37 * k))
        for k in range(CONTIGS)
    }


def _fasta_text(genome: dict[str, str], width: int = 60, newline: str = "\n") -> str:
    lines = []
    for name, sequence in genome.items():
        lines.append(f">{name} some description")
        lines += [sequence[i : i + width] for i in range(0, len(sequence), width)]
    return newline.join(lines) + newline


@pytest.fixture(scope="module")
def genome() -> dict[str, str]:
    return _genome()


@pytest.fixture(params=["plain", "bgzip"])
def fasta(request, tmp_path, genome) -> Path:
    """An unindexed FASTA of many contigs (plain or bgzip-compressed)."""
    path = tmp_path / "genome.fa"
    path.write_text(_fasta_text(genome))
    if request.param == "bgzip":
        subprocess.run(["bgzip", "-f", str(path)], check=True)
        path = tmp_path / "genome.fa.gz"
    return path


def _lengths(path: Path) -> dict[str, int]:
    reference = Reference(path)
    try:
        return dict(reference.lengths)
    finally:
        reference.close()


def _expected(genome) -> dict[str, int]:
    return {name: len(sequence) for name, sequence in genome.items()}


OPEN_AND_REPORT = """
import os, sys, time
from spliceannot.readers.fasta import Reference
fasta, ready, go, delay = sys.argv[1:5]
open(ready, "w").close()
while not os.path.exists(go):  # the runs open the FASTA within a few milliseconds of each other
    time.sleep(0.0005)
time.sleep(float(delay))
reference = Reference(fasta)
print(len(reference.lengths), sum(reference.lengths.values()), reference.fetch("ctg19999", 10, 20))
"""


@pytest.mark.parametrize("compression", ["plain", "bgzip"])
def test_runs_started_together_on_an_unindexed_fasta_all_see_every_contig(tmp_path, compression):
    rng = random.Random(5)
    # many short contigs: a long .fai, written while other runs already look for it
    many = {f"ctg{k}": "".join(rng.choices("ACGT", k=rng.randrange(30, 90))) for k in range(20_000)}
    fasta = tmp_path / "data" / "genome.fa"
    fasta.parent.mkdir()
    fasta.write_text(_fasta_text(many))
    if compression == "bgzip":
        subprocess.run(["bgzip", "-f", str(fasta)], check=True)
        fasta = fasta.with_name("genome.fa.gz")
    runs = [
        subprocess.Popen([sys.executable, "-c", OPEN_AND_REPORT, str(fasta), str(tmp_path / f"ready{k}"),
                          str(tmp_path / "go"), str(0.004 * k)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
        for k in range(10)
    ]  # fmt: skip
    while len(list(tmp_path.glob("ready*"))) < len(runs) and all(
        run.poll() is None for run in runs
    ):
        time.sleep(0.01)
    (tmp_path / "go").touch()
    expected = f"{len(many)} {sum(map(len, many.values()))} {many['ctg19999'][10:20]}"
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
        assert out.strip() == expected  # every run sees every contig
    assert _lengths(fasta) == {name: len(sequence) for name, sequence in many.items()}
    leftovers = sorted(p.name for p in fasta.parent.iterdir() if p.name.startswith("."))
    assert leftovers == []  # no temporary index left behind


def _damaged(text: str) -> dict[str, str]:
    lines = text.splitlines(keepends=True)
    return {
        "empty": "",
        "cut in a line": text[: len(text) // 2],
        "cut at a line end": "".join(lines[: len(lines) // 2]),
        "first line only": lines[0],
    }


@pytest.mark.parametrize(
    "damage", ["empty", "cut in a line", "cut at a line end", "first line only"]
)
def test_an_empty_or_cut_off_index_is_built_again(fasta, genome, damage, caplog):
    assert _lengths(fasta) == _expected(genome)
    fai = Path(f"{fasta}.fai")
    complete = fai.read_text()
    fai.write_text(_damaged(complete)[damage])
    with caplog.at_level(logging.WARNING, logger="spliceannot"):
        assert _lengths(fasta) == _expected(genome)  # never a silent subset of the contigs
    assert fai.read_text() == complete
    assert any(str(fai) in r.getMessage() and "again" in r.getMessage() for r in caplog.records)


def test_a_missing_or_cut_off_gzi_is_built_again(tmp_path, genome):
    path = tmp_path / "genome.fa"
    path.write_text(_fasta_text(genome))
    subprocess.run(["bgzip", "-f", str(path)], check=True)
    fasta = tmp_path / "genome.fa.gz"
    assert _lengths(fasta) == _expected(genome)
    gzi = Path(f"{fasta}.gzi")
    complete = gzi.read_bytes()
    for damaged in (None, complete[:-5], b""):
        if damaged is None:
            gzi.unlink()
        else:
            gzi.write_bytes(damaged)
        assert _lengths(fasta) == _expected(genome)
        assert gzi.read_bytes() == complete


@pytest.mark.parametrize("change", ["length", "offset", "width"])
def test_an_index_of_another_fasta_is_refused_naming_it(fasta, genome, change):
    _lengths(fasta)
    fai = Path(f"{fasta}.fai")
    lines = fai.read_text().splitlines()
    fields = lines[-1].split("\t")
    column = {"length": 1, "offset": 2, "width": 4}[change]
    fields[column] = str(int(fields[column]) + (1 if change != "length" else -1))
    lines[-1] = "\t".join(fields)
    fai.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as caught:
        Reference(fasta)
    message = str(caught.value)
    assert (
        message.startswith(f"{fai}:{CONTIGS}: index does not match {fasta}") and "\n" not in message
    )


BAD_FASTAS = {
    "blank line": (
        ">c1\nACGTACGT\n\nACGTACGT\nACG\n>c2\nTTTT\n",
        "line 3: blank line inside the sequence of c1",
    ),
    "mixed line endings": (
        ">c1\nACGTACGT\nACGTACGT\r\nACGTACGT\nAC\n",
        "line 3: mixed line endings (CRLF and LF) in the sequence of c1",
    ),
    "unequal lines": (
        ">c1\nACGTACGT\nACGTAC\nACGTACGT\n",
        "line 3: a sequence line of 6 bases inside c1",
    ),
    "longer line": (
        ">c1\nACGTACGT\nACGTACGTAA\nAC\n",
        "line 3: a sequence line of 10 bases inside c1",
    ),
    "no header": (
        "ACGTACGT\nACGT\n",
        "line 1: sequence before the first '>' header: not a FASTA file",
    ),
    "empty": ("", "no '>' header line (not a FASTA file)"),
}


@pytest.mark.parametrize("name", sorted(BAD_FASTAS))
def test_a_fasta_htslib_cannot_index_is_explained_with_its_line(tmp_path, name):
    text, expected = BAD_FASTAS[name]
    path = tmp_path / "bad.fa"
    path.write_bytes(text.encode())
    with pytest.raises(InputError) as caught:
        Reference(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and expected in message and "\n" not in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.fa"]  # nothing half-written


def test_crlf_throughout_and_blank_lines_between_contigs_are_fine(tmp_path, genome):
    small = {name: genome[name][:500] for name in ("ctg1", "ctg2")}
    crlf = tmp_path / "crlf.fa"
    crlf.write_bytes(_fasta_text(small, newline="\r\n").encode())
    spaced = tmp_path / "spaced.fa"
    spaced.write_text(_fasta_text(small).replace("\n>", "\n\n\n>"))
    for path in (crlf, spaced):
        reference = Reference(path)
        assert reference.lengths == {"ctg1": 500, "ctg2": 500}
        assert reference.fetch("ctg2", 430, 440) == small["ctg2"][430:440]
        reference.close()
        assert _lengths(path) == {"ctg1": 500, "ctg2": 500}  # the index it built is accepted


def test_an_unreadable_index_is_one_line(tmp_path, genome):
    path = tmp_path / "genome.fa"
    path.write_text(_fasta_text({"c": genome["ctg0"][:100]}))
    Path(f"{path}.fai").mkdir()
    with pytest.raises(
        InputError, match=r"genome\.fa\.fai: cannot read the FASTA index: Is a directory$"
    ):
        Reference(path)


def test_a_gzip_fasta_is_refused_with_the_bgzip_fix(tmp_path, genome):
    import gzip

    path = tmp_path / "genome.fa.gz"
    path.write_bytes(gzip.compress(_fasta_text({"c": genome["ctg0"][:100]}).encode()))
    with pytest.raises(
        InputError, match=r"genome\.fa\.gz: .*bgzip-compressed: `zcat ref.fa.gz \| bgzip"
    ):
        Reference(path)


def test_the_annotate_command_gives_one_line_and_no_output(tmp_path, tiny_model, chr16_table):
    from click.testing import CliRunner

    from spliceannot.cli import main

    fasta = tmp_path / "blank.fa"
    fasta.write_text(">chr16\nACGTACGT\n\nACGTACGT\n")
    vcf = tmp_path / "in.vcf"
    vcf.write_text(
        "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\nchr16\t5\t.\tA\tG\t.\t.\t.\n"
    )
    out = tmp_path / "out.vcf"
    result = CliRunner().invoke(main, ["annotate", "-I", str(vcf), "-O", str(out), "-R", str(fasta),
                                       "-A", str(chr16_table), "-m", str(tiny_model), "--workers", "1"])  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and f"{fasta}: line 3: blank line inside" in result.stderr
    assert not out.exists()


# ----------------------------------------------------------------------------- read-only directories


@pytest.fixture
def read_only_copy(tmp_path, genome):
    """A read-only bind mount of a directory holding an unindexed FASTA (root ignores permissions)."""
    source = tmp_path / "source"
    source.mkdir()
    (source / "genome.fa").write_text(
        _fasta_text({name: genome[name] for name in ("ctg0", "ctg1")})
    )
    target = tmp_path / "ro"
    target.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    bound = subprocess.run(
        ["mount", "--bind", str(source), str(target)], check=False, capture_output=True
    )
    if bound.returncode != 0:
        pytest.skip(f"cannot bind-mount here: {bound.stderr.decode().strip()}")
    try:
        remounted = subprocess.run(
            ["mount", "-o", "remount,ro,bind", str(target)], check=False, capture_output=True
        )
        if remounted.returncode != 0:
            pytest.skip(f"cannot remount read-only here: {remounted.stderr.decode().strip()}")
        yield target / "genome.fa"
    finally:
        subprocess.run(["umount", str(target)], check=False)


def test_a_read_only_directory_keeps_the_index_in_the_cache(
    read_only_copy, tmp_path, monkeypatch, caplog, genome
):
    monkeypatch.setenv("SPLICEANNOT_CACHE", str(tmp_path / "cache"))
    with caplog.at_level(logging.WARNING, logger="spliceannot"):
        assert _lengths(read_only_copy) == {"ctg0": LENGTH, "ctg1": LENGTH + 37}
    (warning,) = [r.getMessage() for r in caplog.records]
    assert f"cannot write {read_only_copy}.fai" in warning and str(tmp_path / "cache") in warning
    (kept,) = (tmp_path / "cache" / "fasta-index").glob("genome.fa.*.fai")
    stamp = kept.stat().st_mtime_ns
    caplog.clear()
    reference = Reference(read_only_copy)
    assert reference.fetch("ctg1", 0, 20) == genome["ctg1"][:20]
    reference.close()
    assert kept.stat().st_mtime_ns == stamp  # reused, not built again
    assert sorted(p.name for p in read_only_copy.parent.iterdir()) == ["genome.fa"]


def test_no_writable_place_for_the_index_is_one_line(read_only_copy, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    monkeypatch.setenv("SPLICEANNOT_CACHE", str(blocker))
    with pytest.raises(InputError) as caught:
        Reference(read_only_copy)
    message = str(caught.value)
    assert message.startswith(
        f"cannot write index {read_only_copy}.fai: read-only file system (directory not writable)"
    )
    assert "samtools faidx" in message and "SPLICEANNOT_CACHE" in message and "\n" not in message


def test_the_cache_copy_of_an_index_follows_the_fasta(tmp_path, monkeypatch, genome):
    """An index kept in the cache is named by the FASTA's path, size and time: an edited FASTA gets a new one."""
    from spliceannot.readers.fasta_index import _cache_location

    monkeypatch.setenv("SPLICEANNOT_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "genome.fa"
    path.write_text(_fasta_text({"ctg0": genome["ctg0"][:300]}))
    first = _cache_location(path, False)
    path.write_text(_fasta_text({"ctg0": genome["ctg0"][:301]}))
    assert _cache_location(path, False) != first
    assert os.path.dirname(first.fai) == str(tmp_path / "cache" / "fasta-index")

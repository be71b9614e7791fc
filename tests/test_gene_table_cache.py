"""Derived gene tables: a GTF/GFF3 is parsed once, its rows read back unchanged; damage is never trusted."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from pathlib import Path

import pytest

from spliceannot.errors import InputError
from spliceannot.readers.annotation import load_annotation
from spliceannot.readers.gene_table_cache import cached_gene_models, default_table_dir, table_key
from spliceannot.readers.gtf import read_gene_models

DATA = Path(__file__).parent / "data"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
FILES = [
    DATA / "gencode_like.gtf",
    DATA / "refseq.hg38.region.gtf",
    DATA / "hierarchy.gff3",
    DATA / "odd_features.gtf",
    EXAMPLES / "chr16_genes.gtf.gz",
]
OPTIONS = [("canonical", None), ("all", None), ("all", "protein_coding")]


def _never(*_):
    raise AssertionError("the file was parsed although a valid derived table was there")


def _fresh(path, transcripts="canonical", biotype=None):
    return read_gene_models(path, transcripts=transcripts, biotype=biotype)


@pytest.mark.parametrize(("transcripts", "biotype"), OPTIONS)
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_rows_read_back_are_a_fresh_parse_in_the_same_order(tmp_path, path, transcripts, biotype):
    expected = _fresh(path, transcripts, biotype)
    first = read_gene_models(path, transcripts=transcripts, biotype=biotype, cache_dir=tmp_path)
    (table,) = tmp_path.iterdir()
    again = cached_gene_models(
        str(path), _never, tmp_path, transcripts=transcripts, biotype=biotype
    )
    assert first == again == expected  # rows in order, gene and candidate counts, skip counts
    assert table.name == table_key(path, transcripts=transcripts, biotype=biotype) + ".tsv"


def test_load_annotation_keeps_the_table_in_the_cache_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("SPLICEANNOT_CACHE", str(tmp_path / "cache"))
    gtf = tmp_path / "genes.gtf"
    shutil.copy(DATA / "gencode_like.gtf", gtf)
    assert default_table_dir() == tmp_path / "cache" / "gene-tables"
    first = load_annotation(str(gtf), transcripts="all")
    assert len(list(default_table_dir().iterdir())) == 1
    gtf.write_text(gtf.read_text().replace('gene_name "GENEA"', 'gene_name "RENAMED"'))  # same size
    edited = load_annotation(str(gtf), transcripts="all")
    assert "RENAMED" in {row.name for row in edited.transcripts}  # never the stale rows
    assert "GENEA" in {row.name for row in first.transcripts}
    assert len(list(default_table_dir().iterdir())) == 2
    assert (
        load_annotation(str(gtf), transcripts="all", cache=False).transcripts == edited.transcripts
    )


def test_each_row_selecting_option_has_its_own_table(tmp_path):
    for transcripts, biotype in OPTIONS:
        read_gene_models(
            DATA / "gencode_like.gtf", transcripts=transcripts, biotype=biotype, cache_dir=tmp_path
        )
    assert len(list(tmp_path.iterdir())) == len(OPTIONS)
    for transcripts, biotype in OPTIONS:
        got = cached_gene_models(
            str(DATA / "gencode_like.gtf"),
            _never,
            tmp_path,
            transcripts=transcripts,
            biotype=biotype,
        )
        assert got == _fresh(DATA / "gencode_like.gtf", transcripts, biotype)


def _damage_cases(text: bytes, other: bytes) -> dict[str, bytes]:
    middle = len(text) // 2
    row = text.index(b"\nGENEA\t") + 1
    return {
        "empty": b"",
        "truncated": text[:middle],
        "without its last line": text[: text.rindex(b"##end")],
        "a changed coordinate": text[:row] + text[row:].replace(b"\t99\t", b"\t98\t", 1),
        "another file's table": other,
        "binary garbage": os.urandom(300),
        "a row dropped, checksum redone": _resealed(text.decode().split("\n")),
    }


def _resealed(lines: list[str]) -> bytes:
    """The table without its first row, with a checksum that matches (the row count does not)."""
    body = "\n".join(lines[:2] + lines[3:-2]) + "\n"
    return (body + f"##end sha256={hashlib.sha256(body.encode()).hexdigest()}\n").encode()


def test_a_damaged_table_is_ignored_and_rebuilt(tmp_path, caplog):
    gtf = DATA / "gencode_like.gtf"
    expected = _fresh(gtf, "all")
    read_gene_models(gtf, transcripts="all", cache_dir=tmp_path)
    (table,) = tmp_path.iterdir()
    good = table.read_bytes()
    other_dir = tmp_path / "other"
    read_gene_models(DATA / "refseq.hg38.region.gtf", transcripts="all", cache_dir=other_dir)
    (other,) = other_dir.iterdir()
    for name, damaged in _damage_cases(good, other.read_bytes()).items():
        assert damaged != good, name
        table.write_bytes(damaged)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="spliceannot"):
            got = read_gene_models(gtf, transcripts="all", cache_dir=tmp_path)
        assert got == expected, name
        assert any("ignoring the derived table" in r.getMessage() for r in caplog.records), name
        assert table.read_bytes() == good, name  # rebuilt
        assert (
            cached_gene_models(str(gtf), _never, tmp_path, transcripts="all", biotype=None)
            == expected
        )


def test_an_unwritable_cache_directory_warns_and_parses(tmp_path, caplog, monkeypatch):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the cache directory would be\n")  # fails even for root
    monkeypatch.setenv("SPLICEANNOT_CACHE", str(blocker))
    with caplog.at_level(logging.WARNING, logger="spliceannot"):
        annotation = load_annotation(str(DATA / "gencode_like.gtf"))
    assert annotation.transcripts == _fresh(DATA / "gencode_like.gtf").transcripts
    (warning,) = [r.getMessage() for r in caplog.records if "cannot keep" in r.getMessage()]
    assert str(DATA / "gencode_like.gtf") in warning and "parsed again on every run" in warning
    assert blocker.read_text().startswith("a file where")


def test_a_file_without_transcripts_is_refused_and_nothing_is_kept(tmp_path):
    genes_only = tmp_path / "genes-only.gtf"
    genes_only.write_text('chr1\tt\tgene\t10\t500\t.\t+\t.\tgene_id "G1"; gene_name "ONE";\n')
    with pytest.raises(InputError, match="no transcripts with exons found"):
        read_gene_models(genes_only, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


def test_a_pipe_is_parsed_and_not_kept(tmp_path):
    import threading

    pipe = tmp_path / "genes.gtf"
    os.mkfifo(pipe)
    text = (DATA / "gencode_like.gtf").read_bytes()
    writer = threading.Thread(target=pipe.write_bytes, args=(text,))
    writer.start()
    try:
        got = read_gene_models(pipe, transcripts="all", cache_dir=tmp_path / "cache")
    finally:
        writer.join(timeout=10)
    assert got == _fresh(DATA / "gencode_like.gtf", "all")
    assert not (tmp_path / "cache").exists()


def test_a_missing_file_is_the_parsers_one_line_error(tmp_path):
    with pytest.raises(InputError, match="missing.gtf: cannot read GTF/GFF3"):
        read_gene_models(tmp_path / "missing.gtf", cache_dir=tmp_path / "cache")

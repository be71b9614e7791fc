"""GTF/GFF3 -> SpliceAI-style transcript rows, and the ``gene-table`` command."""

from __future__ import annotations

import gzip
import io
import logging
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from spliceannot.cli import main
from spliceannot.errors import InputError
from spliceannot.readers.annotation import load_annotation, read_table, write_table
from spliceannot.readers.gtf import read_gene_models, read_gtf_transcripts
from spliceannot.readers.gtf_features import (
    SKIP_EMPTY,
    SKIP_NO_EXONS,
    SKIP_NO_TRANSCRIPT,
    SKIP_TRANS_SPLICED,
    SKIP_UNSTRANDED,
)
from spliceannot.readers.transcript import Transcript

DATA = Path(__file__).parent / "data"
REFSEQ = DATA / "refseq.hg38.region.gtf"  # UCSC refGene GTF, exon/CDS lines only
GENCODE_LIKE = DATA / "gencode_like.gtf"
GFF3 = DATA / "hierarchy.gff3"
ODD = DATA / "odd_features.gtf"


def _by_name(rows: list[Transcript]) -> dict[str, list[Transcript]]:
    found: dict[str, list[Transcript]] = {}
    for row in rows:
        found.setdefault(row.name, []).append(row)
    return found


def _refseq_exons_from_text() -> dict[str, set[tuple[int, int]]]:
    """Exons per transcript_id straight from the GTF text, as 0-based half-open pairs."""
    exons: dict[str, set[tuple[int, int]]] = {}
    for line in REFSEQ.read_text().splitlines():
        fields = line.split("\t")
        if fields[2] == "exon":
            transcript_id = fields[8].split('transcript_id "')[1].split('"')[0]
            exons.setdefault(transcript_id, set()).add((int(fields[3]) - 1, int(fields[4])))
    return exons


# --- real RefSeq GTF -------------------------------------------------------------------


def test_refseq_known_transcripts_match_the_gtf_text():
    rows = _by_name(read_gtf_transcripts(REFSEQ, transcripts="all"))
    # NR_024453: exons 195278-195514, 196327-196466, 204804-205997 (1-based, + strand)
    (nr,) = rows["NR_024453"]
    assert (nr.chrom, nr.strand, nr.tx_start, nr.tx_end) == ("chr16", "+", 195277, 205997)
    assert nr.exon_starts == (195277, 196326, 204803)
    assert nr.exon_ends == (195514, 196466, 205997)
    # NM_001176: six exons, the last one 95652-96040
    (nm,) = rows["NM_001176"]
    assert len(nm.exon_starts) == 6
    assert (nm.exon_starts[-1], nm.exon_ends[-1]) == (95651, 96040)
    # a minus-strand one
    (minus,) = rows["NM_006428"]
    assert minus.strand == "-" and (minus.tx_start, minus.tx_end) == (180420, 183606)


def test_refseq_every_transcript_matches_its_exon_lines():
    expected = _refseq_exons_from_text()
    rows = read_gtf_transcripts(REFSEQ, transcripts="all")
    assert sorted(row.name for row in rows) == sorted(expected)
    for row in rows:
        assert set(zip(row.exon_starts, row.exon_ends)) == expected[row.name]
        assert list(row.exon_starts) == sorted(row.exon_starts)
        assert row.tx_start == min(row.exon_starts) and row.tx_end == max(row.exon_ends)


def test_refseq_accession_is_the_gene_so_canonical_equals_all():
    canonical = read_gene_models(REFSEQ, transcripts="canonical")
    everything = read_gene_models(REFSEQ, transcripts="all")
    assert canonical.genes == everything.genes == 17
    assert canonical.transcripts == everything.transcripts
    assert canonical.skipped == {}
    starts = [row.tx_start for row in everything.transcripts]
    assert starts == sorted(starts)


# --- GENCODE-style GTF: selection, biotypes, order --------------------------------------


def test_gencode_like_canonical_selection():
    rows = read_gtf_transcripts(GENCODE_LIKE)
    assert [row.name for row in rows] == ["GENEE", "GENEA", "GENEB", "GENEC", "ENSG_D"]
    chosen = {row.name: row for row in rows}
    # Ensembl_canonical wins over the longer, longer-CDS ENST_A1
    assert (chosen["GENEA"].tx_start, chosen["GENEA"].tx_end) == (299, 4500)
    # no tag: the longest CDS (ENST_B2) wins over the most exonic bases (ENST_B1)
    assert chosen["GENEB"].exon_starts == (10499, 14999, 18999)
    # no CDS: exonic length ties between C2 and C3, the longer span (C3) wins
    assert chosen["GENEC"].exon_starts == (31999, 39850)
    # everything ties: the first in the file (D2), and the name falls back to gene_id
    assert chosen["ENSG_D"].tx_start == 50199


def test_gencode_like_all_transcripts_and_order():
    models = read_gene_models(GENCODE_LIKE, transcripts="all")
    assert len(models.transcripts) == models.candidates == 11
    assert models.genes == 5
    # chromosomes in order of first appearance (chr2 first), then tx_start
    assert [row.chrom for row in models.transcripts] == ["chr2"] + ["chr1"] * 10
    starts = [row.tx_start for row in models.transcripts[1:]]
    assert starts == sorted(starts)


@pytest.mark.parametrize(
    ("transcripts", "expected"),
    [
        ("all", ["GENEE", "GENEA", "GENEA", "GENEB", "GENEB"]),
        ("canonical", ["GENEE", "GENEA", "GENEB"]),
    ],
)
def test_biotype_filter_checks_gene_and_transcript(transcripts, expected):
    rows = read_gtf_transcripts(GENCODE_LIKE, transcripts=transcripts, biotype="protein_coding")
    # ENST_A3 is a retained_intron transcript of a protein_coding gene: dropped
    assert [row.name for row in rows] == expected
    assert all(row.exon_starts != (999,) for row in rows)


def test_biotype_without_matching_attributes_keeps_nothing():
    assert read_gtf_transcripts(GENCODE_LIKE, biotype="snoRNA") == []
    assert read_gtf_transcripts(REFSEQ, biotype="protein_coding") == []  # no biotype attributes


def test_gene_name_prefers_any_name_over_gene_id(tmp_path):
    path = tmp_path / "names.gtf"
    gene = 'gene_id "G1";'
    path.write_text(
        f"chr1\tt\tgene\t1\t100\t.\t+\t.\t{gene}\n"  # gene line without gene_name
        f'chr1\tt\texon\t1\t100\t.\t+\t.\t{gene} transcript_id "T1"; gene_name "FROMTX";\n'
        f'chr1\tt\texon\t1\t100\t.\t-\t.\tgene_id "G2"; transcript_id "T2";\n'
    )
    assert [row.name for row in read_gtf_transcripts(path)] == ["FROMTX", "G2"]


def test_duplicate_ids_do_not_crash(tmp_path):
    gtf = tmp_path / "par.gtf"  # GRCh37 GENCODE repeats PAR IDs on chrX and chrY
    ids = 'gene_id "G"; transcript_id "T"; gene_name "PAR1";'
    gtf.write_text(
        "".join(
            f"{chrom}\tt\t{kind}\t{start}\t{start + 99}\t.\t+\t.\t{ids}\n"
            for chrom, start in (("chrX", 1000), ("chrY", 5000))
            for kind in ("transcript", "exon", "exon")
        )
    )
    rows = read_gtf_transcripts(gtf, transcripts="all")
    assert [(row.chrom, row.tx_start, row.exon_starts) for row in rows] == [
        ("chrX", 999, (999,)),
        ("chrY", 4999, (4999,)),
    ]
    gff3 = tmp_path / "twice.gff3"
    mrna = "chrA\tt\tmRNA\t1\t100\t.\t-\t.\tID=t1;Name=X;gene=X\n"
    gff3.write_text(mrna + mrna + "chrA\tt\texon\t1\t100\t.\t-\t.\tParent=t1\n")
    assert [row.name for row in read_gtf_transcripts(gff3, transcripts="all")] == ["X"]


# --- GFF3 ------------------------------------------------------------------------------


def test_gff3_hierarchy_canonical():
    models = read_gene_models(GFF3)
    rows = {row.name: row for row in models.transcripts}
    assert list(rows) == ["ALPHA", "BETA", "PSG1", "GAMMA", "ORPH", "DANGLE"]
    # tag=basic,Ensembl_canonical on T2; its second exon is shared with T1 (two Parents)
    assert rows["ALPHA"].exon_starts == (1199, 4999)
    assert rows["ALPHA"].exon_ends == (2000, 6000)
    # lnc_RNA under ncRNA_gene, exons listed out of order, minus strand
    assert (rows["BETA"].strand, rows["BETA"].exon_starts) == ("-", (19999, 23999))
    # exon directly under a pseudogene
    assert (rows["PSG1"].tx_start, rows["PSG1"].tx_end) == (29999, 31000)
    # "tag=MANE Select" (RefSeq spelling) beats the longer NM_1
    assert rows["GAMMA"].exon_starts == (39999, 43999)
    # a transcript without a gene takes its gene_name, not its Name
    assert rows["ORPH"].tx_start == 59999
    # an exon whose Parent has no line: a transcript known only by its exons
    assert (rows["DANGLE"].strand, rows["DANGLE"].tx_end) == ("-", 70100)


def test_gff3_all_and_skips():
    models = read_gene_models(GFF3, transcripts="all")
    names = [row.name for row in models.transcripts]
    assert names.count("ALPHA") == 2 and names.count("GAMMA") == 3
    assert len(names) == 9
    assert models.skipped == {
        SKIP_NO_TRANSCRIPT: 1,  # exon without Parent
        SKIP_TRANS_SPLICED: 1,  # rna-NM_3 exon on chrB
        SKIP_NO_EXONS: 1,  # rna-NM_4
    }
    # the trans-spliced transcript keeps its exon on its own chromosome
    (nm3,) = [row for row in models.transcripts if row.tx_start == 45999]
    assert nm3.chrom == "chrA" and nm3.exon_ends == (47000,)


def test_gff3_biotype_uses_gene_when_transcript_has_none():
    rows = read_gtf_transcripts(GFF3, biotype="protein_coding")
    assert [row.name for row in rows] == ["ALPHA", "GAMMA"]


# --- odd features, gzip, round trip ----------------------------------------------------------


def test_odd_features_are_skipped_counted_and_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="spliceannot"):
        models = read_gene_models(ODD, transcripts="all")
    assert [(row.name, row.exon_starts, row.exon_ends) for row in models.transcripts] == [
        ("ODD1", (99, 299), (200, 400)),
        ("ODD3", (999,), (1100,)),
    ]
    assert models.skipped == {
        SKIP_NO_TRANSCRIPT: 1,
        SKIP_EMPTY: 1,
        SKIP_TRANS_SPLICED: 1,
        SKIP_UNSTRANDED: 1,
        SKIP_NO_EXONS: 1,
    }
    (record,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert str(ODD) in record.getMessage() and f"{SKIP_TRANS_SPLICED} (1)" in record.getMessage()


@pytest.mark.parametrize("source", [GENCODE_LIKE, GFF3])
def test_gzipped_input_gives_the_same_rows(tmp_path, source):
    compressed = tmp_path / "annotation.gz"  # no telling suffix: detected by content
    with open(source, "rb") as plain, gzip.open(compressed, "wb") as packed:
        shutil.copyfileobj(plain, packed)
    assert read_gtf_transcripts(compressed, transcripts="all") == read_gtf_transcripts(
        source, transcripts="all"
    )


@pytest.mark.parametrize("source", [REFSEQ, GENCODE_LIKE, GFF3])
def test_table_round_trips_through_read_table(tmp_path, source):
    rows = read_gtf_transcripts(source, transcripts="all")
    buffer = io.StringIO()
    write_table(rows, buffer)
    table = tmp_path / "table.txt"
    table.write_text(buffer.getvalue())
    assert read_table(table) == rows


def test_load_annotation_reads_gff3_by_suffix():
    annotation = load_annotation(str(GFF3), transcripts="all")
    assert len(annotation) == 9
    # 1-based position 1200 is the first base of ALPHA's T2 and inside T1
    hits = annotation.overlapping("chrA", 1200)
    assert [annotation.transcripts[i].name for i in hits] == ["ALPHA", "ALPHA"]


# --- bad input ---------------------------------------------------------------------------


def _gtf_line(start: str = "1", end: str = "10", strand: str = "+") -> str:
    return f'chr1\tt\texon\t{start}\t{end}\t.\t{strand}\t.\tgene_id "g"; transcript_id "t";\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (">chr1\nACGT\n", ":1: not a GTF/GFF3 line"),
        ("chr1\t10\t20\tname\n", ":1: not a GTF/GFF3 line"),
        ("#comment\n" + _gtf_line() + _gtf_line(start="1x"), ":3: not a GTF/GFF3 line"),
        (_gtf_line() + _gtf_line(start="-5"), ":2: coordinates must be positive"),
        (_gtf_line(start="0"), ":1: coordinates must be positive"),
        (_gtf_line(strand="up"), ":1: not a GTF/GFF3 line: strand"),
        ("##gff-version 3\n# nothing else\n", ": no GTF/GFF3 features found"),
        ("", ": no GTF/GFF3 features found"),
    ],
)
def test_bad_input_names_the_file_and_line(tmp_path, text, message):
    path = tmp_path / "bad.gtf"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        read_gtf_transcripts(path)
    text = str(caught.value)
    assert text.startswith(f"{path}{message}")
    assert "\n" not in text


NO_TRANSCRIPTS = {
    "genes-only.gtf": 'chr1\tt\tgene\t10\t500\t.\t+\t.\tgene_id "G1"; gene_name "ONE";\n'
    'chr1\tt\tgene\t900\t1500\t.\t-\t.\tgene_id "G2"; gene_name "TWO";\n',
    "transcripts-without-exons.gtf": 'chr1\tt\tgene\t10\t500\t.\t+\t.\tgene_id "G1";\n'
    'chr1\tt\ttranscript\t10\t500\t.\t+\t.\tgene_id "G1"; transcript_id "T1";\n'
    'chr1\tt\tCDS\t20\t400\t.\t+\t0\tgene_id "G1"; transcript_id "T1";\n',
    "mrna-without-exons.gff3": "##gff-version 3\nchr1\tt\tgene\t10\t500\t.\t+\t.\tID=g1\n"
    "chr1\tt\tmRNA\t10\t500\t.\t+\t.\tID=m1;Parent=g1\n",
    "exons-without-transcript-id.gtf": 'chr1\tt\texon\t10\t500\t.\t+\t.\tgene_id "G1";\n',
    "unstranded.gtf": 'chr1\tt\texon\t10\t500\t.\t.\t.\tgene_id "G1"; transcript_id "T1";\n',
}


@pytest.mark.parametrize("name", sorted(NO_TRANSCRIPTS))
def test_a_file_without_usable_transcripts_is_refused(tmp_path, name):
    path = tmp_path / name
    path.write_text(NO_TRANSCRIPTS[name])
    for transcripts in ("canonical", "all"):
        with pytest.raises(InputError) as caught:
            read_gene_models(path, transcripts=transcripts)
        text = str(caught.value)
        assert text.startswith(f"{path}: no transcripts with exons found; a GTF/GFF3 needs exon lines")
        assert "\n" not in text
    result = CliRunner().invoke(main, ["gene-table", str(path), "-o", str(tmp_path / "out.txt")])
    assert result.exit_code == 2 and "no transcripts with exons found" in result.stderr
    assert result.stderr.count("\n") == 1 and not (tmp_path / "out.txt").exists()


def test_a_biotype_no_transcript_has_gives_no_rows_but_is_not_an_error():
    assert read_gene_models(GENCODE_LIKE, biotype="snoRNA").transcripts == []


def test_unreadable_binary_and_truncated_files(tmp_path):
    with pytest.raises(InputError, match="cannot read GTF/GFF3"):
        read_gtf_transcripts(tmp_path / "missing.gtf")
    binary = tmp_path / "binary.gtf"
    binary.write_bytes(b"\xff\xfe\x00garbage\n")
    with pytest.raises(InputError, match=r"binary\.gtf:1: not a text"):
        read_gtf_transcripts(binary)
    truncated = tmp_path / "truncated.gtf.gz"
    truncated.write_bytes(gzip.compress(GENCODE_LIKE.read_bytes())[:300])
    with pytest.raises(InputError, match=r"truncated\.gtf\.gz.*cannot read GTF/GFF3"):
        read_gtf_transcripts(truncated)


def test_unknown_transcript_choice_is_a_programming_error():
    with pytest.raises(ValueError, match="transcripts must be one of"):
        read_gtf_transcripts(GFF3, transcripts="longest")


# --- the gene-table command ----------------------------------------------------------------


def test_cli_writes_the_table_to_stdout():
    result = CliRunner().invoke(main, ["gene-table", str(GENCODE_LIKE)])
    assert result.exit_code == 0, result.stderr
    expected = io.StringIO()
    write_table(read_gtf_transcripts(GENCODE_LIKE), expected)
    assert result.stdout == expected.getvalue()
    assert "wrote 5 rows" in result.stderr and "5 genes with 11 transcripts" in result.stderr


def test_cli_options_and_output_file(tmp_path):
    out = tmp_path / "genes.txt"
    arguments = ["-o", str(out), "--transcripts", "all", "--biotype", "protein_coding"]
    result = CliRunner().invoke(main, ["gene-table", str(GFF3), *arguments])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    rows = read_table(out)
    assert [row.name for row in rows] == ["ALPHA", "ALPHA", "GAMMA", "GAMMA", "GAMMA"]
    assert "skipped" in result.stderr  # the reader's warning reaches stderr
    assert [p.name for p in tmp_path.iterdir()] == ["genes.txt"]  # no partial file left


def test_cli_bad_file_exits_2_without_traceback(tmp_path):
    bad = tmp_path / "broken.gff3"
    bad.write_text("##gff-version 3\nchrA\tx\tgene\tone\t10\t.\t+\t.\tID=g\n")
    out = tmp_path / "out.txt"
    result = CliRunner().invoke(main, ["gene-table", str(bad), "-o", str(out)])
    assert result.exit_code == 2
    assert result.stderr.startswith("spliceannot gene-table: error: ")
    assert f"{bad}:2:" in result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    assert not out.exists()


def test_cli_unwritable_output_exits_2(tmp_path):
    out = tmp_path / "no-such-dir" / "genes.txt"
    result = CliRunner().invoke(main, ["gene-table", str(GFF3), "-o", str(out)])
    assert result.exit_code == 2
    assert "cannot write" in result.stderr and str(out) in result.stderr


def test_installed_command_runs(tmp_path):
    out = tmp_path / "refseq.txt"
    completed = subprocess.run(
        [sys.executable, "-m", "spliceannot", "gene-table", str(REFSEQ), "-o", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert read_table(out) == read_gtf_transcripts(REFSEQ)

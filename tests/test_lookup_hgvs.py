"""HGVS c. placement and the lookup's variant forms (pure: no model, no server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from spliceannot.lookup.hgvs import (
    CodingTranscript,
    HgvsError,
    parse_hgvs,
    position_to_genome,
    reverse_complement,
    to_genomic,
)
from spliceannot.lookup.transcripts import TranscriptIndex, attach_details, read_transcript_details
from spliceannot.lookup.variants import VariantError, parse_genomic, resolve_variant

TAGGED = Path(__file__).parent / "data" / "lookup" / "chr16_tagged.gtf"
EXONS = ((100, 110), (120, 130), (140, 150))  # 0-based half-open
PLUS = CodingTranscript("chrT", "+", EXONS, 105, 145)
MINUS = CodingTranscript("chrT", "-", EXONS, 105, 145)
GENOME = "".join("ACGT"[(i * 7 + i // 3) % 4] for i in range(300))


def fetch(start: int, end: int) -> str:
    return GENOME[start:end]


@pytest.mark.parametrize(
    ("text", "plus", "minus"),
    [
        ("1", 105, 144), ("5", 109, 140), ("6", 120, 129), ("15", 129, 120), ("16", 140, 109),
        ("20", 144, 105), ("5+1", 110, 139), ("5+3", 112, 137), ("6-1", 119, 130), ("6-2", 118, 131),
        ("-1", 104, 145), ("-5", 100, 149), ("-6", 99, 150), ("-1+2", 106, 143),
        ("*1", 145, 104), ("*5", 149, 100), ("*6", 150, 99), ("*1-1", 144, 105),
    ],
)  # fmt: skip
def test_c_positions_on_both_strands(text, plus, minus):
    assert position_to_genome(PLUS, text) == plus
    assert position_to_genome(MINUS, text) == minus


def test_consecutive_coding_positions_are_consecutive_exonic_bases():
    exonic = [p for start, end in EXONS for p in range(start, end)]
    for model, order in ((PLUS, exonic), (MINUS, exonic[::-1])):
        placed = [position_to_genome(model, str(n)) for n in range(-5, 0)]
        placed += [position_to_genome(model, str(n)) for n in range(1, 21)]
        placed += [position_to_genome(model, f"*{n}") for n in range(1, 6)]
        assert placed == order


def test_substitutions_are_checked_and_written_on_the_plus_strand():
    base = GENOME[110]
    assert to_genomic(PLUS, f"5+1{base}>A".replace("A>A", "A>C"), fetch).pos1 == 111
    variant = to_genomic(MINUS, f"5+1{reverse_complement(GENOME[139])}>{reverse_complement('G')}", fetch)
    assert (variant.pos1, variant.ref, variant.alt) == (140, GENOME[139], "G")
    wrong = "A" if reverse_complement(GENOME[139]) != "A" else "C"
    with pytest.raises(HgvsError, match="does not match the genome"):
        to_genomic(MINUS, f"5+1{wrong}>T", fetch)


def test_deletions_duplications_insertions_as_vcf():
    deletion = to_genomic(PLUS, "6_7del", fetch)  # genomic 120..121 deleted, anchored at 119
    assert (deletion.pos1, deletion.ref, deletion.alt) == (120, GENOME[119:122], GENOME[119])
    duplication = to_genomic(PLUS, "6_7dup", fetch)
    assert (duplication.pos1, duplication.ref, duplication.alt) == (122, GENOME[121], GENOME[121] + GENOME[120:122])
    insertion = to_genomic(MINUS, "6_7insAC", fetch)  # between genomic 129 and 128
    assert (insertion.pos1, insertion.ref, insertion.alt) == (129, GENOME[128], GENOME[128] + "GT")
    named = to_genomic(MINUS, f"6_7del{reverse_complement(GENOME[128:130])}", fetch)
    assert named.ref == GENOME[127:130]
    with pytest.raises(HgvsError, match="do not match"):
        to_genomic(PLUS, "6_7delTTTTTT", fetch)


@pytest.mark.parametrize("text", ["NM_1:c.", "NM_1:c.0A>G", "NM_1:c.5X>A", "NM_1:c.5_9A>G", "NM_1:c.5ins"])
def test_bad_changes_are_one_line_errors(text):
    with pytest.raises(HgvsError):
        to_genomic(PLUS, parse_hgvs(text).change, fetch)


def test_parse_hgvs_version_and_gene_are_optional():
    assert parse_hgvs("NM_000249.4:c.116G>A").version == "4"
    assert parse_hgvs("ENST00000302118:c.-15A>G").version is None
    assert parse_hgvs("NM_000249.4(MLH1):c.116G>A").accession == "NM_000249"


@pytest.mark.parametrize(
    "text", ["16-189969-T-A", "chr16:189969:T:A", "chr16:189969 T>A", "16 189969 t a"]
)
def test_genomic_forms(text):
    variant = parse_genomic(text)
    assert (variant.pos1, variant.ref, variant.alt) == (189969, "T", "A")


@pytest.mark.parametrize("text", ["16-189969-T", "16-x-T-A", "16-189969-T-<DEL>", "", "a" * 2000])
def test_malformed_genomic_variants_are_refused(text):
    index = TranscriptIndex([], [])
    with pytest.raises(VariantError):
        resolve_variant(text, index, lambda chrom, start, end: "")


def test_gtf_details_pair_with_rows_and_give_ids_tags_and_cds():
    from spliceannot.readers.annotation import load_annotation

    rows = load_annotation(str(TAGGED), transcripts="all", cache=False).transcripts
    details = attach_details(rows, read_transcript_details(str(TAGGED)))
    assert all(item is not None for item in details)
    by_id = {item.transcript_id: (row, item) for row, item in zip(rows, details)}
    row, luc7l = by_id["NM_018032.5"]
    assert (luc7l.gene_name, luc7l.mane_select, luc7l.canonical, luc7l.priority) == ("LUC7L", True, True, "MS")
    assert by_id["NM_201412.5"][1].priority == "C" and not by_id["NM_201412.5"][1].mane_select
    assert by_id["NR_104317.5"][1].coding_start0 is None  # non-coding
    # NM_018032 is on the minus strand: its stop codon (chr16:189964-189966) ends the coding sequence
    assert luc7l.coding_start0 == 189963 and row.strand == "-"


def test_hgvs_resolves_against_the_loaded_transcripts():
    from toy import FASTA

    from spliceannot.readers.annotation import load_annotation
    from spliceannot.readers.fasta import Reference

    rows = load_annotation(str(TAGGED), transcripts="all", cache=False).transcripts
    index = TranscriptIndex(rows, attach_details(rows, read_transcript_details(str(TAGGED))))
    reference = Reference(str(FASTA))

    def genome(chrom, start, end):
        return reference.fetch(reference.resolve(chrom), start, end).upper()

    # NM_018032 is on the minus strand; c.*1 is the base 5' (genomically) of its stop codon
    base = genome("chr16", 189962, 189963)
    variant, transcript = resolve_variant(f"NM_018032:c.*1{reverse_complement(base)}>T", index, genome)
    assert (variant.pos1, variant.ref, variant.alt, transcript) == (189963, base, "A", "NM_018032.5")
    with pytest.raises(VariantError, match="not loaded"):
        resolve_variant("NM_018032.9:c.*1G>A", index, genome)
    with pytest.raises(VariantError, match="not in the loaded annotation"):
        resolve_variant("NM_999999:c.1A>G", index, genome)

"""Properties over random input (hypothesis).

- random VCF records never crash the reader and never lose a record:
  annotate writes every one, in order;
- random gene-table rows either load or give an error naming file and line,
  and annotate against them still writes every record;
- the fast engine (reference tiles + cones) gives the tracks of the plain
  forward pass of every window, on random variants of a random genome.

``--hypothesis-profile=long`` (or ``SPLICEANNOT_HYPOTHESIS_PROFILE=long``)
runs 10,000 examples per property instead of the quick default.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hostile_cases import CHR1_LENGTH, COLUMNS, CORPUS, TABLE_HEADER, VCF_HEADER, base

pytestmark = pytest.mark.filterwarnings("ignore")
RELAXED = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

# --------------------------------------------------------------------------- annotate on random records

CHROMS = ["chr1", "1", "chr9", "chrM", "MT", "scaffold_7"]
ALLELE_LETTERS = "ACGTNacgtnRYKMSWBDHV"


@st.composite
def vcf_records(draw) -> str:
    chrom = draw(st.sampled_from(CHROMS))
    pos = draw(st.one_of(st.integers(0, CHR1_LENGTH + 200), st.integers(1, 2**31 - 2)))
    if draw(st.booleans()) and 1 <= pos <= CHR1_LENGTH - 30:
        ref = base("chr1", pos, draw(st.integers(1, 30)))
    else:
        ref = draw(st.text(ALLELE_LETTERS, min_size=1, max_size=12))
    alt = draw(
        st.lists(
            st.one_of(
                st.text("ACGTN", min_size=1, max_size=8),
                st.text(ALLELE_LETTERS, min_size=1, max_size=4),
                st.sampled_from(["*", "<DEL>", "<INS:ME>", ".", ref[:1] or "A"]),
            ),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    alt_text = "." if "." in alt else ",".join(alt)
    ident = draw(st.sampled_from([".", "rs1", "a;b"])).replace(";", "_")
    info = draw(
        st.one_of(
            st.just("."),
            st.lists(
                st.tuples(st.text("ABCDEFGH_", min_size=1, max_size=5), st.text("abc0123.|-", max_size=8)),
                min_size=1,
                max_size=3,
                unique_by=lambda kv: kv[0],
            ).map(lambda kvs: ";".join(f"{k}={v}" if v else k for k, v in kvs)),
        )
    )
    qual = draw(st.sampled_from([".", "0", "50.5"]))
    return f"{chrom}\t{pos}\t{ident}\t{ref}\t{alt_text}\t{qual}\tPASS\t{info}"


def keys(text: str) -> list[tuple[str, ...]]:
    return [tuple(line.split("\t")[:5]) for line in text.splitlines() if line and not line.startswith("#")]


@pytest.fixture(scope="module")
def corpus_scorer(tiny_model, tmp_path_factory):
    from spliceannot.factory import build_scorer
    from spliceannot.pipeline import AnnotateSettings

    fasta = tmp_path_factory.mktemp("corpus") / "genome.fa"  # a copy: its .fai is built beside it
    fasta.write_bytes((CORPUS / "genome.fa").read_bytes())
    settings_ = AnnotateSettings(
        reference=str(fasta), annotation=str(CORPUS / "genes.txt"), model=str(tiny_model), workers=1
    )
    return settings_, build_scorer(settings_)


def annotate_text(text: str, corpus_scorer, scorer=None) -> tuple[str, object]:
    from spliceannot.pipeline import annotate_vcf

    settings_, default = corpus_scorer
    with tempfile.TemporaryDirectory() as tmp:
        source, out = Path(tmp, "in.vcf"), Path(tmp, "out.vcf")
        source.write_text(text)
        summary = annotate_vcf(str(source), str(out), settings_, scorer=scorer or default)
        return out.read_text(), summary


@RELAXED
@given(st.lists(vcf_records(), max_size=12))
def test_random_records_are_all_written_in_order(corpus_scorer, records):
    text = "\n".join(VCF_HEADER + [COLUMNS, *records]) + "\n"
    output, summary = annotate_text(text, corpus_scorer)
    assert keys(output) == keys(text)
    assert summary.read == summary.written == len(records)
    assert summary.scored + sum(summary.passed.values()) <= len(records)


@st.composite
def table_rows(draw) -> str:
    name = draw(st.text("ABCXYZ12-", min_size=1, max_size=6))
    chrom = draw(st.sampled_from(["chr1", "1", "chrM", "chr9", "chrX"]))
    strand = draw(st.sampled_from(["+", "-", "+", "-", "?"]))
    start = draw(st.integers(-5, CHR1_LENGTH))
    end = draw(st.integers(-5, CHR1_LENGTH + 50))
    exons = draw(st.lists(st.tuples(st.integers(0, CHR1_LENGTH), st.integers(1, 400)), max_size=4))
    starts = "".join(f"{s}," for s, _ in exons)
    ends = "".join(f"{s + n}," for s, n in exons)
    if draw(st.integers(0, 9)) == 0:
        ends = draw(st.sampled_from(["", "x,", "1,2,3,4,5,6,"]))
    return f"{name}\t{chrom}\t{strand}\t{start}\t{end}\t{starts}\t{ends}"


@RELAXED
@given(st.lists(table_rows(), min_size=1, max_size=6), st.lists(vcf_records(), max_size=6))
def test_random_tables_load_or_name_the_line_and_records_are_kept(corpus_scorer, rows, records):
    from spliceannot.annotate import VariantScorer
    from spliceannot.errors import InputError
    from spliceannot.readers.annotation import load_annotation

    settings_, default = corpus_scorer
    with tempfile.TemporaryDirectory() as tmp:
        table = Path(tmp, "genes.txt")
        table.write_text("\n".join([TABLE_HEADER, *rows]) + "\n")
        try:
            annotation = load_annotation(str(table))
        except InputError as error:
            message = str(error)
            assert message.startswith(f"{table}:") and "\n" not in message
            return
    scorer = VariantScorer(default.reference, annotation, default.tracks, geometry=default.geometry)
    text = "\n".join(VCF_HEADER + [COLUMNS, *records]) + "\n"
    output, summary = annotate_text(text, corpus_scorer, scorer)
    assert keys(output) == keys(text)
    assert summary.written == len(records)


# --------------------------------------------------------------------------- cone == window


GENOME_LENGTH = 4000


@pytest.fixture(scope="module")
def random_genome(tmp_path_factory):
    from spliceannot.readers.fasta import Reference

    rng = random.Random(21)
    sequence = "".join(rng.choice("ACGT") for _ in range(GENOME_LENGTH))
    sequence = sequence[:1500] + "N" * 40 + sequence[1540:]  # a run of N inside
    path = tmp_path_factory.mktemp("genome") / "random.fa"
    path.write_text(">g\n" + "\n".join(sequence[i : i + 70] for i in range(0, len(sequence), 70)) + "\n")
    return Reference(path), sequence


@pytest.fixture(scope="module")
def engines(random_genome):
    import torch

    from spliceannot.engine.cone import ConeRunner
    from spliceannot.engine.runner import Predictor
    from spliceannot.tracks import ConeTracks, WindowTracks
    from spliceannot.windows import WindowGeometry
    from toy import tiny_ensemble

    reference, _ = random_genome
    model = tiny_ensemble(80, seed=5)
    built = {}
    for distance in (5, 50):
        geometry = WindowGeometry(flank=80, distance=distance)
        window = WindowTracks(reference, Predictor(model, device="cpu", batch_size=5).predict)
        cone = ConeTracks(reference, ConeRunner(model.ensemble, torch.device("cpu"), batch_size=3), max_tile=700)
        built[distance] = (geometry, window, cone)
    return built


@st.composite
def variant_jobs(draw, sequence: str, distance: int):
    from spliceannot.values import Span, Variant, VariantJob

    half = (80 + 2 * distance + 1) // 2
    pos = draw(st.integers(half + 1, GENOME_LENGTH - half - 2 * distance - 2))
    kind = draw(st.sampled_from(["snv", "insertion", "deletion"]))
    # annotate scores REFs of at most 2*D bases that end inside the window (REF_TOO_LONG otherwise)
    longest = min(2 * distance, (80 + 2 * distance + 1) - half)
    ref_len = draw(st.integers(2, longest)) if kind == "deletion" else 1
    ref = sequence[pos - 1 : pos - 1 + ref_len]
    if kind == "snv":
        alt = draw(st.sampled_from([b for b in "ACGTN" if b != ref]))
    elif kind == "insertion":
        alt = ref + draw(st.text("ACGT", min_size=1, max_size=10))
    else:
        alt = ref[0]
    strand = draw(st.sampled_from("+-"))
    tx_start = draw(st.integers(0, pos - 1))
    tx_end = draw(st.integers(pos, GENOME_LENGTH))
    return VariantJob(Variant("g", pos, ref, alt), strand, Span(tx_start, tx_end))


@RELAXED
@given(st.data())
def test_cone_tracks_equal_window_tracks_on_random_variants(engines, random_genome, data):
    _, sequence = random_genome
    distance = data.draw(st.sampled_from([5, 50]))
    geometry, window, cone = engines[distance]
    jobs = data.draw(st.lists(variant_jobs(sequence, distance), min_size=1, max_size=4))
    assume(all(job.ref.upper() == job.ref for job in jobs))
    for job, (ref_a, alt_a), (ref_b, alt_b) in zip(jobs, window(jobs, geometry), cone(jobs, geometry)):
        assert ref_a.shape == ref_b.shape == (geometry.coverage, 3)
        assert alt_a.shape == alt_b.shape
        np.testing.assert_allclose(ref_b, ref_a, atol=2e-6, rtol=0)
        np.testing.assert_allclose(alt_b, alt_a, atol=2e-6, rtol=0)

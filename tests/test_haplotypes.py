"""``annotate --haplotypes``: phased neighbours in the sequence, exact against haplotype sequences
built by hand, INFO's bytes where nothing is in cis, the FORMAT fields through bcftools."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from toy import FASTA, table_text

from spliceannot.entry import format_entry
from spliceannot.readers.fasta import Reference
from spliceannot.scoring import delta_scores

FLANK, DISTANCE = 80, 10  # the tiny model: reach = 40 + 10 = 50
REACH = FLANK // 2 + DISTANCE
GENES = [
    ("PLUS", "16", "+", 200_000, 203_000, (200_000, 201_500), (201_000, 203_000)),
    ("MINUS", "16", "-", 201_200, 202_400, (201_200, 201_700), (201_520, 202_400)),
]
COMPLEMENT = {"A": "T", "C": "G", "G": "C", "T": "A", "N": "N"}


@pytest.fixture(scope="module")
def reference() -> Reference:
    return Reference(FASTA)


@pytest.fixture(scope="module")
def table(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("hap") / "genes.txt"
    path.write_text(table_text(GENES))
    return path


def base(reference: Reference, pos: int, length: int = 1) -> str:
    return reference.fetch("chr16", pos - 1, pos - 1 + length).upper()


def other(b: str) -> str:
    return {"A": "G", "C": "T", "G": "A", "T": "C"}[b]


def records(reference: Reference) -> list[tuple[int, str, str, list[str]]]:
    """(POS, REF, ALT, genotypes of S1..S5) around the PLUS/MINUS exon boundaries near 201,500."""
    r = reference
    return [
        (201_440, base(r, 201_440), other(base(r, 201_440)), ["0|1", "0|0", "0|0", "0|0", "0|0"]),  # reach's edge
        (201_470, base(r, 201_470, 4), base(r, 201_470), ["0|1", "0|0", "0|1", "0|0", "0|0"]),  # deletion
        (201_490, base(r, 201_490), other(base(r, 201_490)), ["0|1", "1|1", "0|1", "0/1", "1"]),
        (201_495, base(r, 201_495), other(base(r, 201_495)), ["0|1", "0/1", "0|1", "0/1", "0"]),
        (201_503, base(r, 201_503), base(r, 201_503) + "GTAAG", ["1|0", "0|1", "1|0", "0|0", "1"]),
        (201_520, base(r, 201_520), other(base(r, 201_520)), ["0|1", "0|1", "0|1", "0|0", "0"]),
        (201_539, base(r, 201_539), "<DEL>", ["0|1", "0|0", "0|0", "0|0", "0"]),
        (201_541, base(r, 201_541), other(base(r, 201_541)), ["0|1", "0|0", "0|0", "0|0", "0|0"]),  # 51 from 201490
        (201_650, base(r, 201_650), other(base(r, 201_650)), ["1|1", "0|1", "0|0", "1|0", "1"]),  # alone
    ]


def write_vcf(path: Path, rows, *, phase_sets: dict[int, list[int]] | None = None) -> Path:
    lines = [
        "##fileformat=VCFv4.2",
        "##contig=<ID=chr16,length=397118>",
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=PS,Number=1,Type=Integer,Description="Phase set">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2\tS3\tS4\tS5",
    ]
    for pos, ref, alt, genotypes in rows:
        sets = (phase_sets or {}).get(pos)
        if sets:
            samples = [f"{g}:{ps}" for g, ps in zip(genotypes, sets)]
            lines.append(f"chr16\t{pos}\t.\t{ref}\t{alt}\t.\t.\t.\tGT:PS\t" + "\t".join(samples))
        else:
            lines.append(f"chr16\t{pos}\t.\t{ref}\t{alt}\t.\t.\t.\tGT\t" + "\t".join(genotypes))
    path.write_text("\n".join(lines) + "\n")
    return path


def annotate(tiny_model, table, vcf: Path, *extra) -> list[list[str]]:
    from click.testing import CliRunner

    from spliceannot.cli import main

    args = ["annotate", "-I", str(vcf), "-R", str(FASTA), "-A", str(table), "-m", str(tiny_model),
            "-D", str(DISTANCE), "--no-cache", *extra]
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.stderr + repr(result.exception)
    return [line.split("\t") for line in result.stdout.splitlines() if not line.startswith("#")]


def sample_fields(row: list[str]) -> list[dict[str, str]]:
    keys = row[8].split(":")
    return [dict(zip(keys, column.split(":"))) for column in row[9:]]


def info(row: list[str]) -> str:
    return dict(item.split("=", 1) for item in row[7].split(";") if "=" in item).get("SpliceAI", "")


# --------------------------------------------------------------------------- by hand


def by_hand(reference, model, gene, variant, cis, mode) -> str:
    """The entry of ``variant`` (pos, ref, alt) with ``cis`` on its haplotype, from sequences built
    here base by base and whole windows through the model."""
    from spliceannot.encoding import one_hot
    from spliceannot.engine.runner import Predictor

    name, _, strand, tx_start, tx_end = gene[:5]
    lo = variant[0] - 1 - 1000
    genome = [reference.fetch("chr16", i, i + 1).upper() if tx_start <= i < tx_end else "N"
              for i in range(lo, lo + 2000)]

    def apply(changes):
        text: list[str] = []
        where: dict[int, int] = {}  # genome coordinate -> haplotype index, for untouched bases
        starts: dict[int, int] = {}  # change start -> haplotype index of its first ALT base
        cursor = lo
        for pos, ref, alt in sorted(changes):
            if not (pos - 1 < tx_end and pos - 1 + len(ref) > tx_start):
                continue
            while cursor < pos - 1:
                where[cursor] = len(text)
                text.append(genome[cursor - lo])
                cursor += 1
            starts[pos - 1] = len(text)
            text.extend(alt)
            cursor = pos - 1 + len(ref)
        while cursor < lo + 2000:
            where[cursor] = len(text)
            text.append(genome[cursor - lo])
            cursor += 1
        return "".join(text), where, starts

    def run(texts):
        encoded = []
        for text in texts:
            if strand == "-":
                text = "".join(COMPLEMENT[b] for b in reversed(text))
            encoded.append(one_hot(text))
        outs = Predictor(model, device="cpu").predict(encoded)
        return [o[::-1] if strand == "-" else o for o in outs]

    pos, ref, alt = variant
    width = FLANK + 2 * DISTANCE + 1
    if mode == "background":
        text, where, _ = apply(cis)
        center = where[pos - 1]
        window = text[center - width // 2 : center - width // 2 + width]
        alternate = window[: width // 2] + alt + window[width // 2 + len(ref) :]
        ref_track, alt_track = run([window, alternate])
        scores = delta_scores(ref_track, alt_track, ref_len=len(ref), alt_len=len(alt), boundary_distance=0,
                              mask=False)
    else:
        window = "".join(genome[pos - 1 - width // 2 - lo : pos - 1 - width // 2 - lo + width])
        changes = [*cis, variant]
        text, where, starts = apply(changes)
        groups = []
        for g in range(pos - 1 - DISTANCE, pos + DISTANCE):
            if g in where:
                groups.append([where[g]])
                continue
            c_pos, c_ref, c_alt = next(c for c in changes if c[0] - 1 <= g < c[0] - 1 + len(c[1]))
            k, first = g - (c_pos - 1), starts[c_pos - 1]
            shared = min(len(c_ref), len(c_alt))
            if k < shared - 1 or (k == shared - 1 and len(c_alt) <= len(c_ref)):
                groups.append([first + k])
            elif k == shared - 1:
                groups.append(list(range(first + k, first + len(c_alt))))
            else:
                groups.append([])
        low = min(i for g in groups for i in g)
        high = max(i for g in groups for i in g)
        ref_track, hap_track = run([window, text[low - FLANK // 2 : high + 1 + FLANK // 2]])
        deleted = any(not g for g in groups)
        aligned = np.zeros((len(groups), 3), dtype=np.float64 if deleted else np.float32)
        for row, g in enumerate(groups):
            if g:
                aligned[row] = hap_track[[i - low for i in g]].max(axis=0)
        scores = delta_scores(ref_track, aligned, ref_len=1, alt_len=1, boundary_distance=0, mask=False)
    return format_entry(alt, name, scores)


@pytest.mark.parametrize("mode", ["background", "combined"])
@pytest.mark.parametrize("compute", ["cone", "window"])
def test_haplotype_scores_equal_sequences_built_by_hand(tmp_path, reference, tiny_model, table, mode, compute):
    from spliceannot.engine.weights import load_model

    rows = records(reference)
    out = annotate(tiny_model, table, write_vcf(tmp_path / "in.vcf", rows), "--haplotypes", mode,
                   "--compute", compute)
    model = load_model(str(tiny_model))
    checked = 0
    differs = 0
    for (pos, ref, alt, genotypes), row in zip(rows, out):
        if alt.startswith("<"):
            continue
        for sample, fields in enumerate(sample_fields(row)):
            for haplotype in (1, 2):
                value = fields[f"SpliceAI_H{haplotype}"]
                if value == ".":
                    continue
                cis_text = fields[f"SpliceAI_H{haplotype}_CIS"]
                cis = [] if cis_text == "." else [(int(p), r, a) for p, r, a in
                                                   (item.split("-") for item in cis_text.split(","))]
                genes = [g for g in GENES if g[3] < pos <= g[4]]
                expected = ",".join(by_hand(reference, model, g, (pos, ref, alt), cis, mode) for g in genes)
                assert value == expected, (pos, sample, haplotype, cis)
                checked += 1
                differs += value != info(row)
    assert checked >= 20
    assert differs >= 5  # the cis variants change the printed scores


def test_without_cis_variants_the_value_is_info_byte_for_byte(tmp_path, reference, tiny_model, table):
    rows = records(reference)
    out = annotate(tiny_model, table, write_vcf(tmp_path / "in.vcf", rows), "--haplotypes", "background")
    alone = next(row for row in out if row[1] == "201650")
    for fields in sample_fields(alone):
        for haplotype in (1, 2):
            if fields.get(f"SpliceAI_H{haplotype}", ".") != ".":
                assert fields[f"SpliceAI_H{haplotype}_CIS"] == "."
                assert fields[f"SpliceAI_H{haplotype}"] == info(alone)
    # without --haplotypes the records are annotated exactly as before
    plain = annotate(tiny_model, table, write_vcf(tmp_path / "in.vcf", rows))
    assert [info(r) for r in plain] == [info(r) for r in out]
    assert all(r[8] == "GT" for r in plain)


def test_phasing_rules_and_flags(tmp_path, reference, tiny_model, table):
    rows = records(reference)
    out = annotate(tiny_model, table, write_vcf(tmp_path / "in.vcf", rows), "--haplotypes", "background")
    by_pos = {int(row[1]): sample_fields(row) for row in out}
    pos = [r[0] for r in rows]
    snv, other_snv, insertion, far_snv = 201_490, 201_495, 201_503, 201_520
    # S1: 0|1 with 0|1 neighbours phased (no PS: one phase set): in cis on haplotype 2 only
    s1 = by_pos[snv][0]
    assert s1["SpliceAI_H1"] == "."
    assert f"{other_snv}-" in s1["SpliceAI_H2_CIS"] and f"{far_snv}-" in s1["SpliceAI_H2_CIS"]
    assert f"{insertion}-" not in s1["SpliceAI_H2_CIS"]  # on haplotype 1
    assert f"{pos[1]}-" in s1["SpliceAI_H2_CIS"]  # the deletion upstream shifts the window
    assert "201440-" in s1["SpliceAI_H2_CIS"] and "201541-" not in s1["SpliceAI_H2_CIS"]  # reach: 50
    # S2: homozygous record: every phased neighbour on its own haplotype; the unphased one is flagged
    s2 = by_pos[snv][1]
    assert s2["SpliceAI_H1"] != "." and s2["SpliceAI_H2"] != "."
    assert f"{insertion}-" in s2["SpliceAI_H2_CIS"] and f"{insertion}-" not in s2["SpliceAI_H1_CIS"]
    assert "unphased=1" in s2["SpliceAI_HFLAG"]
    # S3 has S1's haplotypes: the same values
    assert by_pos[snv][2]["SpliceAI_H2"] == s1["SpliceAI_H2"]
    # S4: an unphased heterozygous record with an unphased heterozygous neighbour
    s4 = by_pos[snv][3]
    assert s4["SpliceAI_H2"] != "." and s4["SpliceAI_H2_CIS"] == "." and "unphased=1" in s4["SpliceAI_HFLAG"]
    # S5: haploid: haplotype 1 only
    s5 = by_pos[snv][4]
    assert s5["SpliceAI_H2"] == "." and f"{insertion}-" in s5["SpliceAI_H1_CIS"]
    # a symbolic ALT in reach is counted; a homozygous neighbour is on both haplotypes
    assert "symbolic=1" in by_pos[far_snv][0]["SpliceAI_HFLAG"]
    assert by_pos[insertion][0]["SpliceAI_H1_CIS"] == "."
    assert f"{snv}-" in by_pos[insertion][1]["SpliceAI_H2_CIS"]
    # different phase sets: not in cis, flagged
    sets = {p: [1, 1, 1, 1, 1] for p in pos}
    sets[other_snv] = [2, 1, 1, 1, 1]
    out = annotate(tiny_model, table, write_vcf(tmp_path / "ps.vcf", rows, phase_sets=sets), "--haplotypes",
                   "background")
    s1 = sample_fields(next(r for r in out if r[1] == str(snv)))[0]
    assert f"{other_snv}-" not in s1["SpliceAI_H2_CIS"] and "unphased=1" in s1["SpliceAI_HFLAG"]


def test_overlapping_alleles_on_one_haplotype_are_flagged_not_fatal(tmp_path, reference, tiny_model, table):
    deletion = (201_488, base(reference, 201_488, 5), base(reference, 201_488), ["0|1"] * 5)
    snv = (201_490, base(reference, 201_490), other(base(reference, 201_490)), ["0|1"] * 5)
    star = (201_491, base(reference, 201_491), f"{other(base(reference, 201_491))},*", ["0|2"] * 5)
    out = annotate(tiny_model, table, write_vcf(tmp_path / "in.vcf", [deletion, snv, star]), "--haplotypes",
                   "combined")
    fields = sample_fields(out[1])[0]
    assert fields["SpliceAI_H2"] != "." and fields["SpliceAI_H2_CIS"] == "."
    assert fields["SpliceAI_HFLAG"] == "overlap=1"  # the deletion; '*' is not counted


def test_format_fields_through_bcftools_and_bcf(tmp_path, reference, tiny_model, table, need_bcftools):
    vcf = write_vcf(tmp_path / "in.vcf", records(reference))
    text_rows = annotate(tiny_model, table, vcf, "--haplotypes", "background")
    bcf = tmp_path / "out.bcf"
    annotate(tiny_model, table, vcf, "--haplotypes", "background", "-O", str(bcf))
    query = subprocess.run(["bcftools", "query", "-f", "[%SAMPLE %SpliceAI_H1 %SpliceAI_H2\\n]", str(bcf)],
                           capture_output=True, text=True, check=True).stdout.splitlines()
    expected = [f"S{i + 1} {f.get('SpliceAI_H1', '.')} {f.get('SpliceAI_H2', '.')}" for row in text_rows
                for i, f in enumerate(sample_fields(row))]
    assert query == expected
    assert len([line for line in query if line.split()[1] != "."]) >= 8


def test_input_errors_are_one_line(tmp_path, reference, tiny_model, table):
    from click.testing import CliRunner

    from spliceannot.cli import main

    sites = tmp_path / "sites.vcf"
    sites.write_text("##fileformat=VCFv4.2\n##contig=<ID=chr16>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
                     f"chr16\t201490\t.\t{base(reference, 201490)}\tA\t.\t.\t.\n")
    rows = records(reference)
    unsorted = write_vcf(tmp_path / "unsorted.vcf", [rows[3], rows[2]])
    for path, words in ((sites, "no sample columns"), (unsorted, "sorted")):
        result = CliRunner().invoke(main, ["annotate", "-I", str(path), "-R", str(FASTA), "-A", str(table),
                                           "-m", str(tiny_model), "--haplotypes", "combined", "-O",
                                           str(tmp_path / "out.vcf")])
        assert result.exit_code != 0
        assert words in result.stderr and str(path) in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert not (tmp_path / "out.vcf").exists()


def test_serve_scores_variants_in_cis_as_annotate_does(tmp_path, reference, tiny_model, table):
    import json
    import sys

    rows = records(reference)
    pair = [rows[2], rows[3], rows[4]]  # two SNVs and an insertion, all within reach
    vcf = write_vcf(tmp_path / "in.vcf", [(p, r, a, ["0|1"] * 5) for p, r, a, _ in pair])
    expected = annotate(tiny_model, table, vcf, "--haplotypes", "combined")
    request = {"id": 7, "haplotype": "combined", "distance": DISTANCE,
               "variants": [{"chrom": "chr16", "pos": p, "ref": r, "alt": a} for p, r, a, _ in pair]}
    bad = {"id": 8, "variants": [{"chrom": "chr16", "pos": pair[0][0], "ref": pair[0][1], "alt": "A"},
                                 {"chrom": "chr16", "pos": pair[0][0], "ref": pair[0][1], "alt": "C"}]}
    lines = json.dumps(request) + "\n" + json.dumps(bad) + "\n"
    done = subprocess.run(
        [sys.executable, "-m", "spliceannot", "serve", "-R", str(FASTA), "-A", str(table), "-m", str(tiny_model),
         "-D", str(DISTANCE), "--no-cache"],
        input=lines.encode(), capture_output=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    reply, error = [json.loads(line) for line in done.stdout.splitlines()][1:]
    assert reply["id"] == 7 and reply["haplotype"] == "combined"
    for row, variant in zip(expected, reply["variants"]):
        fields = sample_fields(row)[0]
        assert variant["scores"] == info(row).split(",")
        assert variant["haplotype_scores"] == fields["SpliceAI_H2"].split(",")
        assert [c.split("-", 1)[1] for c in variant["cis"]] == fields["SpliceAI_H2_CIS"].split(",")
    assert error["id"] == 8 and "overlap" in error["error"]


def test_plot_draws_the_haplotype_scores(tmp_path, reference, tiny_model, table):
    from spliceannot.factory import ScorerSpec
    from spliceannot.values import Variant
    from spliceannot.viz.plot import plot_variants

    rows = records(reference)
    vcf = write_vcf(tmp_path / "in.vcf", [(p, r, a, ["0|1"] * 5) for p, r, a, _ in rows[2:4]])
    expected = annotate(tiny_model, table, vcf, "--haplotypes", "background")
    (pos, ref, alt, _), (cis_pos, cis_ref, cis_alt, _) = rows[2], rows[3]
    settings = ScorerSpec(reference=str(FASTA), annotation=str(table), model=str(tiny_model), distance=DISTANCE)
    paths, drawn = plot_variants(settings, [Variant("chr16", pos, ref, alt)], tmp_path / "hap.svg",
                                 cis=[Variant("chr16", cis_pos, cis_ref, cis_alt)], haplotypes="background")
    entries = sample_fields(expected[0])[0]["SpliceAI_H2"].split(",")
    shown = {(label.symbol, label.field): (label.score, label.position) for label in drawn[0].labels}
    for entry in entries:
        parts = entry.split("|")
        for index, name in enumerate(("AG", "AL", "DG", "DL")):
            assert shown[(parts[1], name)] == (parts[2 + index], int(parts[6 + index]))
    assert "cis-chr16" in paths[0].read_text()


@pytest.mark.slow
def test_workers_ray_and_the_cache_give_the_one_process_output(tmp_path, reference, tiny_model, table):
    import sys

    pytest.importorskip("ray")
    rows = records(reference)
    vcf = write_vcf(tmp_path / "in.vcf", rows * 1)
    base = [sys.executable, "-m", "spliceannot", "annotate", "-I", str(vcf), "-R", str(FASTA), "-A", str(table),
            "-m", str(tiny_model), "-D", str(DISTANCE), "--haplotypes", "combined", "--chunk-size", "2",
            "--no-progress"]
    runs = {
        "one": ["--workers", "1", "--no-cache"],
        "processes": ["--workers", "2", "--no-cache"],
        "ray": ["--engine", "ray", "--workers", "2", "--no-cache"],
        "cache-fill": ["--workers", "1", "--cache", str(tmp_path / "c.sqlite")],
        "cache-read": ["--workers", "1", "--cache", str(tmp_path / "c.sqlite")],
    }
    outputs, logs = {}, {}
    for name, extra in runs.items():
        done = subprocess.run([*base, *extra, "-O", str(tmp_path / f"{name}.vcf")], capture_output=True, text=True,
                              timeout=300, check=False)
        assert done.returncode == 0, done.stderr
        outputs[name] = [line for line in (tmp_path / f"{name}.vcf").read_text().splitlines()
                         if not line.startswith("##spliceannotCommand")]
        logs[name] = done.stderr
    import re

    assert sum(1 for line in outputs["one"] if re.search(r"[:,]\d+-[ACGT]+-[ACGT]+", line)) >= 4
    for name in runs:
        assert outputs[name] == outputs["one"], name
    assert "from the cache" in logs["cache-read"]
    import sqlite3

    with sqlite3.connect(tmp_path / "c.sqlite") as connection:
        keys = [row[0] for row in connection.execute("SELECT variant FROM scores")]
    assert any("|combined@" in key for key in keys)


# --------------------------------------------------------------------------- --mnv


def mnv_by_hand(reference, model, gene, pos, ref, alt) -> str:
    """SpliceAI's windows with REF replaced by ALT, the tracks aligned base by base (REF's bases take
    ALT's in order; extra REF bases 0; extra ALT bases collapse into REF's last by their maximum)."""
    from spliceannot.encoding import one_hot
    from spliceannot.engine.runner import Predictor

    name, _, strand, tx_start, tx_end = gene[:5]
    width = FLANK + 2 * DISTANCE + 1
    start = pos - 1 - width // 2
    window = "".join(reference.fetch("chr16", i, i + 1).upper() if tx_start <= i < tx_end else "N"
                     for i in range(start, start + width))
    alternate = window[: width // 2] + alt + window[width // 2 + len(ref):]
    texts = [window, alternate]
    if strand == "-":
        texts = ["".join(COMPLEMENT[b] for b in reversed(t)) for t in texts]
    ref_track, alt_track = Predictor(model, device="cpu").predict([one_hot(t) for t in texts])
    if strand == "-":
        ref_track, alt_track = ref_track[::-1], alt_track[::-1]
    half = DISTANCE
    rows = []
    for i in range(2 * DISTANCE + 1):
        k = i - half
        if k < 0:
            rows.append(alt_track[i])
        elif k < len(ref):
            shared = min(len(ref), len(alt))
            if k < shared - 1 or (k == shared - 1 and len(alt) <= len(ref)):
                rows.append(alt_track[half + k])
            elif k == shared - 1:
                rows.append(alt_track[half + k : half + len(alt)].max(axis=0))
            else:
                rows.append(np.zeros(3))
        else:
            rows.append(alt_track[i + len(alt) - len(ref)])
    dtype = np.float64 if len(ref) > len(alt) else np.float32
    aligned = np.array(rows, dtype=dtype)
    scores = delta_scores(ref_track, aligned, ref_len=1, alt_len=1, boundary_distance=0, mask=False)
    return format_entry(alt, name, scores)


@pytest.mark.parametrize("compute", ["cone", "window"])
def test_mnv_and_delins_are_scored_with_mnv_only(tmp_path, reference, tiny_model, table, compute):
    from spliceannot.engine.weights import load_model

    r = reference
    rows = [
        (201_495, base(r, 201_495, 2), "".join(other(b) for b in base(r, 201_495, 2)), ["0|1"] * 5),  # MNV
        (201_505, base(r, 201_505, 3), "TG", ["0|1"] * 5),  # delins, REF longer
        (201_512, base(r, 201_512, 2), "GATC", ["0|1"] * 5),  # delins, ALT longer
        (201_530, base(r, 201_530, 6), "C", ["0|1"] * 5),  # REF 6, ALT 1 not sharing the first base
    ]
    vcf = write_vcf(tmp_path / "in.vcf", rows)
    default = annotate(tiny_model, table, vcf, "--compute", compute)
    scored = annotate(tiny_model, table, vcf, "--compute", compute, "--mnv")
    model = load_model(str(tiny_model))
    for (pos, ref, alt, _), plain, mnv in zip(rows, default, scored):
        genes = [g for g in GENES if g[3] < pos <= g[4]]
        if len(ref) > 1 and len(alt) > 1:
            assert info(plain) == ",".join(f"{alt}|{g[0]}|.|.|.|.|.|.|.|." for g in genes)
        else:
            assert info(plain) == info(mnv)  # ordinary records: unchanged
        assert info(mnv) == ",".join(mnv_by_hand(reference, model, g, pos, ref, alt) for g in genes)


def test_records_are_read_with_a_window_of_the_records_in_reach(tmp_path):
    """Streaming: each record is given out once the records within reach right of it are read, so
    what is held does not grow with the input."""
    from spliceannot.haplotypes.contexts import haplotype_items
    from spliceannot.readers.vcf import open_variants

    lines = ["##fileformat=VCFv4.2", "##contig=<ID=chr1,length=100000000>", "##contig=<ID=chr2,length=1000>",
             '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tA\tB"]
    for index in range(3000):
        lines.append(f"chr1\t{1000 + 2000 * index}\t.\tA\tG\t.\t.\t.\tGT\t0|1\t1|1")
    lines.append("chr2\t10\t.\tA\tG\t.\t.\t.\tGT\t0|1\t0|0")
    vcf = tmp_path / "many.vcf"
    vcf.write_text("\n".join(lines) + "\n")
    consumed = []

    def counted(items):
        for item in items:
            consumed.append(item)
            yield item

    lags = []
    with open_variants(str(vcf)) as source:
        for number, item in enumerate(haplotype_items(counted(source.records()), reach=5050, samples=2,
                                                      path=str(vcf)), 1):
            lags.append(len(consumed) - number)
            if number < 3000:
                # sample A carries this ALT on haplotype 2 with its two neighbours on each side in reach
                cis = item.contexts[item.assignment[0][1]].cis
                assert len(cis) == min(2, number - 1) + min(2, 3000 - number)
                assert all(abs(c.pos - item.pos) <= 5050 for c in cis)
    assert len(lags) == 3001
    assert max(lags) <= 4  # records 2 kb apart, reach 5,050: at most 3 ahead are read


def test_the_serve_docs_cis_example_gives_the_reply_it_shows():
    """docs/serve.md's request with two variants in cis, with SpliceAI's weights: the reply shown."""
    import json
    import sys

    doc = (Path(__file__).resolve().parents[1] / "docs" / "serve.md").read_text()
    blocks = [b.split("```", 1)[0].strip() for b in doc.split("```json\n")[1:]]
    request = next(b for b in blocks if b.startswith('{"id": 3, "haplotype"') and '"chrom"' in b)
    reply = next(b for b in blocks if b.startswith('{"id": 3, "haplotype"') and '"scores"' in b)
    done = subprocess.run(
        [sys.executable, "-m", "spliceannot", "serve", "-R", str(FASTA), "-A", "grch38", "--no-cache"],
        input=(request + "\n").encode(), capture_output=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert json.loads(done.stdout.splitlines()[-1]) == json.loads(reply)


def test_a_cis_variant_whose_ref_does_not_match_is_left_out_and_counted(tmp_path, reference, tiny_model, table):
    snv = (201_490, base(reference, 201_490), other(base(reference, 201_490)), ["0|1", "0|1", "0|1", "0|1", "0|1"])
    wrong = other(base(reference, 201_495))
    bad = (201_495, wrong, other(wrong), ["0|1", "0|0", "0|1", "0|0", "0|0"])
    good = (201_520, base(reference, 201_520), other(base(reference, 201_520)), ["0|1", "0|1", "0|0", "0|0", "0|0"])
    out = annotate(tiny_model, table, write_vcf(tmp_path / "in.vcf", [snv, bad, good]), "--haplotypes", "background")
    fields = sample_fields(out[0])
    assert fields[0]["SpliceAI_HFLAG"] == "refmismatch=1"  # listed as in the haplotype, left out of the sequence
    assert fields[1]["SpliceAI_HFLAG"] == "." and fields[1]["SpliceAI_H2_CIS"] == "201520-" + "-".join(good[1:3])
    # S1 carries the good SNV too: its score is S2's (same sequence once the bad one is left out)
    assert fields[0]["SpliceAI_H2"] == fields[1]["SpliceAI_H2"]
    assert fields[2]["SpliceAI_HFLAG"] == "refmismatch=1" and fields[2]["SpliceAI_H2"] == info(out[0])

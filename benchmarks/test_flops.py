"""Sanity checks of the FLOP accounting in harness/flops.py.

    .venv/bin/python -m pytest benchmarks/test_flops.py
"""

from __future__ import annotations

import doctest
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import flops


def test_doctests():
    failures, tried = doctest.testmod(flops)
    assert tried >= 5 and failures == 0


def test_architecture_matches_spliceannot():
    architecture = __import__("pytest").importorskip("spliceannot.engine.architecture")
    assert flops.GROUPS == architecture.GROUPS
    assert flops.UNITS_PER_GROUP == architecture.UNITS_PER_GROUP
    assert flops.CHANNELS == architecture.CHANNELS
    assert flops.FLANK == max(architecture.FLANKS)


def test_padded_window_is_the_spec_figure():
    # SpliceAI's REF + ALT windows at -D 50: 27.8 GFLOP per model in the 32 dilated convolutions
    dilated = 2 * 2 * 10_101 * 32 * 32 * sum(2 * w for w, _ in flops.UNITS)
    assert round(dilated / 1e9, 1) == 27.8
    assert 0 < 4 * flops.padded_macs(10_101) - dilated < 0.01 * dilated


def test_cone_is_cheaper_than_a_window_and_grows_with_distance():
    assert flops.cone_macs(1, 1, 50) < flops.valid_macs(101) < flops.padded_macs(10_101)
    assert flops.cone_macs(1, 1, 50) < flops.cone_macs(1, 1, 500)
    # a deletion's cone is wider than an SNV's
    assert flops.cone_macs(5, 1, 50) > flops.cone_macs(1, 1, 50) * 0.99


def _jobs(positions, tx_start=0, tx_end=10**7, strand="+"):
    return [[flops.Job(pos, "A", "C", strand, tx_start, tx_end)] for pos in positions]


def test_tiles_share_reference_and_amortise():
    one = flops.spliceannot_flop(_jobs([100_000]), 50)
    assert one["tiles"] == 1
    assert one["reference"] == 2 * flops.MEMBERS * flops.valid_macs(101)
    close = flops.spliceannot_flop(_jobs(range(100_000, 110_000, 500)), 50)
    assert close["tiles"] == 1 and close["jobs"] == 20
    # one tile over the union of the windows: 10,101 + 19 * 500 bases
    assert close["reference"] == 2 * flops.MEMBERS * flops.valid_macs(101 + 19 * 500)
    assert close["total"] / 20 < one["total"] / 2
    # two genes (masks) never share a tile; two chunks neither
    apart = flops.spliceannot_flop(_jobs([100_000]) + _jobs([100_500], tx_start=100_400), 50)
    assert apart["tiles"] == 2
    chunks = flops.spliceannot_flop(_jobs(range(100_000, 110_000, 500)), 50, chunk_size=10)
    assert chunks["tiles"] == 2


def test_the_same_window_twice_is_computed_once():
    # one record in two genes that mask its window the same way: one window, one cone
    record = [[flops.Job(100_000, "A", "C", "+", 0, 10**7), flops.Job(100_000, "A", "C", "+", 1, 10**7)]]
    assert flops.spliceannot_flop(record, 50)["jobs"] == 1
    assert flops.spliceai_flop(record[0], 50) == 2 * flops.spliceai_flop(record[0][:1], 50)


def test_best_tiles_cut_where_joining_costs_more():
    width = 10_101
    near = flops.spliceannot_flop(_jobs([100_000, 101_000]), 50, best_tiles=True)
    assert near["tiles"] == 1  # 1 kb apart: one tile is cheaper
    far = _jobs([100_000, 108_000])
    assert flops.spliceannot_flop(far, 50)["tiles"] == 1  # ConeTracks joins windows up to a flank apart
    best = flops.spliceannot_flop(far, 50, best_tiles=True)
    assert best["tiles"] == 2
    assert best["reference"] == 2 * 2 * flops.MEMBERS * flops.valid_macs(width - flops.FLANK)
    assert best["total"] < flops.spliceannot_flop(far, 50)["total"]


def test_the_engine_executes_the_modelled_flop():
    """Count the cone engine's convolutions on one tile with two SNVs 500 bp apart."""
    torch = __import__("pytest").importorskip("torch")
    np = __import__("numpy")
    from torch.utils.flop_counter import FlopCounterMode

    from spliceannot.engine.architecture import Architecture
    from spliceannot.engine.cone import ConeRunner, Substitution, TrackRequest
    from spliceannot.engine.model import Ensemble, SpliceAI

    torch.manual_seed(0)
    runner = ConeRunner(Ensemble([SpliceAI(Architecture(10_000)).eval()]), torch.device("cpu"))
    width, distance, spacing = 10_101, 50, 500
    length = width + spacing
    tile = np.eye(4, dtype=np.float32)[np.random.default_rng(0).integers(0, 4, length)]
    alt = np.eye(4, dtype=np.float32)[[2]]
    requests, substitutions = [], []
    for variant in (width // 2, width // 2 + spacing):  # tile coordinate of each SNV
        first_output = variant - width // 2 + flops.FLANK // 2
        requests.append(TrackRequest(0, first_output, 2 * distance + 1))
        substitutions.append(Substitution(0, variant, 1, alt, first_output, 2 * distance + 1))
    with FlopCounterMode(display=False) as counter:
        runner.run([tile], requests, substitutions)
    expected = 2 * (flops.valid_macs(length - flops.FLANK) + 2 * flops.cone_macs(1, 1, distance))
    assert counter.get_total_flops() == expected


def test_pangolin_windows_cover_ref_and_run_twelve_networks():
    snv = flops.Job(100_000, "A", "C", "+", 0, 10**6)
    assert flops.pangolin_flop([snv], 50) == 2 * 12 * 2 * flops.padded_macs(10_101, 12)
    # a 2-base deletion: REF window 10,103 bases, ALT window 10,101
    deletion = flops.Job(100_000, "ACG", "A", "+", 0, 10**6)
    expected = 2 * 12 * (flops.padded_macs(10_103, 12) + flops.padded_macs(10_101, 12))
    assert flops.pangolin_flop([deletion], 50) == expected


def test_pangolin_jobs_are_strands_with_a_gene():
    genes = [("+", 1_000, 5_000), ("+", 2_000, 6_000), ("-", 4_000, 9_000)]
    records = [(1_000, "A", "C"), (1_001, "A", "C"), (4_500, "A", "C,G"), (9_500, "A", "C")]
    jobs = flops.pangolin_jobs_of(records, genes, 10**6)
    # a gene that starts at POS is not found (Pangolin's rule); one job per strand, not per gene
    assert [[job.strand for job in record] for record in jobs] == [[], ["+"], ["+", "-"], []]
    assert {job.alt for job in jobs[2]} == {"C"}  # the first ALT only
    assert {(job.tx_start, job.tx_end) for record in jobs for job in record} == {(0, 10**6)}


def test_pangolin_tiles_join_genes_of_a_strand_not_strands():
    records = [(100_000, "A", "C"), (100_500, "A", "C")]
    genes = [("+", 90_000, 100_200), ("+", 100_300, 120_000), ("-", 90_000, 120_000)]
    ours = flops.spliceannot_flop(flops.pangolin_jobs_of(records, genes, 10**6), 50, family=flops.PANGOLIN)
    assert ours["tiles"] == 2 and ours["jobs"] == 4
    assert ours["reference"] == 2 * 12 * 2 * flops.valid_macs(101 + 500, 12)
    assert ours["alternate"] == 2 * 12 * 4 * flops.cone_macs(1, 1, 50, classes=12)
    # a deletion's window reaches len(REF) - 1 bases further right: its tile and its cone are wider
    deletion = flops.spliceannot_flop([[flops.Job(100_000, "ACG", "A", "+", 0, 10**6)]], 50, family=flops.PANGOLIN)
    assert deletion["reference"] == 2 * 12 * flops.valid_macs(103, 12)
    assert deletion["alternate"] == 2 * 12 * flops.cone_macs(3, 1, 50, reach=2, classes=12)


def test_the_engine_executes_the_modelled_pangolin_flop():
    """Count one Pangolin network's convolutions on one window with a 2-base deletion that it covers."""
    torch = __import__("pytest").importorskip("torch")
    np = __import__("numpy")
    from torch.utils.flop_counter import FlopCounterMode

    from spliceannot.engine.architecture import PANGOLIN
    from spliceannot.engine.cone import ConeRunner, Substitution, TrackRequest
    from spliceannot.engine.model import Ensemble, SpliceAI

    torch.manual_seed(0)
    runner = ConeRunner(Ensemble([SpliceAI(PANGOLIN).eval()], select=[1]), torch.device("cpu"))
    width, distance, ref_len = 10_101, 50, 3
    reach = ref_len - 1
    length = width + reach
    tile = np.eye(4, dtype=np.float32)[np.random.default_rng(0).integers(0, 4, length)]
    variant = width // 2
    first_output = variant - width // 2 + flops.FLANK // 2
    request = TrackRequest(0, first_output, 2 * distance + 1 + reach)
    alt = np.eye(4, dtype=np.float32)[[2]]
    substitution = Substitution(0, variant, ref_len, alt, first_output, 2 * distance + 1 + reach + 1 - ref_len)
    with FlopCounterMode(display=False) as counter:
        runner.run([tile], [request], [substitution])
    expected = 2 * (flops.valid_macs(length - flops.FLANK, 12) + flops.cone_macs(ref_len, 1, distance, reach, 12))
    assert counter.get_total_flops() == expected

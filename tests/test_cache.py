"""The SQLite score cache."""

from __future__ import annotations

import multiprocessing

import numpy as np

from spliceannot.cache import ScoreCache, context_digest, transcript_key, variant_key
from spliceannot.scoring import DeltaScores, format_entry


def scores(seed: float, wide: bool = False) -> DeltaScores:
    kind = np.float64 if wide else np.float32
    values = [kind(seed / 7), kind(seed / 11), kind(0.125), kind(1 / 3)]
    return DeltaScores(*values, -3, 2, 0, 49)


def test_round_trip_keeps_values_types_and_formatting(tmp_path):
    cache = ScoreCache(tmp_path / "c.sqlite", context_digest(model="m", annotation="a", distance=50, mask=False, encoding="spliceai"))
    narrow, wide = scores(1.0), scores(2.0, wide=True)
    key_a = (variant_key("chr1", 10, "A", "G"), transcript_key("GENE\tchr1\t+\t0\t100\t0,\t100,"))
    key_b = (variant_key("chr1", 10, "AT", "A"), key_a[1])
    cache.put([(key_a, narrow), (key_b, wide)])
    got = cache.get([key_a, key_b, (variant_key("chr1", 11, "A", "G"), key_a[1])])
    assert set(got) == {key_a, key_b}
    assert got[key_a] == narrow and got[key_b] == wide
    assert all(type(v) is np.float32 for v in got[key_a].scores)
    assert all(type(v) is np.float64 for v in got[key_b].scores)
    for precision in (2, 4):
        assert format_entry("G", "GENE", got[key_a], precision) == format_entry("G", "GENE", narrow, precision)
    assert (cache.hits, cache.misses) == (2, 1)
    assert len(cache) == 2


def test_contexts_do_not_share_scores(tmp_path):
    path = tmp_path / "c.sqlite"
    base = dict(model="m", annotation="a", distance=50, mask=False, encoding="spliceai")
    key = (variant_key("chr1", 10, "A", "G"), transcript_key("row"))
    ScoreCache(path, context_digest(**base)).put([(key, scores(1.0))])
    for change in ({"model": "m2"}, {"annotation": "a2"}, {"distance": 500}, {"mask": True}, {"encoding": "zeros"}):
        assert ScoreCache(path, context_digest(**{**base, **change})).get([key]) == {}
    assert ScoreCache(path, context_digest(**base)).get([key]) == {key: scores(1.0)}


def _writer(path: str, context: str, start: int) -> None:
    cache = ScoreCache(path, context)
    for i in range(start, start + 200, 20):
        cache.put([((variant_key("chr1", j, "A", "G"), "t"), scores(float(j))) for j in range(i, i + 20)])


def test_concurrent_writers_and_readers(tmp_path):
    path = str(tmp_path / "c.sqlite")
    context = context_digest(model="m", annotation="a", distance=50, mask=False, encoding="spliceai")
    ScoreCache(path, context)
    spawn = multiprocessing.get_context("spawn")
    procs = [spawn.Process(target=_writer, args=(path, context, start)) for start in (0, 100, 1000)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    cache = ScoreCache(path, context)
    assert len(cache) == 500  # 0..199 and 100..299 overlap, 1000..1199 apart
    keys = [(variant_key("chr1", j, "A", "G"), "t") for j in range(0, 300)]
    assert len(cache.get(keys)) == 300

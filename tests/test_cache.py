"""The SQLite score cache."""

from __future__ import annotations

import multiprocessing

import numpy as np

from spliceannot.cache import ScoreCache, context_digest, transcript_key, variant_key
from spliceannot.entry import format_entry
from spliceannot.scoring import DeltaScores


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


def _annotate(tiny_model, out, *extra):
    from click.testing import CliRunner
    from toy import FASTA, VARIANTS

    from spliceannot.cli import main

    annotation = [] if "-A" in extra else ["-A", "grch38"]
    result = CliRunner().invoke(main, ["annotate", "-I", str(VARIANTS), "-O", str(out), "-R", str(FASTA),
                                       *annotation, "-m", str(tiny_model), "--workers", "1", *map(str, extra)])
    assert result.exit_code == 0, result.output
    return out.read_text()


def test_annotate_fills_and_then_reads_the_cache(tiny_model, tmp_path, monkeypatch):
    from spliceannot.annotate import VariantScorer

    path = tmp_path / "scores.sqlite"
    first = _annotate(tiny_model, tmp_path / "a.vcf", "--cache", path)
    computed = []
    original = VariantScorer._scores

    def spy(self, jobs):
        result = original(self, jobs)
        if self.cache is not None:
            computed.append((self.cache.hits, self.cache.misses))
        return result

    monkeypatch.setattr(VariantScorer, "_scores", spy)
    second = _annotate(tiny_model, tmp_path / "b.vcf", "--cache", path)
    assert first == second
    hits, misses = computed[-1]
    assert hits > 100 and misses == 0  # every score came from the cache
    uncached = _annotate(tiny_model, tmp_path / "c.vcf", "--no-cache")
    assert uncached == first
    d500 = _annotate(tiny_model, tmp_path / "d.vcf", "--cache", path, "-D", "500")
    assert d500 != first  # another -D is another context, computed afresh


def test_a_changed_annotation_is_never_served_stale_scores(tiny_model, tmp_path):
    from toy import TABLE_HEADER, builtin_rows

    rows = builtin_rows("grch38", {"16", "chr16"})
    flipped = []
    for row in rows:
        fields = row.split("\t")
        fields[2] = "-" if fields[2] == "+" else "+"
        flipped.append("\t".join(fields))
    table_a, table_b = tmp_path / "a.txt", tmp_path / "b.txt"
    table_a.write_text("\n".join([TABLE_HEADER, *rows]) + "\n")
    table_b.write_text("\n".join([TABLE_HEADER, *flipped]) + "\n")
    path = tmp_path / "scores.sqlite"
    a = _annotate(tiny_model, tmp_path / "a.vcf", "--cache", path, "-A", table_a)
    b = _annotate(tiny_model, tmp_path / "b.vcf", "--cache", path, "-A", table_b)
    fresh_b = _annotate(tiny_model, tmp_path / "c.vcf", "--no-cache", "-A", table_b)
    assert b == fresh_b and b != a

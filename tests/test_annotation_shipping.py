"""Scoring processes and Ray actors get the annotation the parent parsed; they never read the GTF."""

from __future__ import annotations

import pickle
import shutil

import pytest
from toy import EXAMPLES, FASTA, VARIANTS

from spliceannot.readers.annotation import Annotation, load_annotation

GTF = EXAMPLES / "chr16_genes.gtf.gz"


def _records(count: int) -> list:
    import pysam

    with pysam.VariantFile(str(VARIANTS)) as source:
        return [record for record in source if record.chrom == "chr16"][:count]


def test_an_annotation_travels_as_its_rows():
    annotation = load_annotation(str(GTF), transcripts="all", cache=False)
    annotation.boundary_distance(0, 200_000)  # fills a lookup cache that must not travel
    arrived = pickle.loads(pickle.dumps(annotation))
    assert isinstance(arrived, Annotation)
    assert arrived.transcripts == annotation.transcripts and arrived.source == annotation.source
    for pos in (190_000, 200_000, 300_000):
        assert arrived.overlapping("chr16", pos) == annotation.overlapping("chr16", pos)
    assert arrived.digest() == annotation.digest()


def test_worker_processes_score_with_the_parents_rows(tmp_path, tiny_model):
    from spliceannot import parallel
    from spliceannot.stream import record_view
    from spliceannot.factory import build_scorer
    from spliceannot.pipeline import AnnotateSettings

    gtf = tmp_path / "genes.gtf.gz"
    shutil.copy(GTF, gtf)
    settings = AnnotateSettings(
        reference=str(FASTA), annotation=str(gtf), model=str(tiny_model), workers=2
    )
    views = [record_view(record) for record in _records(24)]
    expected = build_scorer(settings).score(views)
    pool = parallel.ScoringPool(settings, workers=2)
    try:
        gtf.unlink()  # a worker that read the file itself would fail now
        pieces = [
            pool._executor.submit(parallel._score, views[i : i + 6])
            for i in range(0, len(views), 6)
        ]
        got = [outcome for piece in pieces for outcome in piece.result()]
    finally:
        pool.close()
    assert got == expected


def test_a_bad_annotation_fails_in_the_parent_before_any_worker_starts(tmp_path, tiny_model):
    from spliceannot.errors import InputError
    from spliceannot.parallel import ScoringPool
    from spliceannot.pipeline import AnnotateSettings

    genes_only = tmp_path / "genes-only.gtf"
    genes_only.write_text('chr16\tt\tgene\t200000\t201000\t.\t+\t.\tgene_id "G"; gene_name "G";\n')
    settings = AnnotateSettings(
        reference=str(FASTA), annotation=str(genes_only), model=str(tiny_model)
    )
    with pytest.raises(InputError, match="genes-only.gtf: no transcripts with exons found"):
        ScoringPool(settings, workers=2)


@pytest.mark.slow
def test_ray_actors_score_with_the_drivers_rows(tmp_path, tiny_model):
    pytest.importorskip("ray")
    from spliceannot.stream import record_view
    from spliceannot.cluster.annotate_pool import RayScoringPool
    from spliceannot.cluster.connection import RaySettings, connect, disconnect
    from spliceannot.factory import build_scorer
    from spliceannot.pipeline import AnnotateSettings

    gtf = tmp_path / "genes.gtf.gz"
    shutil.copy(GTF, gtf)
    settings = AnnotateSettings(reference=str(FASTA), annotation=str(gtf), model=str(tiny_model))
    views = [record_view(record) for record in _records(16)]
    expected = build_scorer(settings).score(views)
    connect(None)
    try:
        pool = RayScoringPool(settings, RaySettings(workers=2), gap=10_200)
        gtf.unlink()  # an actor that read the file itself would fail now
        try:
            shards = [views[:8], views[8:]]
            got = [
                o
                for _, outcomes in pool.pool.map_ordered(shards, "score", pool.shard)
                for o in outcomes
            ]
        finally:
            pool.close()
    finally:
        disconnect()
    assert got == expected

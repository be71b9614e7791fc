"""The genomes a lookup server loads: for each, the genome, its transcripts (with details) and the scorers."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from spliceannot.factory import ScorerSpec, build_scorer, check_inputs, model_families
from spliceannot.lookup.transcripts import (
    TranscriptIndex,
    attach_details,
    is_feature_file,
    read_transcript_details,
)
from spliceannot.serve.scorers import MAX_SCORERS, ScorerSet

log = logging.getLogger(__name__)

SPLICEAI, PANGOLIN = "spliceai", "pangolin"


@dataclass(frozen=True)
class GenomeSource:
    """``--genome NAME=FASTA,ANNOTATION``: the name requests use (``hg=38``) and the two inputs."""

    name: str
    reference: str
    annotation: str

    @classmethod
    def parse(cls, text: str) -> GenomeSource:
        """``38=genome.fa.gz,genes.gtf.gz`` -> a source; raises ValueError with a one-line reason."""
        name, equals, rest = text.partition("=")
        reference, comma, annotation = rest.rpartition(",")
        if not equals or not comma or not name.strip() or not reference or not annotation:
            raise ValueError(f"--genome {text}: expected NAME=FASTA,ANNOTATION (e.g. 38=hg38.fa.gz,grch38)")
        name = name.strip()
        if not name.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"--genome {text}: NAME may hold letters, digits, - and _ only")
        return cls(name, reference, annotation)


class SharedCacheScorers(ScorerSet):
    """A scorer set whose scorers for other ``-D``/``-M`` use the base scorer's PostgreSQL store."""

    def _cache(self, distance: int, mask: bool):
        from spliceannot.cache_postgres import PostgresEntryCache, PostgresScoreCache

        base_cache = getattr(self.base, "cache", None)
        if not isinstance(base_cache, (PostgresScoreCache, PostgresEntryCache)):
            return super()._cache(distance, mask)
        if isinstance(base_cache, PostgresEntryCache):  # Pangolin: the context names every setting
            return base_cache.store.entries(self.base.derive(distance=distance, mask=mask).context())
        return base_cache.store.scores(self._context(distance, mask))


def attach_postgres(scorer, store, encoding: str) -> None:
    """Give a freshly built scorer its cache in ``store`` (the context a SQLite cache would have)."""
    from spliceannot.cache import context_digest
    from spliceannot.pangolin.scorer import PangolinScorer

    if isinstance(scorer, PangolinScorer):
        scorer.cache = store.entries(scorer.context())
        return
    scorer.cache = store.scores(context_digest(
        model=scorer.model_digest, annotation=scorer.annotation.digest(), distance=scorer.distance,
        mask=scorer.mask, encoding=encoding,
    ))  # fmt: skip


class Genome:
    """One loaded genome: its scorers per model and ``(-D, -M)``, and its transcripts.

    Parameters
    ----------
    name
        What requests call it (``37``, ``38``, ...).
    spec
        The scorer settings (its ``reference`` and ``annotation`` are this
        genome's; every transcript is scored, as SpliceAI-lookup does).
    max_scorers
        Scorers kept per model for ``-D``/``-M`` other than the spec's own.
    """

    def __init__(self, name: str, spec: ScorerSpec, *, max_scorers: int = MAX_SCORERS, store=None) -> None:
        from spliceannot.group import ScorerGroup

        self.name = name
        self.spec = spec
        check_inputs(spec)
        built = build_scorer(spec)
        parts = built.scorers if isinstance(built, ScorerGroup) else [built]
        if store is not None:
            for part in parts:
                attach_postgres(part, store, spec.encoding)
        families = [family for family, _ in model_families(spec)]
        self.scorers: dict[str, ScorerSet] = {
            family: SharedCacheScorers(
                part,
                model_digest=part.model_digest,
                encoding=spec.encoding,
                max_scorers=max_scorers,
                name="Pangolin" if family == PANGOLIN else "",
            )
            for family, part in zip(families, parts)
        }
        self.models = tuple(model for model in (SPLICEAI, PANGOLIN) if model in self.scorers)
        first = parts[0]
        self.reference = first.reference
        self.annotation = self._annotation()
        rows = self.annotation.transcripts if self.annotation is not None else []
        details = read_transcript_details(spec.annotation) if is_feature_file(spec.annotation) else []
        self.transcripts = TranscriptIndex(rows, attach_details(rows, details))
        log.info("genome %s: %s, %s (%d transcripts, %d with IDs)", name, spec.reference,
                 spec.annotation, len(rows), sum(d is not None for d in self.transcripts.details))

    def _annotation(self):
        """SpliceAI's rows; for a Pangolin-only server, the same file read as SpliceAI reads it."""
        if SPLICEAI in self.scorers:
            return self.scorers[SPLICEAI].base.annotation
        from spliceannot.pangolin.genes import is_feature_db
        from spliceannot.readers.annotation import load_annotation

        if is_feature_db(self.spec.annotation):
            return None
        return load_annotation(self.spec.annotation, transcripts="all")

    def fetch(self, chrom: str, start0: int, end0: int) -> str:
        """Upper-case bases of ``[start0, end0)`` on ``chrom`` (``chr16`` and ``16`` alike)."""
        contig = self.reference.resolve(chrom)
        if contig is None:
            raise ValueError(f"contig {chrom} is not in the genome")
        if start0 < 0 or end0 > self.reference.length(contig):
            raise ValueError(f"the position is off contig {chrom} (1-{self.reference.length(contig)})")
        return self.reference.fetch(contig, start0, end0).upper()

    def describe(self) -> dict:
        """What ``/health`` and the page say about this genome."""
        return {
            "name": self.name,
            "reference": self.spec.reference,
            "annotation": self.spec.annotation,
            "models": list(self.models),
            "transcripts": len(self.transcripts.rows),
            "model_digests": {m: s.model_digest for m, s in self.scorers.items()},
        }


def load_genomes(sources: list[GenomeSource], spec: ScorerSpec, *, max_scorers: int = MAX_SCORERS) -> dict[str, Genome]:
    """Every ``--genome``, in the order given, with ``spec``'s model and options and all transcripts.

    ``spec.cache`` may be a ``postgresql://`` URL: one store then serves every genome and model.
    """
    from spliceannot.cache_postgres import PostgresStore, is_postgres_url

    store = None
    if is_postgres_url(spec.cache):
        store = PostgresStore(spec.cache)
        spec = replace(spec, cache=None)
    genomes: dict[str, Genome] = {}
    for source in sources:
        if source.name in genomes:
            raise ValueError(f"--genome {source.name} given twice")
        own = replace(spec, reference=source.reference, annotation=source.annotation, transcripts="all",
                      precomputed=())  # fmt: skip
        genomes[source.name] = Genome(source.name, own, max_scorers=max_scorers, store=store)
    return genomes

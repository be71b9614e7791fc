"""The scorer every command uses: what a scorer needs (:class:`ScorerSpec`) and how it is made.

``annotate``, ``serve``, ``plot``, ``report`` and the worker processes and
Ray actors all build their :class:`~spliceannot.annotate.VariantScorer` here,
from a small frozen spec (no output, pool or command options in it).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from spliceannot.annotate import VariantScorer
from spliceannot.errors import InputError
from spliceannot.windows import MAX_DISTANCE

__all__ = ["LazyTracks", "ModelTracks", "ScorerSpec", "build_scorer", "check_inputs"]


@dataclass(frozen=True)
class ScorerSpec:
    """What a worker needs to build a scorer: inputs, model and scoring options."""

    reference: str
    annotation: str
    model: str = "spliceai"
    distance: int = 50
    mask: bool = False
    precision: int = 2
    transcripts: str = "canonical"
    encoding: str = "spliceai"
    compute: str = "cone"
    device: str = "auto"
    batch_size: int = 32
    threads_per_worker: int = 1  # CPU threads of the process that computes
    cache: str | None = None  # the score cache's SQLite file; None = no cache
    precomputed: tuple[str, ...] = ()  # tabix-indexed score VCFs consulted before computing
    # Pangolin (``model`` of its family, or ``pangolin``: a Pangolin model scored in the same pass)
    pangolin: str | None = None
    pangolin_mask: bool = True  # Pangolin's -m True
    pangolin_cutoff: float | None = None  # Pangolin's -s
    pangolin_score_exons: bool = False  # Pangolin's --score_exons True
    pangolin_mask_per_gene: bool = False  # opt-in: no masking leak between genes of one strand
    pangolin_tissue_fields: bool = False  # opt-in: numeric INFO fields per tissue
    haplotypes: str | None = None  # background or combined: each ALT also in its samples' haplotypes
    mnv: bool = False  # opt-in: score records whose REF and ALT are both longer than 1

    @classmethod
    def of(cls, settings) -> ScorerSpec:
        """The spec part of any settings object with these fields (``AnnotateSettings``)."""
        if type(settings) is cls:
            return settings
        return cls(**{f.name: getattr(settings, f.name) for f in fields(cls)})


def _check_distance(settings: ScorerSpec) -> None:
    if not 0 <= settings.distance <= MAX_DISTANCE:
        raise InputError(f"-D must be between 0 and {MAX_DISTANCE}, got {settings.distance}")


def model_families(settings: ScorerSpec) -> list[tuple[str, str]]:
    """``(family, model)`` of each model scored, in INFO order: ``spliceai`` and/or ``pangolin``."""
    from spliceannot.engine.files import model_family, model_files

    family = model_family(settings.model, model_files(settings.model)) or "spliceai"
    models = [(family, settings.model)]
    if settings.pangolin is not None:
        if family == "pangolin":
            raise InputError(f"-m {settings.model} and -m {settings.pangolin}: two Pangolin models in one pass")
        if (model_family(settings.pangolin, model_files(settings.pangolin)) or "spliceai") != "pangolin":
            raise InputError(f"-m {settings.model} and -m {settings.pangolin}: two SpliceAI models in one pass")
        models.append(("pangolin", settings.pangolin))
    return models


def info_headers(settings: ScorerSpec) -> list[str]:
    """The INFO header lines of the fields a run with ``settings`` writes, in order."""
    from spliceannot.entry import INFO_HEADER
    from spliceannot.pangolin.scorer import INFO_HEADER as PANGOLIN_HEADER
    from spliceannot.pangolin.scorer import TISSUE_HEADERS

    lines = []
    for family, _ in model_families(settings):
        if family == "spliceai":
            lines.append(INFO_HEADER)
        else:
            lines.append(PANGOLIN_HEADER)
            lines.extend(TISSUE_HEADERS if settings.pangolin_tissue_fields else ())
    return lines


def parent_annotation(settings: ScorerSpec):
    """The annotation loaded once for every worker (None: a gffutils database each worker opens)."""
    from spliceannot.pangolin.genes import is_feature_db
    from spliceannot.readers.annotation import load_annotation

    if is_feature_db(settings.annotation):
        return None
    return load_annotation(settings.annotation, transcripts=settings.transcripts)


def check_inputs(settings: ScorerSpec) -> None:
    """Cheap checks, in the parent, of inputs that worker processes load themselves."""
    from spliceannot.engine.files import model_files
    from spliceannot.pangolin.genes import FeatureDbGenes, is_feature_db
    from spliceannot.readers.annotation import BUILTIN_TABLES, builtin_table_path
    from spliceannot.readers.fasta import Reference

    settings = ScorerSpec.of(settings)
    _check_distance(settings)
    Reference(settings.reference).close()
    families = [family for family, _ in model_families(settings)]
    if settings.annotation in BUILTIN_TABLES:
        builtin_table_path(settings.annotation)
    elif is_feature_db(settings.annotation):
        if "spliceai" in families:
            raise InputError(f"{settings.annotation}: a gffutils database is Pangolin's annotation; "
                             "SpliceAI needs grch37, grch38, a table or a GTF/GFF3")
        FeatureDbGenes(settings.annotation)
    elif not Path(settings.annotation).is_file():
        raise InputError(f"{settings.annotation}: annotation not found (expected grch37, grch38, a table or a GTF/GFF3)")
    if settings.cache:
        from spliceannot.cache import ScoreCache

        ScoreCache(settings.cache, "check").close()
    if settings.precomputed:
        from spliceannot.readers.precomputed import PrecomputedScores

        PrecomputedScores(list(settings.precomputed)).close()
    for _, model in model_families(settings):
        model_files(model)


class ModelTracks:
    """Loads the model when first needed and makes the track source (it serves any window geometry).

    Runs whose scores all come from the score cache or precomputed files
    never import torch or read the networks.
    """

    def __init__(self, settings: ScorerSpec, reference, flank: int, digest: str, model=None) -> None:
        self.settings = settings
        self.reference = reference
        self.flank = flank
        self.digest = digest
        self._model = model
        self._compute = None

    def _load(self):
        from spliceannot.engine._device import set_cpu_threads
        from spliceannot.engine.cone import ConeRunner
        from spliceannot.engine.runner import Predictor
        from spliceannot.engine.weights import load_model
        from spliceannot.errors import ModelError

        settings = self.settings
        set_cpu_threads(settings.threads_per_worker)
        model = self._model or load_model(settings.model)
        if model.flank != self.flank or model.digest != self.digest:
            raise ModelError(f"{settings.model}: the weight files changed while running")
        predictor = Predictor(model, device=settings.device, batch_size=settings.batch_size)
        if settings.compute == "window":
            self._compute = ("window", predictor.predict)
        else:
            self._compute = ("cone", ConeRunner(predictor.ensemble, predictor.device, batch_size=settings.batch_size))

    def _source(self, window_type, cone_type):
        """A track source of ``window_type`` (``--compute window``) or ``cone_type`` over the loaded model."""
        if self._compute is None:
            self._load()
        kind, engine = self._compute
        return (window_type if kind == "window" else cone_type)(self.reference, engine, self.settings.encoding)

    def haplotype_tracks(self):
        """A :class:`~spliceannot.haplotypes.tracks.HaplotypeConeTracks` or ``HaplotypeWindowTracks``."""
        from spliceannot.haplotypes.tracks import HaplotypeConeTracks, HaplotypeWindowTracks

        return self._source(HaplotypeWindowTracks, HaplotypeConeTracks)

    def tracks(self):
        """A :class:`~spliceannot.tracks.ConeTracks` or ``WindowTracks``, called as ``tracks(jobs, geometry)``."""
        from spliceannot.tracks import ConeTracks, WindowTracks

        return self._source(WindowTracks, ConeTracks)


class LazyTracks:
    """A track source that builds the real one (and loads the model) on its first non-empty call.

    Called as ``tracks(jobs, geometry)`` like the real one; every scorer
    derived from one scorer shares it, so the model is loaded once.
    """

    def __init__(self, models: ModelTracks) -> None:
        self.models = models
        self._built: dict[str, object] = {}  # "records" and "haplotypes": the real sources, once built

    def _run(self, which: str, make, jobs, geometry):
        if not jobs:
            return []
        if which not in self._built:
            self._built[which] = make()
        return self._built[which](jobs, geometry)

    def __call__(self, jobs, geometry):
        return self._run("records", self.models.tracks, jobs, geometry)

    def haplotypes(self, jobs, geometry):
        """Tracks of :class:`~spliceannot.haplotypes.tracks.HaplotypeJob` s, from the same loaded model."""
        return self._run("haplotypes", self.models.haplotype_tracks, jobs, geometry)


def build_scorer(settings: ScorerSpec, annotation=None):
    """The scorer of ``settings``: SpliceAI's :class:`VariantScorer`, a
    :class:`~spliceannot.pangolin.scorer.PangolinScorer`, or both in one pass
    (:class:`~spliceannot.group.ScorerGroup`).  The genome and the
    annotation are opened once; models load when a score is first computed.

    ``annotation``: the :class:`~spliceannot.readers.annotation.Annotation`
    of ``settings.annotation`` when the caller has loaded it already (worker
    processes get it from the parent instead of parsing the file again).
    """
    from spliceannot.readers.fasta import Reference

    settings = ScorerSpec.of(settings)
    _check_distance(settings)
    if settings.compute not in ("cone", "window"):
        raise InputError(f"--compute must be cone or window, got {settings.compute!r}")
    families = model_families(settings)
    reference = Reference(settings.reference)
    scorers = []
    for family, model in families:
        if family == "pangolin":
            scorers.append(_pangolin_scorer(settings, model, reference, annotation))
        else:
            scorers.append(_spliceai_scorer(settings, reference, annotation))
            annotation = scorers[-1].annotation
    if len(scorers) == 1:
        return scorers[0]
    from spliceannot.group import ScorerGroup

    return ScorerGroup(scorers)


def _model_tracks(settings: ScorerSpec, model_spec: str, reference) -> tuple[LazyTracks, str, int]:
    """The lazily loaded track source of ``model_spec``, its digest and flank."""
    from dataclasses import replace

    from spliceannot.engine.files import file_digest, model_files, peek_flank

    paths = model_files(model_spec)
    digest, flank, model = file_digest(paths), peek_flank(model_spec, paths), None
    if flank is None:  # the flank is only known by loading the networks
        from spliceannot.engine._device import set_cpu_threads
        from spliceannot.engine.weights import load_model

        set_cpu_threads(settings.threads_per_worker)
        model = load_model(model_spec)
        flank, digest = model.flank, model.digest
    own = replace(settings, model=model_spec, pangolin=None)
    return LazyTracks(ModelTracks(own, reference, flank, digest, model)), digest, flank


def _pangolin_scorer(settings: ScorerSpec, model_spec: str, reference, annotation):
    from spliceannot.pangolin.genes import open_genes
    from spliceannot.pangolin.scorer import PangolinScorer

    genes = open_genes(settings.annotation, annotation, transcripts=settings.transcripts)
    tracks, digest, _ = _model_tracks(settings, model_spec, reference)
    scorer = PangolinScorer(
        reference,
        genes,
        tracks,
        distance=settings.distance,
        mask=settings.pangolin_mask,
        cutoff=settings.pangolin_cutoff,
        score_exons=settings.pangolin_score_exons,
        mask_per_gene=settings.pangolin_mask_per_gene,
        model_digest=digest,
        tissue_fields=settings.pangolin_tissue_fields,
    )
    if settings.cache:
        from spliceannot.cache import EntryCache

        scorer.cache = EntryCache(settings.cache, scorer.context())
    return scorer


def _spliceai_scorer(settings: ScorerSpec, reference, annotation) -> VariantScorer:
    from spliceannot.readers.annotation import load_annotation
    from spliceannot.windows import WindowGeometry

    if annotation is None:
        annotation = load_annotation(settings.annotation, transcripts=settings.transcripts)
    tracks, digest, flank = _model_tracks(settings, settings.model, reference)
    geometry = WindowGeometry(flank=flank, distance=settings.distance)
    cache = None
    if settings.cache:
        from spliceannot.cache import ScoreCache, context_digest

        context = context_digest(
            model=digest,
            annotation=annotation.digest(),
            distance=settings.distance,
            mask=settings.mask,
            encoding=settings.encoding,
        )
        cache = ScoreCache(settings.cache, context)
    precomputed = None
    if settings.precomputed:
        from spliceannot.readers.precomputed import PrecomputedScores

        precomputed = PrecomputedScores(list(settings.precomputed))
    scorer = VariantScorer(
        reference,
        annotation,
        tracks,
        geometry=geometry,
        mask=settings.mask,
        precision=settings.precision,
        cache=cache,
        precomputed=precomputed,
        model_digest=digest,
        mnv=settings.mnv,
    )
    if settings.haplotypes:
        from spliceannot.haplotypes.scorer import HaplotypeScorer

        return HaplotypeScorer(scorer, tracks.haplotypes, settings.haplotypes)
    return scorer


def spliceai_flank(settings: ScorerSpec) -> int:
    """The flank of the SpliceAI-family model of ``settings`` (10,000 for SpliceAI's own)."""
    from spliceannot.engine.files import model_files, peek_flank

    flank = peek_flank(settings.model, model_files(settings.model))
    if flank is None:
        from spliceannot.engine.weights import load_model

        flank = load_model(settings.model).flank
    return flank

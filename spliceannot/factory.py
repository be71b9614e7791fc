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

    @classmethod
    def of(cls, settings) -> ScorerSpec:
        """The spec part of any settings object with these fields (``AnnotateSettings``)."""
        if type(settings) is cls:
            return settings
        return cls(**{f.name: getattr(settings, f.name) for f in fields(cls)})


def _check_distance(settings: ScorerSpec) -> None:
    if not 0 <= settings.distance <= MAX_DISTANCE:
        raise InputError(f"-D must be between 0 and {MAX_DISTANCE}, got {settings.distance}")


def check_inputs(settings: ScorerSpec) -> None:
    """Cheap checks, in the parent, of inputs that worker processes load themselves."""
    from spliceannot.engine.files import model_files
    from spliceannot.readers.annotation import BUILTIN_TABLES, builtin_table_path
    from spliceannot.readers.fasta import Reference

    settings = ScorerSpec.of(settings)
    _check_distance(settings)
    Reference(settings.reference).close()
    if settings.annotation in BUILTIN_TABLES:
        builtin_table_path(settings.annotation)
    elif not Path(settings.annotation).is_file():
        raise InputError(f"{settings.annotation}: annotation not found (expected grch37, grch38, a table or a GTF/GFF3)")
    if settings.cache:
        from spliceannot.cache import ScoreCache

        ScoreCache(settings.cache, "check").close()
    if settings.precomputed:
        from spliceannot.readers.precomputed import PrecomputedScores

        PrecomputedScores(list(settings.precomputed)).close()
    model_files(settings.model)


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

    def tracks(self):
        """A :class:`~spliceannot.tracks.ConeTracks` or ``WindowTracks``, called as ``tracks(jobs, geometry)``."""
        from spliceannot.tracks import ConeTracks, WindowTracks

        if self._compute is None:
            self._load()
        kind, engine = self._compute
        if kind == "window":
            return WindowTracks(self.reference, engine, self.settings.encoding)
        return ConeTracks(self.reference, engine, self.settings.encoding)


class LazyTracks:
    """A track source that builds the real one (and loads the model) on its first non-empty call.

    Called as ``tracks(jobs, geometry)`` like the real one; every scorer
    derived from one scorer shares it, so the model is loaded once.
    """

    def __init__(self, models: ModelTracks) -> None:
        self.models = models
        self._tracks = None

    def __call__(self, jobs, geometry):
        if not jobs:
            return []
        if self._tracks is None:
            self._tracks = self.models.tracks()
        return self._tracks(jobs, geometry)


def build_scorer(settings: ScorerSpec, annotation=None) -> VariantScorer:
    """Open the genome and the annotation; the model is loaded when a score is first computed.

    ``annotation``: the :class:`~spliceannot.readers.annotation.Annotation`
    of ``settings.annotation`` when the caller has loaded it already (worker
    processes get it from the parent instead of parsing the file again).
    """
    from spliceannot.engine.files import file_digest, model_files, peek_flank
    from spliceannot.readers.annotation import load_annotation
    from spliceannot.readers.fasta import Reference
    from spliceannot.windows import WindowGeometry

    settings = ScorerSpec.of(settings)
    _check_distance(settings)
    if settings.compute not in ("cone", "window"):
        raise InputError(f"--compute must be cone or window, got {settings.compute!r}")
    reference = Reference(settings.reference)
    if annotation is None:
        annotation = load_annotation(settings.annotation, transcripts=settings.transcripts)
    paths = model_files(settings.model)
    digest, flank, model = file_digest(paths), peek_flank(settings.model, paths), None
    if flank is None:  # the flank is only known by loading the networks
        from spliceannot.engine._device import set_cpu_threads
        from spliceannot.engine.weights import load_model

        set_cpu_threads(settings.threads_per_worker)
        model = load_model(settings.model)
        flank, digest = model.flank, model.digest
    geometry = WindowGeometry(flank=flank, distance=settings.distance)
    tracks = LazyTracks(ModelTracks(settings, reference, flank, digest, model))
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
    return VariantScorer(
        reference,
        annotation,
        tracks,
        geometry=geometry,
        mask=settings.mask,
        precision=settings.precision,
        cache=cache,
        precomputed=precomputed,
        model_digest=digest,
    )

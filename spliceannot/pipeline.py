"""``annotate`` end to end: open inputs, stream records through the scorer, write safely."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from spliceannot import __version__
from spliceannot.annotate import (
    Summary,
    VariantScorer,
    annotate_records,
    per_allele_header_lines,
)
from spliceannot.errors import InputError
from spliceannot.readers.vcf import open_variants
from spliceannot.scoring import INFO_HEADER
from spliceannot.writers.vcf import AtomicVariantWriter, output_type_for

log = logging.getLogger(__name__)

MAX_DISTANCE = 4999  # SpliceAI accepts -D 0..4999


@dataclass(frozen=True)
class AnnotateSettings:
    """Everything ``annotate`` needs besides its inputs and outputs."""

    reference: str
    annotation: str
    model: str = "spliceai"
    distance: int = 50
    mask: bool = False
    precision: int = 2
    per_allele_fields: bool = False
    transcripts: str = "canonical"
    encoding: str = "spliceai"
    compute: str = "cone"
    device: str = "auto"
    batch_size: int = 32
    chunk_size: int = 256
    threads: int = 0
    workers: int = 0  # 0 = auto
    threads_per_worker: int = 1  # 0 = torch's default
    cache: str | None = None  # the score cache's SQLite file; None = no cache
    precomputed: tuple[str, ...] = ()  # tabix-indexed score VCFs consulted before computing
    engine: str = "local"  # local (this machine's processes) or ray (actors on a Ray cluster)
    ray_address: str | None = None  # --engine ray: None = start a local cluster; auto or HOST:PORT = join


def _check_distance(settings: AnnotateSettings) -> None:
    if not 0 <= settings.distance <= MAX_DISTANCE:
        raise InputError(f"-D must be between 0 and {MAX_DISTANCE}, got {settings.distance}")


def check_inputs(settings: AnnotateSettings) -> None:
    """Cheap checks, in the parent, of inputs that worker processes load themselves."""
    from spliceannot.engine.files import model_files
    from spliceannot.readers.annotation import BUILTIN_TABLES, builtin_table_path
    from spliceannot.readers.fasta import Reference

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


def resolve_workers(settings: AnnotateSettings) -> int:
    """``workers=0`` (auto): one process per two usable CPUs (SMT siblings share a core), at most 4; 1 on a GPU."""
    if settings.workers > 0:
        return settings.workers
    if settings.device.startswith("cuda"):
        return 1
    if settings.device == "auto" and _cuda_possible():
        import torch

        if torch.cuda.is_available():
            return 1
    return max(1, min(len(os.sched_getaffinity(0)) // 2, 4))


def _cuda_possible() -> bool:
    """Whether an NVIDIA device node exists (cheap; avoids importing torch when there is none)."""
    return any(Path("/dev").glob("nvidia[0-9]*")) or bool(os.environ.get("SPLICEANNOT_ASSUME_CUDA"))


class ModelTracks:
    """Loads the model when first needed and makes track sources for any window geometry.

    Runs whose scores all come from the score cache or precomputed files
    never import torch or read the networks.
    """

    def __init__(self, settings: AnnotateSettings, reference, flank: int, digest: str, model=None) -> None:
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

    def tracks(self, geometry):
        """A :class:`~spliceannot.tracks.ConeTracks` or ``WindowTracks`` for ``geometry``."""
        from spliceannot.tracks import ConeTracks, WindowTracks

        if self._compute is None:
            self._load()
        kind, engine = self._compute
        if kind == "window":
            return WindowTracks(self.reference, geometry, engine, self.settings.encoding)
        return ConeTracks(self.reference, geometry, engine, self.settings.encoding)


class LazyTracks:
    """A track source that builds the real one (and loads the model) on its first non-empty call.

    ``geometry`` may be replaced on a copy (``serve`` derives scorers for
    other ``-D``); copies share one loaded model.
    """

    def __init__(self, models: ModelTracks, geometry) -> None:
        self.models = models
        self.geometry = geometry
        self._tracks = None

    def __call__(self, jobs):
        if not jobs:
            return []
        if self._tracks is None or self._tracks.geometry is not self.geometry:
            self._tracks = self.models.tracks(self.geometry)
        return self._tracks(jobs)


def build_scorer(settings: AnnotateSettings, annotation=None) -> VariantScorer:
    """Open the genome and the annotation; the model is loaded when a score is first computed.

    ``annotation``: the :class:`~spliceannot.readers.annotation.Annotation`
    of ``settings.annotation`` when the caller has loaded it already (worker
    processes get it from the parent instead of parsing the file again).
    """
    from spliceannot.engine.files import file_digest, model_files, peek_flank
    from spliceannot.readers.annotation import load_annotation
    from spliceannot.readers.fasta import Reference
    from spliceannot.windows import WindowGeometry

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
    tracks = LazyTracks(ModelTracks(settings, reference, flank, digest, model), geometry)
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


OUTPUT_MODES = ("vcf", "per-gene")


def _ray_pool(settings: AnnotateSettings):
    """Actors on a Ray cluster (started here when no address is given)."""
    from spliceannot.distributed import ENGINES, RayScoringPool, RaySettings

    if settings.engine not in ENGINES:
        raise InputError(f"--engine must be one of {', '.join(ENGINES)}, not {settings.engine!r}")
    check_inputs(settings)
    cluster = RaySettings(
        address=settings.ray_address,
        workers=settings.workers,
        threads=max(1, settings.threads_per_worker),
        device=settings.device,
    )
    # records further apart than SpliceAI's widest window share no reference sequence
    return RayScoringPool(settings, cluster, gap=10_000 + 2 * settings.distance)


def annotate_vcf(
    input_path: str,
    output_path: str,
    settings: AnnotateSettings,
    *,
    output_type: str | None = None,
    regions: list[str] | None = None,
    index: bool = False,
    command_line: str = "",
    progress: Callable[[int], None] | None = None,
    scorer: VariantScorer | None = None,
    output_mode: str = "vcf",
) -> Summary:
    """Annotate ``input_path`` into ``output_path`` (``-`` for stdin/stdout).

    The output header is the input's plus SpliceAI's INFO line (byte for
    byte) and ``##spliceannotVersion``/``##spliceannotCommand`` lines.
    Every input record is written, in order; unscored ones unchanged.  With
    ``output_mode="per-gene"`` the output is instead one line per SpliceAI
    entry (ALT and gene), bgzipped and tabix-indexed, and unscored records
    are left out (counted in ``Summary.omitted``).
    """
    if output_mode not in OUTPUT_MODES:
        raise InputError(f"--output-mode must be one of {', '.join(OUTPUT_MODES)}, not {output_mode!r}")
    kind = output_type_for(output_path, output_type)
    if output_mode == "per-gene" and (output_path == "-" or kind != "z"):
        raise InputError("--output-mode per-gene writes a bgzipped, tabix-indexed VCF: give -O FILE.vcf.gz")
    if index and output_mode == "vcf" and (output_path == "-" or kind not in ("z", "b")):
        raise InputError("--write-index needs an output file of type z (bgzipped VCF) or b (BCF)")
    source = open_variants(input_path, threads=settings.threads, regions=regions)
    writer = None
    pool = None
    try:
        workers = 1 if scorer is not None else resolve_workers(settings)
        if scorer is None and settings.engine == "ray":
            pool = _ray_pool(settings)
        elif workers > 1:
            from spliceannot.parallel import ScoringPool

            check_inputs(settings)
            pool = ScoringPool(settings, workers, settings.threads_per_worker)
        elif scorer is None:
            scorer = build_scorer(settings)
        header = source.header  # records refer to it: extend it in place
        header.add_line(INFO_HEADER)
        if settings.per_allele_fields:
            for line in per_allele_header_lines():
                header.add_line(line)
        provenance = [f"##spliceannotVersion={__version__}"]
        if command_line:
            provenance.append(f"##spliceannotCommand={command_line}")
            provenance.append(f"##spliceannotWorkingDirectory={os.getcwd()}")
        for line in provenance:
            header.add_line(line)
        if output_mode == "per-gene":
            from spliceannot.writers.per_gene import PerGeneWriter

            writer = PerGeneWriter(output_path, header, provenance)
        else:
            writer = AtomicVariantWriter(
                output_path, header, output_type=kind, threads=settings.threads, index=index
            )
        summary = annotate_records(
            source.records(),
            scorer,
            writer.write,
            chunk_size=settings.chunk_size,
            per_allele_fields=settings.per_allele_fields,
            progress=progress,
            pool=pool,
        )
        summary.retried = getattr(pool, "retried", 0)
        if output_mode == "per-gene":
            summary.omitted = writer.skipped
            summary.lines = writer.lines
        writer.close()
        writer = None
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    finally:
        if pool is not None:
            pool.close()
        source.close()
    return summary

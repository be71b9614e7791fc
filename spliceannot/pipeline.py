"""``annotate`` end to end: open inputs, stream records through the scorer, write safely."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from spliceannot import __version__
from spliceannot.annotate import VariantScorer
from spliceannot.entry import per_allele_header_lines
from spliceannot.errors import InputError
from spliceannot.factory import ScorerSpec, build_scorer, check_inputs, info_headers, model_families
from spliceannot.outcome import Summary
from spliceannot.readers.vcf import open_variants
from spliceannot.stream import annotate_records
from spliceannot.writers.vcf import AtomicVariantWriter, output_type_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnnotateSettings(ScorerSpec):
    """Everything ``annotate`` needs besides its inputs and outputs: a scorer's
    :class:`~spliceannot.factory.ScorerSpec` plus output and pool options."""

    per_allele_fields: bool = False
    chunk_size: int = 256
    threads: int = 0  # htslib (de)compression threads
    workers: int = 0  # 0 = auto
    engine: str = "local"  # local (this machine's processes) or ray (actors on a Ray cluster)
    ray_address: str | None = None  # --engine ray: None = start a local cluster; auto or HOST:PORT = join

    @property
    def spec(self) -> ScorerSpec:
        """What each worker needs to build its scorer."""
        return ScorerSpec.of(self)


def resolve_workers(settings: AnnotateSettings) -> int:
    """``workers=0`` (auto): one process per two usable CPUs, at most 4; 1 on a GPU.

    benchmarks/RESULTS-workers.md measured 2 processes 1.68x faster than 1 on
    2 CPUs, but worker processes outlive a parent killed by SIGPIPE
    (``| head``) and hold its pipes open, so the default stays one process
    on 2 CPUs until they end with their parent.
    """
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


OUTPUT_MODES = ("vcf", "per-gene")


def _ray_pool(settings: AnnotateSettings):
    """Actors on a Ray cluster (started here when no address is given)."""
    from spliceannot.cluster.annotate_pool import RayScoringPool
    from spliceannot.cluster.connection import ENGINES, RaySettings

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
    return RayScoringPool(settings.spec, cluster, gap=10_000 + 2 * settings.distance)


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

    The output header is the input's plus the INFO line of each model
    (SpliceAI's, Pangolin's: byte for byte) and ``##spliceannotVersion``/``##spliceannotCommand`` lines.
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
    families = [family for family, _ in model_families(settings)]
    if families[0] != "spliceai" and (output_mode != "vcf" or settings.per_allele_fields):
        raise InputError("--output-mode per-gene and --per-allele-fields are SpliceAI's: give -m spliceai first")
    if settings.haplotypes and (output_mode != "vcf" or families[0] != "spliceai"):
        raise InputError("--haplotypes writes FORMAT fields of SpliceAI's scores: give -m spliceai first and "
                         "--output-mode vcf")
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
            pool = ScoringPool(settings.spec, workers, settings.threads_per_worker)
        else:
            from spliceannot.parallel import InProcessPool

            pool = InProcessPool(scorer if scorer is not None else build_scorer(settings.spec))
        header = source.header  # records refer to it: extend it in place
        for line in info_headers(settings):
            header.add_line(line)
        if settings.per_allele_fields:
            for line in per_allele_header_lines():
                header.add_line(line)
        provenance = [f"##spliceannotVersion={__version__}"]
        if command_line:
            provenance.append(f"##spliceannotCommand={command_line}")
            provenance.append(f"##spliceannotWorkingDirectory={os.getcwd()}")
        for line in provenance:
            header.add_line(line)
        records, sample_fields = source.records(), None
        if settings.haplotypes:
            records, sample_fields = _haplotype_stream(input_path, source, settings)
        if output_mode == "per-gene":
            from spliceannot.writers.per_gene import PerGeneWriter

            writer = PerGeneWriter(output_path, header, provenance)
        else:
            writer = AtomicVariantWriter(
                output_path, header, output_type=kind, threads=settings.threads, index=index
            )
        summary = annotate_records(
            records,
            pool,
            writer.write,
            chunk_size=settings.chunk_size,
            per_allele_fields=settings.per_allele_fields,
            progress=progress,
            sample_fields=sample_fields,
            record_values=not getattr(writer, "keeps_lines", False),
        )
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


def _haplotype_stream(input_path: str, source, settings: AnnotateSettings):
    """``--haplotypes``: the records with their samples' local haplotypes, and the FORMAT values
    to write (the header gains their lines)."""
    from spliceannot.factory import spliceai_flank
    from spliceannot.haplotypes import fields
    from spliceannot.haplotypes.contexts import haplotype_items
    from spliceannot.readers.vcf import display_name

    header = source.header
    samples = len(header.samples)
    if not samples:
        raise InputError(f"{display_name(input_path)}: --haplotypes needs sample genotypes (FORMAT/GT), "
                         "but the input has no sample columns")
    for line in fields.header_lines(settings.haplotypes):
        header.add_line(line)
    reach = spliceai_flank(settings) // 2 + settings.distance
    records = haplotype_items(source.records(), reach=reach, samples=samples, path=display_name(input_path))

    def sample_fields(item, outcome):
        values = fields.sample_values(item, outcome)
        return None if values is None else (fields.KEYS, values)

    return records, sample_fields

"""``spliceannot annotate``: SpliceAI's command line, with bcftools habits."""

from __future__ import annotations

import shlex
import signal
import sys

import click

from spliceannot.commands import options
from spliceannot.commands._common import (
    fail,
    handle_signals,
    log_to_stderr,
    progress_bar,
    resolve_cache,
)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-I", "input_path", default="-", show_default=True, metavar="VCF",
              help="Input VCF, bgzipped VCF or BCF ('-' = standard input).")
@click.option("-O", "output_path", default=None, metavar="OUT",
              help="Output file ('-' = standard output, the default); type from the name or --output-type.")
@click.option("-o", "--output", "output_file", default=None, metavar="OUT",
              help="The output file, as bcftools spells it (then -O may give bcftools' output type: -Ob -o out.bcf).")
@options.scorer_inputs(several_models=True)
@click.option("--output-type", type=click.Choice(["v", "z", "b", "u"]), default=None,
              help="v VCF, z bgzipped VCF, b BCF, u uncompressed BCF (default: from the -O name).")
@click.option("--threads", default=0, show_default=True, type=click.IntRange(0, 64),
              help="Extra threads for (de)compression.")
@click.option("--regions", default=None, metavar="REG[,REG...]",
              help="Only records in these regions (chr, chr:start-end); needs an indexed input.")
@click.option("--write-index", is_flag=True, help="Index the output (.tbi for -Oz, .csi for -Ob).")
@options.precision()
@click.option("--per-allele-fields", is_flag=True,
              help="Also add numeric Number=A fields SpliceAI_DS_AG..SpliceAI_DP_DL and SpliceAI_DS_MAX.")
@options.transcripts()
@options.iupac()
@options.compute()
@click.option("--chunk-size", default=256, show_default=True, type=click.IntRange(1, 100000),
              help="Records scored together (memory grows with this, not with the input).")
@click.option("--workers", default=0, show_default=True, type=click.IntRange(0, 256),
              help="Scoring processes, each with its own copy of the model; 0 = one per two usable CPUs "
                   "(at most 4), 1 on a GPU.")
@click.option("--threads-per-worker", default=1, show_default=True, type=click.IntRange(1, 256),
              help="CPU threads of each scoring process (one thread per core is fastest on small machines).")
@options.engine_options
@options.device()
@options.batch_size()
@options.score_files()
@click.option("--output-mode", type=click.Choice(["vcf", "per-gene"]), default="vcf", show_default=True,
              help="vcf: every input record, annotated; per-gene: one line per ALT and gene with only "
                   "the SpliceAI entry, bgzipped and tabix-indexed (the shape of precomputed score files).")
@options.pangolin_options
@click.option("--haplotypes", type=click.Choice(["background", "combined"]), default=None,
              help="Also score each ALT in every sample's haplotypes, with the other ALTs of the haplotype "
                   "within reach in the sequence (phased GT/PS): background = the variant against its "
                   "haplotype, combined = the whole haplotype against the genome; FORMAT SpliceAI_H1/H2 "
                   "(docs/haplotypes.md).")
@options.mnv()
@click.option("--progress/--no-progress", default=None,
              help="Progress bar on stderr (default: when stderr is a terminal).")
def annotate(input_path, output_path, output_file, reference, annotation, distance, mask, model, output_type,
             threads, regions, write_index, precision, per_allele_fields, transcripts, iupac,
             compute, chunk_size, workers, threads_per_worker, engine, ray_address, device, batch_size, cache_path,
             no_cache, precomputed, output_mode, pangolin_mask, pangolin_cutoff, pangolin_mask_per_gene,
             pangolin_tissue_fields, pangolin_models, haplotypes, mnv, progress) -> None:
    """Annotate the variants of a VCF/BCF with SpliceAI delta scores (and/or Pangolin's).

    A drop-in for `spliceai`: the same flags, the same INFO field and, by
    default, the same numbers.  With -m pangolin it writes Pangolin's INFO
    field as Pangolin writes it (-D is its -d; --pangolin-* its other
    settings); with -m spliceai -m pangolin both, in one pass.  Records
    that cannot be scored pass through unchanged and are counted in the
    summary on stderr.
    """
    from spliceannot.errors import InputError, ModelError
    from spliceannot.outcome import setup_warning
    from spliceannot.pipeline import AnnotateSettings, annotate_vcf

    output_path, output_type = output_choice(output_path, output_file, output_type)
    if output_path == "-":
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` ends us quietly, like bcftools
    cache = resolve_cache(cache_path, no_cache, "annotate")
    try:
        models = options.split_models(model, pangolin_models)
    except (InputError, ModelError) as error:
        fail("annotate", str(error))
    settings = options.scorer_settings(
        AnnotateSettings,
        reference=reference,
        annotation=annotation,
        **models,
        **options.pangolin_settings(pangolin_mask, pangolin_cutoff, pangolin_mask_per_gene, pangolin_tissue_fields),
        distance=distance,
        mask=mask,
        precision=precision,
        per_allele_fields=per_allele_fields,
        transcripts=transcripts,
        iupac=iupac,
        compute=compute,
        workers=workers,
        threads_per_worker=threads_per_worker,
        chunk_size=chunk_size,
        device=device,
        batch_size=batch_size,
        threads=threads,
        cache=cache,
        precomputed=precomputed,
        engine=engine,
        ray_address=ray_address,
        haplotypes=haplotypes,
        mnv=mnv,
    )
    if ray_address and engine != "ray":
        fail("annotate", "--ray-address needs --engine ray")
    command_line = "annotate " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    region_list = [r for r in regions.split(",") if r] if regions else None
    try:
        with handle_signals(), log_to_stderr("spliceannot annotate"), progress_bar(progress, unit="rec") as bar:
            summary = annotate_vcf(
                input_path,
                output_path,
                settings,
                output_type=output_type,
                regions=region_list,
                index=write_index,
                command_line=command_line,
                progress=bar,
                output_mode=output_mode,
            )
    except (InputError, ModelError, ValueError) as error:
        fail("annotate", str(error))
    except OSError as error:  # e.g. the disk filled up while the index was written
        where = f"{error.filename}: " if error.filename else ""
        fail("annotate", f"{where}{error.strerror or error}")
    click.echo(f"spliceannot annotate: {summary.line()}", err=True)
    warning = setup_warning(summary, reference=reference, annotation=annotation)
    if warning:
        click.echo(f"spliceannot annotate: warning: {warning}", err=True)


BCFTOOLS_TYPES = ("v", "z", "b", "u")


def output_choice(output_path: str | None, output_file: str | None, output_type: str | None):
    """``(path, type)`` from ``-O``, ``-o`` and ``--output-type``.

    ``-O`` is SpliceAI's output path.  A one-letter ``-O`` that is a bcftools
    output type (``-Ob``, ``-O z``) is refused unless ``-o`` names the file: in
    a SpliceAI command line there is no ``-o``, so then it cannot mean a path.
    """
    if output_file is None:
        if output_path in BCFTOOLS_TYPES:
            fail(
                "annotate",
                f"-O {output_path}: -O is SpliceAI's output path, not bcftools' output type; "
                f"write -O out.{'bcf' if output_path in 'bu' else 'vcf.gz' if output_path == 'z' else 'vcf'} "
                f"(type from the name), -O - for standard output, or bcftools' -O{output_path} -o FILE",
            )
        return output_path or "-", output_type
    if output_path is None:
        return output_file, output_type
    if output_path not in BCFTOOLS_TYPES:
        fail("annotate", f"-O {output_path} and -o {output_file}: give the output file once (-O or -o)")
    if output_type is not None and output_type != output_path:
        fail("annotate", f"-O{output_path} and --output-type {output_type} contradict each other")
    return output_file, output_path

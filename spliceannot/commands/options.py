"""The options several commands share, each defined once: its flags, type, default and help.

Each function returns a click decorator.  A command applies them where its
``--help`` lists them; :func:`options` applies several in the order given.
``help=`` replaces the help text where a command says it differently, and
``optional=True`` makes an option default to None (not given) instead of its
usual default.  :func:`scorer_settings` turns the parsed values into the
:class:`~spliceannot.factory.ScorerSpec` (or ``AnnotateSettings``) they describe.

Nothing here imports numpy or torch: a command's ``--help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

Decorator = Callable[[Callable], Callable]
Settings = TypeVar("Settings")

# The help texts of annotate, the first command to take each option.
REFERENCE_HELP = "Reference genome FASTA (plain or bgzipped, .fai built if missing)."
ANNOTATION_HELP = "grch37, grch38 (SpliceAI's GENCODE tables), a SpliceAI-style table, or a GTF/GFF3."
DISTANCE_HELP = "Maximum distance between the variant and a gained/lost splice site."
MASK_HELP = "1 = mask gains at annotated sites and losses at unannotated ones."
MODEL_HELP = (
    "spliceai (Illumina's five models), pangolin (Pangolin's twelve), a .h5/.pt/.safetensors file, "
    "or a directory of them."
)
MODELS_HELP = MODEL_HELP + (
    " Give -m twice (-m spliceai -m pangolin) to write SpliceAI= and Pangolin= in one pass."
)
COMPUTE_HELP = (
    "cone: shared reference tiles + recomputed receptive cones (exact, fast); "
    "window: every window through the model, as SpliceAI does."
)
BATCH_SIZE_HELP = "Windows per forward pass."
PRECOMPUTED_HELP = (
    "Tabix-indexed SpliceAI score VCF (Illumina's precomputed files or spliceannot "
    "output) consulted before computing; repeat for several files."
)
MAX_DISTANCE = 4999  # SpliceAI's -D limit (spliceannot.windows.MAX_DISTANCE; not imported: it loads numpy)


def options(*decorators: Decorator) -> Decorator:
    """Apply ``decorators`` so that ``--help`` lists their options in the order given."""

    def decorate(function: Callable) -> Callable:
        for decorator in reversed(decorators):
            function = decorator(function)
        return function

    return decorate


def _option(*flags: str, optional: bool = False, **attributes: Any) -> Decorator:
    """``click.option``; with ``optional`` the option is not required, defaults to None and shows no default."""
    if optional:
        attributes.update(required=False, default=None, show_default=False)
    return click.option(*flags, **attributes)


# --------------------------------------------------------------------------- what is scored


def reference(*, help: str = REFERENCE_HELP, optional: bool = False) -> Decorator:
    """``-R FASTA``."""
    return _option("-R", "reference", required=True, metavar="FASTA", help=help, optional=optional)


def annotation(*, help: str = ANNOTATION_HELP, optional: bool = False) -> Decorator:
    """``-A ANNOTATION``."""
    return _option("-A", "annotation", required=True, metavar="ANNOTATION", help=help, optional=optional)


def distance(*, help: str = DISTANCE_HELP, optional: bool = False) -> Decorator:
    """``-D N`` (default 50)."""
    return _option("-D", "distance", default=50, show_default=True, type=click.IntRange(0, MAX_DISTANCE),
                   help=help, optional=optional)  # fmt: skip


def mask(*, help: str = MASK_HELP, optional: bool = False) -> Decorator:
    """``-M 0|1`` (default 0)."""
    return _option("-M", "mask", default=0, show_default=True, type=click.IntRange(0, 1), help=help,
                   optional=optional)  # fmt: skip


def model(*, help: str | None = None, optional: bool = False, several: bool = False) -> Decorator:
    """``-m/--model MODEL`` (default spliceai); ``several``: repeatable, a tuple (one SpliceAI, one Pangolin)."""
    if several:
        return click.option("-m", "--model", "model", multiple=True, default=("spliceai",), show_default=True,
                            help=help or MODELS_HELP)  # fmt: skip
    help = help or MODEL_HELP
    return _option("-m", "--model", default="spliceai", show_default=True, help=help, optional=optional)


def scorer_inputs(*, distance_help: str = DISTANCE_HELP, mask_help: str = MASK_HELP,
                  optional: bool = False, several_models: bool = False) -> Decorator:  # fmt: skip
    """``-R``, ``-A``, ``-D``, ``-M`` and ``-m``, in that order."""
    return options(
        reference(optional=optional),
        annotation(optional=optional),
        distance(help=distance_help, optional=optional),
        mask(help=mask_help, optional=optional),
        model(optional=optional, several=several_models),
    )


def pangolin_options(function: Callable) -> Callable:
    """Pangolin's own settings, for a run whose ``-m`` names a Pangolin model."""
    return options(
        click.option("--pangolin-mask", type=click.Choice(["True", "False"]), default="True", show_default=True,
                     help="Pangolin's -m: True sets gains at annotated splice sites and losses at "
                          "unannotated ones to 0."),
        click.option("--pangolin-cutoff", type=float, default=None, metavar="S",
                     help="Pangolin's -s: every site whose score changes by at least S, instead of the "
                          "largest gain and loss."),
        click.option("--pangolin-mask-per-gene", is_flag=True,
                     help="Mask each gene on its own copy of the scores (Pangolin masks genes of one strand "
                          "on one array, so one gene's mask shows in the next: its issue 29). Changes numbers."),
        click.option("--pangolin-tissue-fields", is_flag=True,
                     help="Also write numeric INFO fields Pangolin_<tissue>_gain/_loss (heart, liver, brain, "
                          "testis): each tissue's largest change within -D, over genes and strands, unmasked."),
        click.option("--pangolin-models", default=None, metavar="DIR",
                     help="Where -m pangolin finds Pangolin's 12 weight files when the pangolin package is "
                          "not installed (default $SPLICEANNOT_PANGOLIN_MODELS)."),
    )(function)  # fmt: skip


def split_models(models, pangolin_models: str | None = None) -> dict[str, Any]:
    """``model`` and ``pangolin`` (ScorerSpec fields) from the ``-m`` values: one SpliceAI
    and/or one Pangolin model, SpliceAI's first whatever the order given."""
    from spliceannot.engine.files import model_family, model_files
    from spliceannot.engine.pangolin_files import models_dir
    from spliceannot.errors import InputError

    models = (models,) if isinstance(models, str) else tuple(models)
    if len(models) > 2:
        raise InputError(f"-m given {len(models)} times: at most one SpliceAI and one Pangolin model")
    resolved = [str(models_dir(pangolin_models)) if m == "pangolin" and pangolin_models else m for m in models]
    families = [model_family(m, model_files(m)) or "spliceai" for m in resolved]
    if len(resolved) == 2:
        if sorted(families) != ["pangolin", "spliceai"]:
            raise InputError(f"-m {models[0]} -m {models[1]}: give one SpliceAI and one Pangolin model")
        if families[0] == "pangolin":
            resolved.reverse()
        return {"model": resolved[0], "pangolin": resolved[1]}
    return {"model": resolved[0], "pangolin": None}


def pangolin_settings(pangolin_mask: str, pangolin_cutoff, pangolin_mask_per_gene: bool,
                      pangolin_tissue_fields: bool = False) -> dict[str, Any]:  # fmt: skip
    """The ScorerSpec fields of :func:`pangolin_options`."""
    return {
        "pangolin_mask": pangolin_mask == "True",
        "pangolin_cutoff": pangolin_cutoff,
        "pangolin_mask_per_gene": pangolin_mask_per_gene,
        "pangolin_tissue_fields": pangolin_tissue_fields,
    }


# --------------------------------------------------------------------------- how it is scored


def precision() -> Decorator:
    """``--precision N`` (default 2)."""
    return click.option("--precision", default=2, show_default=True, type=click.IntRange(0, 10),
                        help="Decimals of delta scores (SpliceAI prints 2).")  # fmt: skip


def transcripts(*, optional: bool = False) -> Decorator:
    """``--transcripts canonical|all``."""
    return _option("--transcripts", type=click.Choice(["canonical", "all"]), default="canonical",
                   show_default=True, help="For a GTF/GFF3 -A: one transcript per gene, or all of them.",
                   optional=optional)  # fmt: skip


def iupac(*, optional: bool = False) -> Decorator:
    """``--iupac spliceai|n``."""
    return _option("--iupac", type=click.Choice(["spliceai", "n"]), default="spliceai", show_default=True,
                   help="Letters other than ACGTN: read as SpliceAI 1.3.1 reads them, or as N.",
                   optional=optional)  # fmt: skip


def compute(*, help: str = COMPUTE_HELP) -> Decorator:
    """``--compute cone|window``."""
    return click.option("--compute", type=click.Choice(["cone", "window"]), default="cone", show_default=True,
                        help=help)  # fmt: skip


def device(*, optional: bool = False) -> Decorator:
    """``--device auto|cpu|cuda|cuda:N``."""
    return _option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.",
                   optional=optional)  # fmt: skip


def batch_size(*, help: str = BATCH_SIZE_HELP, optional: bool = False) -> Decorator:
    """``--batch-size N`` (default 32)."""
    return _option("--batch-size", default=32, show_default=True, type=click.IntRange(1, 4096), help=help,
                   optional=optional)  # fmt: skip


def scoring_options(*, optional: bool = False) -> Decorator:
    """What a command that draws scored variants takes: -R/-A/-D/-M/-m/--transcripts/--iupac/--device/--batch-size."""
    return options(
        scorer_inputs(optional=optional),
        transcripts(optional=optional),
        iupac(optional=optional),
        device(optional=optional),
        batch_size(optional=optional),
    )


# --------------------------------------------------------------------------- scores looked up


def score_files(*, precomputed_help: str = PRECOMPUTED_HELP) -> Decorator:
    """``--cache FILE.sqlite``, ``--no-cache`` and ``--precomputed SCORES.vcf.gz`` (repeatable)."""
    return options(
        click.option("--cache", "cache_path", default=None, metavar="FILE.sqlite",
                     help="Score cache: scores computed once are looked up, never recomputed "
                          "(default $SPLICEANNOT_CACHE/scores.sqlite, i.e. ~/.cache/spliceannot/scores.sqlite)."),
        click.option("--no-cache", is_flag=True, help="Neither read nor write the score cache."),
        click.option("--precomputed", multiple=True, metavar="SCORES.vcf.gz", help=precomputed_help),
    )  # fmt: skip


# --------------------------------------------------------------------------- where it runs


def engine_options(function: Callable) -> Callable:
    """``--engine local|ray`` and ``--ray-address ADDR``."""
    return options(
        click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
                     help="local: this machine; ray: shards on Ray actors (one per GPU, or --workers CPU actors; "
                          "0 = fill the cluster's CPUs), written in input order, byte-identical to local."),
        click.option("--ray-address", default=None, metavar="ADDR",
                     help="With --engine ray: `auto` or HOST:PORT of a running cluster (`ray start --head`); "
                          "default: start a local cluster on this machine."),
    )(function)  # fmt: skip


# --------------------------------------------------------------------------- parsed values -> settings


def scorer_settings(settings_type: type[Settings] | None = None, /, *, mask: int | bool, iupac: str | None,
                    precomputed=(), **fields: Any) -> Settings:  # fmt: skip
    """The settings the parsed options describe.

    Parameters
    ----------
    settings_type
        :class:`~spliceannot.factory.ScorerSpec` (the default) or a subclass
        such as :class:`~spliceannot.pipeline.AnnotateSettings`.
    mask, iupac, precomputed
        As parsed: ``-M`` 0/1, ``--iupac``, the ``--precomputed`` files.
    **fields
        The other fields by name (``reference``, ``distance``, ``cache``, ...).
    """
    from spliceannot.encoding import iupac_encoding

    if settings_type is None:
        from spliceannot.factory import ScorerSpec

        settings_type = ScorerSpec
    return settings_type(mask=bool(mask), encoding=iupac_encoding(iupac), precomputed=tuple(precomputed), **fields)


def mnv():
    """``--mnv``: score records whose REF and ALT are both longer than one base."""
    return click.option(
        "--mnv",
        is_flag=True,
        help="Also score records whose REF and ALT are both longer than 1 (MNVs, delins), which SpliceAI "
             "1.3.1 prints as dots (docs/haplotypes.md).",
    )

"""The ``spliceannot`` command group.

Subcommands are imported only when they run, so ``spliceannot --help`` stays
fast and never imports torch.  Each subcommand lives in its own module and is
a thin click function over library calls.
"""

from __future__ import annotations

import importlib

import click

from spliceannot import __version__

# name -> (module, attribute, one-line help shown by ``spliceannot --help``)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "annotate": (
        "spliceannot.commands.annotate",
        "annotate",
        "Score the variants of a VCF/BCF (drop-in for `spliceai`).",
    ),
    "pangolin": (
        "spliceannot.commands.pangolin",
        "pangolin",
        "Score a VCF/CSV as Pangolin does (drop-in for `pangolin`).",
    ),
    "gene-table": (
        "spliceannot.commands.gene_table",
        "gene_table",
        "Write a SpliceAI-style gene table from a GTF/GFF3 file.",
    ),
    "convert": (
        "spliceannot.commands.convert",
        "convert",
        "Convert Keras/OpenSpliceAI weights into a spliceannot checkpoint.",
    ),
    "serve": (
        "spliceannot.commands.serve",
        "serve",
        "Score variants sent as JSON lines (stdin/stdout, a Unix socket or a TCP port).",
    ),
    "create-data": (
        "spliceannot.trainers.cmd_create_data",
        "create_data",
        "Build HDF5 training data from a genome FASTA and a GTF/GFF3.",
    ),
    "train": (
        "spliceannot.trainers.cmd_lifecycle",
        "train",
        "Train a SpliceAI model (any flank) on create-data output.",
    ),
    "transfer": (
        "spliceannot.trainers.cmd_lifecycle",
        "transfer",
        "Fine-tune a pretrained model with frozen residual units.",
    ),
    "evaluate": (
        "spliceannot.trainers.cmd_lifecycle",
        "evaluate",
        "Top-k accuracy and PR-AUC of models on test data.",
    ),
    "calibrate": (
        "spliceannot.trainers.cmd_lifecycle",
        "calibrate",
        "Fit a softmax temperature on validation data.",
    ),
    "predict": (
        "spliceannot.trainers.cmd_predict",
        "predict",
        "Genome-wide splice-site tracks (bedGraph, bigWig, BED) from a FASTA.",
    ),
    "ensemble": (
        "spliceannot.trainers.cmd_lifecycle",
        "ensemble",
        "Combine checkpoints into one ensemble checkpoint.",
    ),
    "plot": (
        "spliceannot.commands.plot",
        "plot",
        "Plot reference vs alternate splice tracks and delta scores around variants.",
    ),
    "ism": (
        "spliceannot.commands.ism",
        "ism",
        "In-silico mutagenesis around a splice site: importance TSV and sequence logo.",
    ),
    "report": (
        "spliceannot.commands.report",
        "report",
        "A self-contained HTML report of an annotated VCF (histogram, top variants, plots).",
    ),
}


class LazyGroup(click.Group):
    """A click group that imports a subcommand's module only when it is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module_name, attribute, _ = COMMANDS[cmd_name]
        return getattr(importlib.import_module(module_name), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="spliceannot")
def main() -> None:
    """Predict splice sites and score splice-altering variants (SpliceAI in PyTorch)."""

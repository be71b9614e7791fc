"""``spliceannot gene-table``: a SpliceAI-style gene table from a GTF/GFF3 file."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import click

from spliceannot.atomic import atomic_path
from spliceannot.commands._common import fail, handle_signals, log_to_stderr
from spliceannot.errors import InputError
from spliceannot.readers.annotation import Transcript, write_table
from spliceannot.readers.gtf import TRANSCRIPT_CHOICES, read_gene_models

PROG = "spliceannot gene-table"


@click.command("gene-table", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("annotation", metavar="GTF_OR_GFF3", type=click.Path())
@click.option(
    "-o",
    "--output",
    default="-",
    show_default=True,
    metavar="OUT.txt|-",
    help="Where to write the table; `-` is stdout.",
)
@click.option(
    "--transcripts",
    type=click.Choice(TRANSCRIPT_CHOICES),
    default="canonical",
    show_default=True,
    help="One transcript per gene (tagged Ensembl_canonical/MANE_Select, else longest CDS, "
    "else longest) or every transcript.",
)
@click.option(
    "--biotype",
    default="all",
    show_default=True,
    metavar="BIOTYPE|all",
    help="Keep only transcripts of this biotype, e.g. protein_coding (read from the "
    "gene_type, gene_biotype, transcript_type and biotype attributes).",
)
def gene_table(annotation: str, output: str, transcripts: str, biotype: str) -> None:
    """Write a SpliceAI-style gene table (as in SpliceAI's grch38.txt) from a GTF/GFF3 file.

    The file may be gzipped.  The table can be passed to `spliceannot
    annotate -A` (and to SpliceAI's `-A`), which then skips parsing the
    GTF/GFF3.
    """
    try:
        with handle_signals(), log_to_stderr(PROG):
            models = read_gene_models(
                annotation,
                transcripts=transcripts,
                biotype=None if biotype == "all" else biotype,
            )
            if output == "-":
                # `| head` ends us quietly, like bcftools
                previous = signal.signal(signal.SIGPIPE, signal.SIG_DFL)
                try:
                    write_table(models.transcripts, sys.stdout)
                    sys.stdout.flush()
                finally:
                    signal.signal(signal.SIGPIPE, previous)
            else:
                _write_atomically(Path(output), models.transcripts)
    except InputError as error:
        fail("gene-table", str(error))
    click.echo(
        f"{PROG}: wrote {len(models.transcripts)} rows ({transcripts} transcripts; "
        f"{models.genes} genes with {models.candidates} transcripts) "
        f"to {'stdout' if output == '-' else output}",
        err=True,
    )


def _write_atomically(path: Path, transcripts: list[Transcript]) -> None:
    """Write the table beside ``path`` and rename it into place, so ``path`` is never partial."""
    try:
        with atomic_path(path) as partial, open(partial, "w") as handle:
            write_table(transcripts, handle)
    except OSError as error:
        reason = error.strerror or str(error)
        raise InputError(f"{path}: cannot write the table: {reason}") from None

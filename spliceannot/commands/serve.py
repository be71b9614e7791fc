"""``spliceannot serve``: score variants sent as JSON lines, with the model loaded once."""

from __future__ import annotations

import logging
import signal
import sys

import click

from spliceannot.commands._common import fail, resolve_cache

PROG = "serve"


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-R",
    "reference",
    required=True,
    metavar="FASTA",
    help="Reference genome FASTA (plain or bgzipped, .fai built if missing).",
)
@click.option(
    "-A",
    "annotation",
    required=True,
    metavar="ANNOTATION",
    help="grch37, grch38 (SpliceAI's GENCODE tables), a SpliceAI-style table, or a GTF/GFF3.",
)
@click.option(
    "-D",
    "distance",
    default=50,
    show_default=True,
    type=click.IntRange(0, 4999),
    help="Default maximum distance between the variant and a gained/lost splice site.",
)
@click.option(
    "-M",
    "mask",
    default=0,
    show_default=True,
    type=click.IntRange(0, 1),
    help="Default masking: 1 = mask gains at annotated sites and losses at unannotated ones.",
)
@click.option(
    "-m",
    "--model",
    default="spliceai",
    show_default=True,
    help="spliceai (Illumina's five models), a .h5/.pt/.safetensors file, or a directory of them.",
)
@click.option(
    "--cache",
    "cache_path",
    default=None,
    metavar="FILE.sqlite",
    help="Score cache: scores computed once are looked up, never recomputed "
    "(default $SPLICEANNOT_CACHE/scores.sqlite, i.e. ~/.cache/spliceannot/scores.sqlite).",
)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the score cache.")
@click.option(
    "--precomputed",
    multiple=True,
    metavar="SCORES.vcf.gz",
    help="Tabix-indexed SpliceAI score VCF consulted before computing (requests with the "
    "server's -D/-M only); repeat for several files.",
)
@click.option(
    "--socket",
    "socket_path",
    default=None,
    metavar="PATH",
    help="Listen on this Unix socket instead of stdin/stdout.",
)
@click.option(
    "--port",
    default=None,
    type=click.IntRange(0, 65535),
    metavar="N",
    help="Listen on 127.0.0.1:N instead of stdin/stdout (0 = any free port).",
)
@click.option(
    "--max-connections",
    default=256,
    show_default=True,
    type=click.IntRange(1, 65536),
    metavar="N",
    help="With --socket/--port: most connections served at once; one more gets an error "
    "line and is closed.",
)
@click.option(
    "--max-scorers",
    default=16,
    show_default=True,
    type=click.IntRange(1, 10000),
    metavar="N",
    help="Scorers kept for request -D/-M other than the server's own (least recently used "
    "dropped, made again when asked for).",
)
@click.option(
    "--max-wait-ms",
    default=5.0,
    show_default=True,
    type=click.FloatRange(0, 60000),
    help="After a request arrives, wait this long for more to score in the same batch.",
)
@click.option(
    "--max-batch",
    default=256,
    show_default=True,
    type=click.IntRange(1, 100000),
    help="Most requests scored in one batch.",
)
@click.option(
    "--precision",
    default=2,
    show_default=True,
    type=click.IntRange(0, 10),
    help="Decimals of delta scores (SpliceAI prints 2).",
)
@click.option(
    "--transcripts",
    type=click.Choice(["canonical", "all"]),
    default="canonical",
    show_default=True,
    help="For a GTF/GFF3 -A: one transcript per gene, or all of them.",
)
@click.option(
    "--iupac",
    type=click.Choice(["spliceai", "n"]),
    default="spliceai",
    show_default=True,
    help="Letters other than ACGTN: read as SpliceAI 1.3.1 reads them, or as N.",
)
@click.option(
    "--compute",
    type=click.Choice(["cone", "window"]),
    default="cone",
    show_default=True,
    help="cone: shared reference tiles + recomputed receptive cones; window: as SpliceAI does.",
)
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option(
    "--batch-size",
    default=32,
    show_default=True,
    type=click.IntRange(1, 4096),
    help="Windows per forward pass.",
)
@click.option(
    "--cpu-threads",
    default=1,
    show_default=True,
    type=click.IntRange(0, 256),
    help="CPU threads of the model (0 = torch's default; one is fastest on small machines, "
    "as for annotate's --threads-per-worker).",
)
@click.option(
    "-v", "--verbose", is_flag=True, help="Log connections and scorer creation on stderr."
)
def serve(
    reference,
    annotation,
    distance,
    mask,
    model,
    cache_path,
    no_cache,
    precomputed,
    socket_path,
    port,
    max_connections,
    max_scorers,
    max_wait_ms,
    max_batch,
    precision,
    transcripts,
    iupac,
    compute,
    device,
    batch_size,
    cpu_threads,
    verbose,
) -> None:
    """Score variants sent as JSON lines; the genome, annotation and model are loaded once.

    Requests are read from stdin and answered on stdout, or, with --socket
    or --port, on every connection.  One request per line:
    {"id": 1, "chrom": "16", "pos": 12345, "ref": "A", "alt": "G"}.
    See docs/serve.md for the protocol.
    """
    from spliceannot import serve as server
    from spliceannot.encoding import iupac_encoding
    from spliceannot.factory import ScorerSpec

    if socket_path is not None and port is not None:
        fail(PROG, "use --socket or --port, not both")
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="spliceannot serve: %(message)s",
        stream=sys.stderr,
    )
    spec = ScorerSpec(
        reference=reference,
        annotation=annotation,
        model=model,
        distance=distance,
        mask=bool(mask),
        precision=precision,
        transcripts=transcripts,
        encoding=iupac_encoding(iupac),
        compute=compute,
        device=device,
        batch_size=batch_size,
        threads_per_worker=cpu_threads,
        cache=resolve_cache(cache_path, no_cache, PROG),
        precomputed=tuple(precomputed),
    )
    transport = server.Transport(socket_path=socket_path, port=port)
    limits = server.Limits(
        max_connections=max_connections,
        max_scorers=max_scorers,
        max_wait=max_wait_ms / 1000,
        max_batch=max_batch,
    )
    stop = _stop_on_signals()
    try:
        server.run(spec, transport, limits)
    except server.StartError as error:
        fail(PROG, str(error))
    except stop:
        pass
    sys.exit(0)


def _stop_on_signals() -> type[BaseException]:
    """Make SIGTERM and SIGINT raise the returned exception in the main thread (a clean stop)."""

    class Stop(BaseException):
        pass

    def on_signal(signum, frame):
        raise Stop

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return Stop

"""``spliceannot serve``: score variants sent as JSON lines, with the model loaded once."""

from __future__ import annotations

import logging
import signal
import sys

import click

from spliceannot.commands import options
from spliceannot.commands._common import fail, resolve_cache

PROG = "serve"
# serve's own wording of shared options: -D and -M are the defaults of every request
DISTANCE_HELP = "Default maximum distance between the variant and a gained/lost splice site."
MASK_HELP = "Default masking: 1 = mask gains at annotated sites and losses at unannotated ones."
PRECOMPUTED_HELP = (
    "Tabix-indexed SpliceAI score VCF consulted before computing (requests with the "
    "server's -D/-M only); repeat for several files."
)
COMPUTE_HELP = (
    "cone: shared reference tiles + recomputed receptive cones; window: as SpliceAI does."
)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@options.scorer_inputs(distance_help=DISTANCE_HELP, mask_help=MASK_HELP, several_models=True)
@options.score_files(precomputed_help=PRECOMPUTED_HELP)
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
@options.precision()
@options.transcripts()
@options.iupac()
@options.compute(help=COMPUTE_HELP)
@options.device()
@options.batch_size()
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
@options.pangolin_options
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
    pangolin_mask,
    pangolin_cutoff,
    pangolin_mask_per_gene,
    pangolin_tissue_fields,
    pangolin_models,
) -> None:
    """Score variants sent as JSON lines; the genome, annotation and model are loaded once.

    Requests are read from stdin and answered on stdout, or, with --socket
    or --port, on every connection.  One request per line:
    {"id": 1, "chrom": "16", "pos": 12345, "ref": "A", "alt": "G"}.
    With -m pangolin the replies carry Pangolin's scores (-D is its -d,
    --pangolin-* its other settings); with -m spliceai -m pangolin both
    models are loaded and a request may ask for either or both
    ("models": ["spliceai", "pangolin"]).  See docs/serve.md for the protocol.
    """
    from spliceannot import serve as server
    from spliceannot.errors import InputError, ModelError

    if socket_path is not None and port is not None:
        fail(PROG, "use --socket or --port, not both")
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="spliceannot serve: %(message)s",
        stream=sys.stderr,
    )
    try:
        models = options.split_models(model, pangolin_models)
    except (InputError, ModelError) as error:
        fail(PROG, str(error))
    spec = options.scorer_settings(
        reference=reference,
        annotation=annotation,
        **models,
        **options.pangolin_settings(
            pangolin_mask, pangolin_cutoff, pangolin_mask_per_gene, pangolin_tissue_fields
        ),
        distance=distance,
        mask=mask,
        precision=precision,
        transcripts=transcripts,
        iupac=iupac,
        compute=compute,
        device=device,
        batch_size=batch_size,
        threads_per_worker=cpu_threads,
        cache=resolve_cache(cache_path, no_cache, PROG),
        precomputed=precomputed,
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

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
@options.reference(optional=True)
@options.annotation(optional=True)
@options.distance(help=DISTANCE_HELP)
@options.mask(help=MASK_HELP)
@options.model(several=True)
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
@click.option(
    "--http",
    "http_port",
    default=None,
    type=click.IntRange(0, 65535),
    metavar="PORT",
    help="Serve the lookup over HTTP on PORT (0 = any free port): the SpliceAI-lookup API "
    "(/spliceai/, /pangolin/), the JSON API (/api/lookup), /health and a web page. "
    "Genomes come from --genome.",
)
@click.option(
    "--host",
    default=None,
    metavar="ADDRESS",
    help="With --http: the address to listen on (default 127.0.0.1; another only when given here).",
)
@click.option(
    "--genome",
    "genomes",
    multiple=True,
    metavar="NAME=FASTA,ANNOTATION",
    help="With --http: a genome requests name (hg=NAME), its FASTA and its annotation (as -A takes "
    "it); repeat for several.",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="With --http: processes serving the port, each with its own copy of the models.",
)
@click.option(
    "--max-body",
    default=65536,
    show_default=True,
    type=click.IntRange(1024, 1 << 30),
    metavar="BYTES",
    help="With --http: largest request body accepted (larger: 413).",
)
@click.option(
    "--request-timeout",
    default=120.0,
    show_default=True,
    type=click.FloatRange(0.1, 3600),
    metavar="S",
    help="With --http: seconds a lookup may take before it is answered 504.",
)
@click.option("--http-fd", default=None, type=int, hidden=True)
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
    http_port,
    host,
    genomes,
    workers,
    max_body,
    request_timeout,
    http_fd,
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
    if http_port is None and http_fd is None:
        for value, flag in ((reference, "'-R'"), (annotation, "'-A'")):
            if value is None:
                raise click.MissingParameter(param_hint=flag, param_type="option")
        if genomes or host is not None or workers != 1:
            fail(PROG, "--genome, --host and --workers go with --http")
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
    if spec.cache and spec.cache.startswith(("postgresql://", "postgres://")) and http_port is None \
            and http_fd is None:  # fmt: skip
        fail(PROG, "--cache postgresql://... goes with --http")
    if http_port is not None or http_fd is not None:
        if socket_path is not None or port is not None:
            fail(PROG, "use --http, --socket or --port, not several")
        _serve_http(spec, genomes, model, pangolin_models, http_port, host, workers, http_fd,
                    max_body, request_timeout, max_wait_ms, max_batch, max_scorers)  # fmt: skip
        sys.exit(0)
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


def _serve_http(spec, genomes, model, pangolin_models, http_port, host, workers, http_fd,
                max_body, request_timeout, max_wait_ms, max_batch, max_scorers) -> None:  # fmt: skip
    """``--http``: the lookup server over ``--genome`` s (Pangolin too when its weights are found)."""
    import dataclasses

    from spliceannot.errors import InputError, ModelError
    from spliceannot.lookup.app import Defaults, HttpLimits
    from spliceannot.lookup.genomes import GenomeSource
    from spliceannot.lookup.server import HttpOptions, StartError, run_http

    if spec.reference or spec.annotation:
        fail(PROG, "with --http, give genomes as --genome NAME=FASTA,ANNOTATION (not -R/-A)")
    if not genomes:
        fail(PROG, "--http needs at least one --genome NAME=FASTA,ANNOTATION")
    try:
        sources = [GenomeSource.parse(text) for text in genomes]
    except ValueError as error:
        fail(PROG, str(error))
    if spec.pangolin is None and "pangolin" not in model and _pangolin_weights(pangolin_models):
        try:
            spec = dataclasses.replace(spec, **options.split_models((*model, "pangolin"), pangolin_models))
        except (InputError, ModelError):
            pass
    access = logging.getLogger("spliceannot.lookup.access")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    access.propagate = False
    limits = HttpLimits(max_body=max_body, request_timeout=request_timeout, max_wait=max_wait_ms / 1000,
                        max_batch=max_batch)  # fmt: skip
    defaults = Defaults(distance=spec.distance, mask=spec.mask, pangolin_mask=spec.pangolin_mask)
    http = HttpOptions(port=http_port or 0, host=host or "127.0.0.1", workers=1 if http_fd else workers,
                       fd=http_fd)  # fmt: skip
    argv = [sys.executable, "-m", "spliceannot", *_worker_args(sys.argv[1:])]
    try:
        run_http(spec, sources, http, limits, defaults, max_scorers, worker_argv=argv)
    except StartError as error:
        fail(PROG, str(error))


def _worker_args(args: list[str]) -> list[str]:
    """This command line for a worker process: ``--workers`` left out (each worker serves alone)."""
    kept, skip = [], False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg == "--workers":
            skip = True
            continue
        if arg.startswith("--workers="):
            continue
        kept.append(arg)
    return kept


def _pangolin_weights(pangolin_models: str | None) -> bool:
    """Whether Pangolin's weights are found (``--pangolin-models`` or ``$SPLICEANNOT_PANGOLIN_MODELS``)."""
    import os

    from spliceannot.engine.pangolin_files import MODELS_ENV

    return bool(pangolin_models or os.environ.get(MODELS_ENV))

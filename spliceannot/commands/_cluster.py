"""The ``--engine`` / ``--ray-address`` options that ``annotate`` and ``predict`` share."""

from __future__ import annotations

import click


def engine_options(function):
    """Add ``--engine local|ray`` and ``--ray-address ADDR`` to a command."""
    function = click.option(
        "--ray-address", default=None, metavar="ADDR",
        help="With --engine ray: `auto` or HOST:PORT of a running cluster (`ray start --head`); "
             "default: start a local cluster on this machine.",
    )(function)  # fmt: skip
    return click.option(
        "--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
        help="local: this machine; ray: shards on Ray actors (one per GPU, or --workers CPU actors; "
             "0 = fill the cluster's CPUs), written in input order, byte-identical to local.",
    )(function)  # fmt: skip

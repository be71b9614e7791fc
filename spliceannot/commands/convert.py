"""``spliceannot convert``: any loadable weights -> one spliceannot checkpoint."""

from __future__ import annotations

import click

from spliceannot.commands._common import fail


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("source")
@click.option("-o", "--output", required=True, metavar="OUT.safetensors",
              help="Checkpoint to write (safetensors; loading it runs no code).")
def convert(source: str, output: str) -> None:
    """Convert SOURCE into a spliceannot checkpoint.

    SOURCE is `spliceai` (Illumina's five Keras models), `pangolin`
    (Pangolin's twelve networks), a Keras .h5, an OpenSpliceAI .pt
    state_dict, a .safetensors checkpoint, or a directory of them (all
    members go into one ensemble checkpoint).  Flank, activation, head,
    members (and the channel each is read at) and provenance are stored in
    the checkpoint's metadata.
    """
    from spliceannot.engine.weights import convert_weights
    from spliceannot.errors import InputError, ModelError

    try:
        model = convert_weights(source, output)
    except (ModelError, InputError, OSError) as error:
        fail("convert", str(error))
    members = len(model.ensemble.members)
    click.echo(
        f"spliceannot convert: wrote {output}: {members} member(s), flank {model.flank}, "
        f"{model.ensemble.members[0].architecture.activation}",
        err=True,
    )

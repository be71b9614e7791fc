"""``train``, ``transfer``, ``evaluate``, ``calibrate`` and ``ensemble``.

Thin click layers: each parses its options, calls one function of
:mod:`~spliceannot.trainers.lifecycle`, :mod:`~spliceannot.trainers.evaluation`
or :mod:`~spliceannot.trainers.calibration`, reports the result and turns a
:class:`~spliceannot.trainers.lifecycle.LifecycleError` into a one-line
message (exit 2).
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from spliceannot.commands import options as shared
from spliceannot.commands._common import fail, handle_signals

CONTEXT = {"help_option_names": ["-h", "--help"]}


# --------------------------------------------------------------------------- shared options


def _training_options(default_lr: float):
    """Options shared by ``train`` and ``transfer``."""

    def decorate(function):
        options = [
            click.option("-d", "--data-dir", type=click.Path(file_okay=False),
                         help="create-data output: reads train.h5 and validation.h5 from it."),
            click.option("--train-data", type=click.Path(dir_okay=False),
                         help="Training HDF5 (instead of --data-dir)."),
            click.option("--validation-data", type=click.Path(dir_okay=False),
                         help="Validation HDF5 (instead of --data-dir; optional)."),
            click.option("-o", "--output-dir", required=True, type=click.Path(file_okay=False),
                         help="Where best.safetensors, last.safetensors, metrics.csv, curves.png and "
                              "resume.pt go."),
            click.option("--epochs", default=10, show_default=True, type=click.IntRange(min=1)),
            click.option("--batch-size", default=16, show_default=True, type=click.IntRange(min=1),
                         help="Windows (of 5,000 positions) per step."),
            click.option("--learning-rate", "--lr", default=default_lr, show_default=True,
                         type=click.FloatRange(min=0, min_open=True), help="AdamW learning rate."),
            click.option("--weight-decay", default=1e-2, show_default=True, type=click.FloatRange(min=0)),
            click.option("--scheduler", type=click.Choice(["multistep", "cosine"]), default="multistep",
                         show_default=True,
                         help="multistep: x GAMMA after each MILESTONE epoch; cosine: cosine annealing "
                              "to 0 over the epochs."),
            click.option("--milestones", default="", metavar="E1,E2,...",
                         help="multistep epochs (default: every epoch from the 6th, SpliceAI's schedule)."),
            click.option("--gamma", default=0.5, show_default=True, type=click.FloatRange(min=0, min_open=True),
                         help="multistep factor."),
            click.option("--loss", type=click.Choice(["cross-entropy", "focal"]), default="cross-entropy",
                         show_default=True),
            click.option("--focal-gamma", default=2.0, show_default=True, type=click.FloatRange(min=0)),
            click.option("--focal-alpha", default=None, type=click.FloatRange(0, 1),
                         help="Focal-loss weight of the splice-site classes (1 - alpha for 'neither'); "
                              "unset = unweighted."),
            click.option("--seed", default=0, show_default=True, type=int,
                         help="Seeds initial weights and window order: same seed, same run."),
            click.option("--patience", default=None, type=click.IntRange(min=1),
                         help="Stop after this many epochs without improvement of --monitor."),
            click.option("--monitor", type=click.Choice(["loss", "top1"]), default="loss", show_default=True,
                         help="Validation quantity that picks best.safetensors and drives --patience."),
            click.option("--metric-windows", default=256, show_default=True, type=click.IntRange(min=0),
                         help="Training windows scored after each epoch for the train metrics."),
            click.option("--max-windows-per-epoch", default=None, type=click.IntRange(min=1),
                         help="Train on a seeded sample of this many windows per epoch."),
            shared.device(),
            click.option("--amp/--no-amp", default=None,
                         help="bfloat16 autocast (default: on with CUDA, off on CPU)."),
            click.option("--threads", default=None, type=click.IntRange(min=1), help="CPU threads for torch."),
            click.option("--resume", is_flag=True,
                         help="Continue the run in --output-dir from its last finished epoch."),
            click.option("--progress/--no-progress", default=None,
                         help="Progress bar (default: when stderr is a terminal)."),
        ]  # fmt: skip
        for option in reversed(options):
            function = option(function)
        return function

    return decorate


def _batch_and_device(function):
    """``--batch-size`` (default 8) and ``--device`` (no help text) of ``evaluate`` and ``calibrate``."""
    function = click.option("--device", default="auto", show_default=True)(function)
    return click.option("--batch-size", default=8, show_default=True, type=click.IntRange(min=1))(function)


def _training_arguments(options: dict):
    """The hyperparameters (a ``TrainConfig``) and the ``TrainingRun`` that the training options give."""
    from spliceannot.trainers.lifecycle import TrainingRun
    from spliceannot.trainers.training import TrainConfig

    try:
        milestones = tuple(int(m) for m in options["milestones"].split(",") if m.strip())
    except ValueError:
        message = f"not a comma-separated list of epochs: {options['milestones']!r}"
        raise click.BadParameter(message, param_hint="--milestones") from None
    config = TrainConfig(
        epochs=options["epochs"], batch_size=options["batch_size"], learning_rate=options["learning_rate"],
        weight_decay=options["weight_decay"], scheduler=options["scheduler"], milestones=milestones,
        gamma=options["gamma"], loss=options["loss"], focal_gamma=options["focal_gamma"],
        focal_alpha=options["focal_alpha"], seed=options["seed"], patience=options["patience"],
        monitor=options["monitor"], metric_windows=options["metric_windows"],
        max_windows_per_epoch=options["max_windows_per_epoch"],
    )  # fmt: skip
    run = TrainingRun(
        output_dir=Path(options["output_dir"]), data_dir=options["data_dir"], train_data=options["train_data"],
        validation_data=options["validation_data"], device=options["device"], amp=options["amp"],
        threads=options["threads"], resume=options["resume"],
    )  # fmt: skip
    return config, run


class _Bars:
    """One tqdm bar per epoch, on stderr, when enabled."""

    def __init__(self, enabled: bool | None) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.bar = None

    def __call__(self, description: str, total: int):
        if not self.enabled:
            return None
        from tqdm import tqdm

        self.close()
        self.bar = tqdm(total=total, desc=description, unit="window", file=sys.stderr, leave=False,
                        dynamic_ncols=True)
        return self.bar.update

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _run_fit(command: str, options: dict, start) -> None:
    """Run ``start(config=, run=, progress=, log=)`` (train_model or transfer_model) and report it."""
    from spliceannot.trainers.lifecycle import LifecycleError

    config, run = _training_arguments(options)
    bars = _Bars(options["progress"])

    def log(message: str) -> None:
        bars.close()
        click.echo(f"spliceannot {command}: {message}", err=True)

    try:
        with handle_signals():
            result = start(config=config, run=run, progress=bars, log=log)
    except LifecycleError as error:
        fail(command, str(error))
    finally:
        bars.close()
    note = " (stopped early)" if result.stopped_early else ""
    written = "best.safetensors, last.safetensors, metrics.csv, curves.png"
    log(f"best epoch {result.best_epoch}{note}; wrote {run.output_dir}/{written}")


# --------------------------------------------------------------------------- train / transfer


@click.command(context_settings=CONTEXT)
@click.option("--flank", type=click.Choice(["80", "400", "2000", "10000"]), default="10000", show_default=True,
              help="Context of the network in nucleotides.")
@click.option("--activation", type=click.Choice(["relu", "leaky_relu"]), default="relu", show_default=True,
              help="relu as SpliceAI, leaky_relu (0.1) as OpenSpliceAI.")
@_training_options(default_lr=1e-3)
def train(flank: str, activation: str, **options) -> None:
    """Train a SpliceAI network from scratch on create-data output.

    Writes, after every epoch, best.safetensors and last.safetensors
    (spliceannot checkpoints that annotate, predict, evaluate and transfer
    accept), metrics.csv (loss; top-k accuracy at k = 0.5, 1, 2, 4 x sites
    and PR-AUC for acceptor and donor, on training and validation data) and
    curves.png.
    """
    from spliceannot.trainers.lifecycle import train_model

    _run_fit("train", options, functools.partial(train_model, flank=int(flank), activation=activation))


@click.command(context_settings=CONTEXT)
@click.option("-m", "--model", "source", required=True,
              help="Starting weights: spliceai, a .h5/.pt/.safetensors file or a directory.")
@click.option("--member", default=0, show_default=True, type=click.IntRange(min=0),
              help="Which member of an ensemble to start from.")
@click.option("--freeze-units", default=None, type=click.IntRange(min=0),
              help="Freeze the stem and the first N residual units.")
@click.option("--train-last", default=None, type=click.IntRange(min=0),
              help="Freeze all but the last K residual units, their groups' skip convolutions and the head.")
@_training_options(default_lr=1e-4)
def transfer(source: str, member: int, freeze_units: int | None, train_last: int | None, **options) -> None:
    """Fine-tune a pretrained network (ours, SpliceAI Keras, OpenSpliceAI).

    Without --freeze-units or --train-last every layer is trained.  Frozen
    units keep their BatchNorm statistics.  The learning rate defaults to
    1e-4 (train: 1e-3); everything else is as in `train`.
    """
    from spliceannot.trainers.lifecycle import transfer_model

    start = functools.partial(
        transfer_model, source, member=member, freeze_units=freeze_units, train_last=train_last
    )
    _run_fit("transfer", options, start)


# --------------------------------------------------------------------------- evaluate


@click.command(context_settings=CONTEXT)
@click.option("-m", "--model", "models", multiple=True, required=True,
              help="A model (spliceai, file or directory); repeat to compare several.")
@click.option("--data", "data_path", type=click.Path(dir_okay=False),
              help="A create-data HDF5 file (usually test.h5).")
@click.option("-R", "--fasta", type=click.Path(dir_okay=False), help="Evaluate straight from a genome FASTA ...")
@click.option("-A", "--annotation", type=click.Path(dir_okay=False),
              help="... and its GTF/GFF3 (instead of --data).")
@click.option("--transcripts", type=click.Choice(["canonical", "all"]), default="canonical", show_default=True)
@click.option("--biotype", default="protein_coding", show_default=True,
              help="With --fasta: transcript biotype, or `all`.")
@click.option("--chromosomes", default="", metavar="C1,C2", help="With --fasta: only these contigs.")
@click.option("--max-windows", default=None, type=click.IntRange(min=1), help="Only the first N windows.")
@_batch_and_device
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Also write the table as TSV here.")
def evaluate(models, data_path, fasta, annotation, transcripts, biotype, chromosomes, max_windows, batch_size,
             device, output) -> None:
    """Top-k accuracy (k = 0.5, 1, 2, 4 x sites) and PR-AUC per model.

    One row per model, acceptor and donor columns, on the windows of --data
    or of the genes of --fasta/--annotation.
    """
    from spliceannot.trainers.evaluation import evaluate_models
    from spliceannot.trainers.lifecycle import LifecycleError

    wanted = [c.strip() for c in chromosomes.split(",") if c.strip()] or None
    try:
        evaluation = evaluate_models(
            models, data_path=data_path, fasta=fasta, annotation=annotation, transcripts=transcripts,
            biotype=biotype, chromosomes=wanted, max_windows=max_windows, batch_size=batch_size,
            device=device,
        )  # fmt: skip
    except LifecycleError as error:
        fail("evaluate", str(error))
    click.echo(evaluation.table())
    if output:
        evaluation.write_tsv(output)


# --------------------------------------------------------------------------- calibrate


@click.command(context_settings=CONTEXT)
@click.option("-m", "--model", "spec", required=True,
              help="The model to calibrate (any loadable kind; an ensemble shares one temperature).")
@click.option("--data", "data_path", required=True, type=click.Path(dir_okay=False),
              help="Validation HDF5 from create-data.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Calibrated checkpoint (.safetensors).")
@click.option("--per-class/--scalar", default=False, show_default=True,
              help="One temperature per class (neither, acceptor, donor) or one for all.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False),
              help="Reliability diagram before/after (PNG).")
@click.option("--bins", default=15, show_default=True, type=click.IntRange(min=2))
@click.option("--max-windows", default=2000, show_default=True, type=click.IntRange(min=1),
              help="Fit on at most this many windows.")
@_batch_and_device
def calibrate(spec, data_path, output, per_class, plot_path, bins, max_windows, batch_size, device) -> None:
    """Fit temperature scaling on validation data and store it in a checkpoint.

    The temperature divides every member's logits before the softmax;
    annotate, predict and evaluate apply it when they load the checkpoint.
    Prints expected calibration error (ECE) and Brier score before and after.
    """
    from spliceannot.trainers.calibration import calibrate_model
    from spliceannot.trainers.lifecycle import LifecycleError

    try:
        calibration = calibrate_model(
            spec, data_path=data_path, output=output, per_class=per_class, plot_path=plot_path, bins=bins,
            max_windows=max_windows, batch_size=batch_size, device=device,
        )  # fmt: skip
    except LifecycleError as error:
        fail("calibrate", str(error))
    click.echo(calibration.table())
    click.echo(f"spliceannot calibrate: {calibration.positions} positions; wrote {output}", err=True)


# --------------------------------------------------------------------------- ensemble


@click.command(context_settings=CONTEXT)
@click.argument("models", nargs=-1, required=True)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="The ensemble checkpoint (.safetensors).")
@click.option("--temperature", default=None, type=click.FloatRange(min=0, min_open=True),
              help="Temperature of the ensemble (default: the members' common one; needed when they differ).")
def ensemble(models, output, temperature) -> None:
    """Combine MODELS (checkpoints, .h5, .pt, directories) into one ensemble checkpoint.

    Members must share flank and activation; their probabilities are
    averaged in the order given.  annotate, predict, evaluate and calibrate
    accept the result like any model.
    """
    from spliceannot.trainers.lifecycle import LifecycleError, build_ensemble

    try:
        members = build_ensemble(models, output, temperature=temperature)
    except LifecycleError as error:
        fail("ensemble", str(error))
    click.echo(f"spliceannot ensemble: wrote {output}: {len(members)} members, flank {members[0].flank}",
               err=True)

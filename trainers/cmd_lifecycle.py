"""``train``, ``transfer``, ``evaluate``, ``calibrate`` and ``ensemble``.

Thin click layers over :mod:`spliceannot.trainers.training`: they parse
options, open data and models, and turn library errors into one-line
messages (exit 2).
"""

from __future__ import annotations

import copy
import math
import sys
from pathlib import Path

import click

from spliceannot.commands._common import fail, handle_signals

CONTEXT = {"help_option_names": ["-h", "--help"]}


# --------------------------------------------------------------------------- shared options


def _training_options(default_lr: float):
    """Options shared by ``train`` and ``transfer``."""

    def decorate(function):
        options = [
            click.option("-d", "--data-dir", type=click.Path(file_okay=False), help="create-data output: reads train.h5 and validation.h5 from it."),
            click.option("--train-data", type=click.Path(dir_okay=False), help="Training HDF5 (instead of --data-dir)."),
            click.option("--validation-data", type=click.Path(dir_okay=False), help="Validation HDF5 (instead of --data-dir; optional)."),
            click.option("-o", "--output-dir", required=True, type=click.Path(file_okay=False), help="Where best.safetensors, last.safetensors, metrics.csv, curves.png and resume.pt go."),
            click.option("--epochs", default=10, show_default=True, type=click.IntRange(min=1)),
            click.option("--batch-size", default=16, show_default=True, type=click.IntRange(min=1), help="Windows (of 5,000 positions) per step."),
            click.option("--learning-rate", "--lr", default=default_lr, show_default=True, type=click.FloatRange(min=0, min_open=True), help="AdamW learning rate."),
            click.option("--weight-decay", default=1e-2, show_default=True, type=click.FloatRange(min=0)),
            click.option("--scheduler", type=click.Choice(["multistep", "cosine"]), default="multistep", show_default=True, help="multistep: x GAMMA after each MILESTONE epoch; cosine: cosine annealing to 0 over the epochs."),
            click.option("--milestones", default="", metavar="E1,E2,...", help="multistep epochs (default: every epoch from the 6th, SpliceAI's schedule)."),
            click.option("--gamma", default=0.5, show_default=True, type=click.FloatRange(min=0, min_open=True), help="multistep factor."),
            click.option("--loss", type=click.Choice(["cross-entropy", "focal"]), default="cross-entropy", show_default=True),
            click.option("--focal-gamma", default=2.0, show_default=True, type=click.FloatRange(min=0)),
            click.option("--focal-alpha", default=None, type=click.FloatRange(0, 1), help="Focal-loss weight of the splice-site classes (1 - alpha for 'neither'); unset = unweighted."),
            click.option("--seed", default=0, show_default=True, type=int, help="Seeds initial weights and window order: same seed, same run."),
            click.option("--patience", default=None, type=click.IntRange(min=1), help="Stop after this many epochs without improvement of --monitor."),
            click.option("--monitor", type=click.Choice(["loss", "top1"]), default="loss", show_default=True, help="Validation quantity that picks best.safetensors and drives --patience."),
            click.option("--metric-windows", default=256, show_default=True, type=click.IntRange(min=0), help="Training windows scored after each epoch for the train metrics."),
            click.option("--max-windows-per-epoch", default=None, type=click.IntRange(min=1), help="Train on a seeded sample of this many windows per epoch."),
            click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N."),
            click.option("--amp/--no-amp", default=None, help="bfloat16 autocast (default: on with CUDA, off on CPU)."),
            click.option("--threads", default=None, type=click.IntRange(min=1), help="CPU threads for torch."),
            click.option("--resume", is_flag=True, help="Continue the run in --output-dir from its last finished epoch."),
            click.option("--progress/--no-progress", default=None, help="Progress bar (default: when stderr is a terminal)."),
        ]
        for option in reversed(options):
            function = option(function)
        return function

    return decorate


def _config(options: dict, device: str):
    from spliceannot.trainers.training import TrainConfig

    try:
        milestones = tuple(int(m) for m in options["milestones"].split(",") if m.strip())
    except ValueError:
        raise click.BadParameter(f"not a comma-separated list of epochs: {options['milestones']!r}", param_hint="--milestones") from None
    amp = options["amp"] if options["amp"] is not None else device.startswith("cuda")
    return TrainConfig(
        epochs=options["epochs"], batch_size=options["batch_size"], learning_rate=options["learning_rate"],
        weight_decay=options["weight_decay"], scheduler=options["scheduler"], milestones=milestones,
        gamma=options["gamma"], loss=options["loss"], focal_gamma=options["focal_gamma"],
        focal_alpha=options["focal_alpha"], seed=options["seed"], patience=options["patience"],
        monitor=options["monitor"], metric_windows=options["metric_windows"],
        max_windows_per_epoch=options["max_windows_per_epoch"], device=device, amp=amp,
    )  # fmt: skip


def _open_data(command: str, options: dict):
    from spliceannot.trainers.layout import SpliceData

    train_path, validation_path = options["train_data"], options["validation_data"]
    if options["data_dir"]:
        directory = Path(options["data_dir"])
        train_path = train_path or directory / "train.h5"
        candidate = directory / "validation.h5"
        validation_path = validation_path or (candidate if candidate.exists() else None)
    if not train_path:
        fail(command, "give --data-dir or --train-data")
    try:
        train_data = SpliceData(train_path)
        validation_data = SpliceData(validation_path) if validation_path else None
    except (ValueError, OSError) as error:
        fail(command, str(error))
    if not len(train_data):
        fail(command, f"{train_path}: no training windows")
    return train_data, validation_data


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
        self.bar = tqdm(total=total, desc=description, unit="window", file=sys.stderr, leave=False, dynamic_ncols=True)
        return self.bar.update

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _device_name(command: str, name: str) -> str:
    from spliceannot.engine._device import resolve_device

    try:
        return str(resolve_device(name))
    except ValueError as error:
        fail(command, str(error))


def _run_fit(command: str, model, options: dict, provenance: list[dict]) -> None:
    import torch

    from spliceannot.trainers.training import fit

    if options["threads"]:
        torch.set_num_threads(options["threads"])
    device = _device_name(command, options["device"])
    config = _config(options, device)
    train_data, validation_data = _open_data(command, options)
    if model.flank > 2 * 5000:
        fail(command, f"flank {model.flank} needs more context than the data's 5,000 nt per side")
    output_dir = Path(options["output_dir"])
    if options["resume"] and not (output_dir / "resume.pt").exists():
        fail(command, f"{output_dir / 'resume.pt'}: nothing to resume")
    bars = _Bars(options["progress"])

    def log(message: str) -> None:
        bars.close()
        click.echo(f"spliceannot {command}: {message}", err=True)

    log(f"{len(train_data)} training and {len(validation_data) if validation_data else 0} validation windows, flank {model.flank}, {device}")
    try:
        with handle_signals():
            result = fit(
                model, train_data, validation_data, config, output_dir,
                provenance=provenance, resume=options["resume"], progress=bars, log=log,
            )  # fmt: skip
    except ValueError as error:
        fail(command, str(error))
    finally:
        bars.close()
    note = " (stopped early)" if result.stopped_early else ""
    log(f"best epoch {result.best_epoch}{note}; wrote {output_dir}/best.safetensors, last.safetensors, metrics.csv, curves.png")


# --------------------------------------------------------------------------- train / transfer


@click.command(context_settings=CONTEXT)
@click.option("--flank", type=click.Choice(["80", "400", "2000", "10000"]), default="10000", show_default=True, help="Context of the network in nucleotides.")
@click.option("--activation", type=click.Choice(["relu", "leaky_relu"]), default="relu", show_default=True, help="relu as SpliceAI, leaky_relu (0.1) as OpenSpliceAI.")
@_training_options(default_lr=1e-3)
def train(flank: str, activation: str, **options) -> None:
    """Train a SpliceAI network from scratch on create-data output.

    Writes, after every epoch, best.safetensors and last.safetensors
    (spliceannot checkpoints that annotate, predict, evaluate and transfer
    accept), metrics.csv (loss; top-k accuracy at k = 0.5, 1, 2, 4 x sites
    and PR-AUC for acceptor and donor, on training and validation data) and
    curves.png.
    """
    import torch

    from spliceannot.engine.architecture import Architecture
    from spliceannot.engine.model import SpliceAI

    torch.manual_seed(options["seed"])
    model = SpliceAI(Architecture(flank=int(flank), activation=activation, batchnorm_eps=1e-5))
    _run_fit("train", model, options, [])


@click.command(context_settings=CONTEXT)
@click.option("-m", "--model", "source", required=True, help="Starting weights: spliceai, a .h5/.pt/.safetensors file or a directory.")
@click.option("--member", default=0, show_default=True, type=click.IntRange(min=0), help="Which member of an ensemble to start from.")
@click.option("--freeze-units", default=None, type=click.IntRange(min=0), help="Freeze the stem and the first N residual units.")
@click.option("--train-last", default=None, type=click.IntRange(min=0), help="Freeze all but the last K residual units, their groups' skip convolutions and the head.")
@_training_options(default_lr=1e-4)
def transfer(source: str, member: int, freeze_units: int | None, train_last: int | None, **options) -> None:
    """Fine-tune a pretrained network (ours, SpliceAI Keras, OpenSpliceAI).

    Without --freeze-units or --train-last every layer is trained.  Frozen
    units keep their BatchNorm statistics.  The learning rate defaults to
    1e-4 (train: 1e-3); everything else is as in `train`.
    """
    from spliceannot.engine.weights import load_model
    from spliceannot.errors import ModelError
    from spliceannot.trainers.training import freeze

    if freeze_units is not None and train_last is not None:
        fail("transfer", "give --freeze-units or --train-last, not both")
    try:
        loaded = load_model(source)
    except ModelError as error:
        fail("transfer", str(error))
    members = loaded.ensemble.members
    if member >= len(members):
        fail("transfer", f"{source} has {len(members)} member(s); --member {member} does not exist")
    model = copy.deepcopy(members[member])
    try:
        trainable = freeze(model, freeze_units=freeze_units, train_last=train_last)
    except ValueError as error:
        fail("transfer", str(error))
    provenance = [*loaded.provenance, {"kind": "transfer", "source": source, "member": member, "sha256": loaded.digest, "trainable": trainable}]
    _run_fit("transfer", model, options, provenance)


# --------------------------------------------------------------------------- evaluate


def _load(command: str, spec: str):
    from spliceannot.engine.weights import load_model
    from spliceannot.errors import ModelError

    try:
        return load_model(spec)
    except ModelError as error:
        fail(command, str(error))


def _format_table(rows: list[dict], columns: list[str]) -> str:
    def cell(value) -> str:
        if isinstance(value, float):
            return "nan" if math.isnan(value) else f"{value:.4f}"
        return str(value)

    body = [[cell(row[c]) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in body)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in body]
    return "\n".join(lines)


@click.command(context_settings=CONTEXT)
@click.option("-m", "--model", "models", multiple=True, required=True, help="A model (spliceai, file or directory); repeat to compare several.")
@click.option("--data", "data_path", type=click.Path(dir_okay=False), help="A create-data HDF5 file (usually test.h5).")
@click.option("-R", "--fasta", type=click.Path(dir_okay=False), help="Evaluate straight from a genome FASTA ...")
@click.option("-A", "--annotation", type=click.Path(dir_okay=False), help="... and its GTF/GFF3 (instead of --data).")
@click.option("--transcripts", type=click.Choice(["canonical", "all"]), default="canonical", show_default=True)
@click.option("--biotype", default="protein_coding", show_default=True, help="With --fasta: transcript biotype, or `all`.")
@click.option("--chromosomes", default="", metavar="C1,C2", help="With --fasta: only these contigs.")
@click.option("--max-windows", default=None, type=click.IntRange(min=1), help="Only the first N windows.")
@click.option("--batch-size", default=8, show_default=True, type=click.IntRange(min=1))
@click.option("--device", default="auto", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Also write the table as TSV here.")
def evaluate(models, data_path, fasta, annotation, transcripts, biotype, chromosomes, max_windows, batch_size, device, output) -> None:
    """Top-k accuracy (k = 0.5, 1, 2, 4 x sites) and PR-AUC per model.

    One row per model, acceptor and donor columns, on the windows of --data
    or of the genes of --fasta/--annotation.
    """
    from spliceannot.trainers.layout import SpliceData
    from spliceannot.trainers.training import evaluate_data

    if bool(data_path) == bool(fasta or annotation):
        fail("evaluate", "give either --data or both --fasta and --annotation")
    if not data_path and not (fasta and annotation):
        fail("evaluate", "--fasta and --annotation go together")
    device = _device_name("evaluate", device)
    loaded = [(spec, _load("evaluate", spec)) for spec in models]
    temporary = None
    try:
        if data_path:
            try:
                data = SpliceData(data_path)
            except (ValueError, OSError) as error:
                fail("evaluate", str(error))
        else:
            temporary, data = _windows_from_genome(fasta, annotation, transcripts, biotype, chromosomes)
        windows = range(min(len(data), max_windows or len(data)))
        if not len(windows):
            fail("evaluate", f"{data_path or annotation}: no windows to evaluate")
        rows = []
        for spec, model in loaded:
            metrics = evaluate_data(model.ensemble, data, windows=windows, batch_size=batch_size, device=device)
            row = {"model": spec, "members": len(model.ensemble.members), "flank": model.flank, "windows": len(windows)}
            for site in ("acceptor", "donor"):
                row[f"{site}_sites"] = metrics.sites[site]
            row.update(metrics.flat())
            rows.append(row)
    finally:
        if temporary is not None:
            temporary.cleanup()
    columns = list(rows[0])
    click.echo(_format_table(rows, columns))
    if output:
        from spliceannot.atomic import atomic_path

        with atomic_path(output) as path, open(path, "w") as handle:
            handle.write("\t".join(columns) + "\n")
            for row in rows:
                handle.write("\t".join(f"{row[c]:.6g}" if isinstance(row[c], float) else str(row[c]) for c in columns) + "\n")


def _windows_from_genome(fasta, annotation, transcripts, biotype, chromosomes):
    """Windows of the genes of ``annotation`` in a temporary HDF5 file (one split)."""
    import tempfile

    from spliceannot.errors import InputError
    from spliceannot.trainers.data import SplitWriter
    from spliceannot.trainers.gene_windows import iter_gene_windows
    from spliceannot.trainers.layout import SpliceData

    temporary = tempfile.TemporaryDirectory(prefix="spliceannot-evaluate-")
    path = Path(temporary.name) / "windows.h5"
    wanted = [c.strip() for c in chromosomes.split(",") if c.strip()] or None
    try:
        windows = iter_gene_windows(
            fasta, annotation, transcripts=transcripts,
            biotype=None if biotype == "all" else biotype, chromosomes=wanted,
        )  # fmt: skip
        writer = SplitWriter(path, "evaluate", {"fasta": str(fasta), "annotation": str(annotation)})
        try:
            for gene in windows:
                writer.append(gene)
        finally:
            writer.close()
        return temporary, SpliceData(path)
    except (InputError, ValueError, OSError) as error:
        temporary.cleanup()
        fail("evaluate", str(error))


# --------------------------------------------------------------------------- calibrate


def _reliability_png(path: str, labels, before, after, bins: int) -> None:
    from spliceannot.trainers.metrics import SITE_CLASSES, reliability
    from spliceannot.viz import style

    with style.styled():
        figure = style.new_figure(10, 4.5)
        axes = figure.subplots(1, 2)
        for axis, (name, cls) in zip(axes, SITE_CLASSES.items()):
            axis.plot([0, 1], [0, 1], color=style.REFERENCE_COLOUR, lw=1, ls=":")
            for label, probs, marker in (("before", before, "o-"), ("after", after, "s-")):
                mean_p, mean_t, count = reliability(labels, probs, cls, bins)
                used = count > 0
                axis.plot(mean_p[used], mean_t[used], marker, label=label)
            axis.set_title(f"{name}")
            axis.set_xlabel("predicted probability")
            axis.set_ylabel("observed frequency")
            axis.set_xlim(0, 1)
            axis.set_ylim(0, 1)
            axis.legend()
    style.save_figure(figure, path, "png")


@click.command(context_settings=CONTEXT)
@click.option("-m", "--model", "spec", required=True, help="The model to calibrate (any loadable kind; an ensemble shares one temperature).")
@click.option("--data", "data_path", required=True, type=click.Path(dir_okay=False), help="Validation HDF5 from create-data.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Calibrated checkpoint (.safetensors).")
@click.option("--per-class/--scalar", default=False, show_default=True, help="One temperature per class (neither, acceptor, donor) or one for all.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), help="Reliability diagram before/after (PNG).")
@click.option("--bins", default=15, show_default=True, type=click.IntRange(min=2))
@click.option("--max-windows", default=2000, show_default=True, type=click.IntRange(min=1), help="Fit on at most this many windows.")
@click.option("--batch-size", default=8, show_default=True, type=click.IntRange(min=1))
@click.option("--device", default="auto", show_default=True)
def calibrate(spec, data_path, output, per_class, plot_path, bins, max_windows, batch_size, device) -> None:
    """Fit temperature scaling on validation data and store it in a checkpoint.

    The temperature divides every member's logits before the softmax;
    annotate, predict and evaluate apply it when they load the checkpoint.
    Prints expected calibration error (ECE) and Brier score before and after.
    """
    from spliceannot.engine.weights import save_checkpoint
    from spliceannot.trainers.layout import SpliceData
    from spliceannot.trainers.metrics import brier_score, calibration_error
    from spliceannot.trainers.training import apply_temperature, fit_temperature, predict_data

    device = _device_name("calibrate", device)
    loaded = _load("calibrate", spec)
    try:
        data = SpliceData(data_path)
    except (ValueError, OSError) as error:
        fail("calibrate", str(error))
    windows = range(min(len(data), max_windows))
    if not len(windows):
        fail("calibrate", f"{data_path}: no windows")
    ensemble = loaded.ensemble
    labels, member_logits = predict_data(ensemble, data, windows=windows, batch_size=batch_size, device=device, logits=True)
    if not ((labels == 1).any() and (labels == 2).any()):
        fail("calibrate", f"{data_path}: needs both acceptor and donor sites to calibrate")
    before = apply_temperature(member_logits, ensemble.temperature)
    temperature = fit_temperature(member_logits, labels, per_class=per_class)
    after = apply_temperature(member_logits, temperature)
    ece_before, ece_after = calibration_error(labels, before, bins), calibration_error(labels, after, bins)
    brier_before, brier_after = brier_score(labels, before), brier_score(labels, after)
    provenance = [*loaded.provenance, {"kind": "calibrate", "source": spec, "data": str(data_path), "temperature": temperature, "positions": int(len(labels))}]
    save_checkpoint(output, list(ensemble.members), temperature=temperature, provenance=provenance)
    if plot_path:
        _reliability_png(plot_path, labels, before, after, bins)
    shown = ", ".join(f"{t:.4f}" for t in temperature) if isinstance(temperature, tuple) else f"{temperature:.4f}"
    click.echo(_format_table(
        [
            {"": "before", "temperature": str(ensemble.temperature), "ece_acceptor": ece_before["acceptor"], "ece_donor": ece_before["donor"], "brier": brier_before},
            {"": "after", "temperature": shown, "ece_acceptor": ece_after["acceptor"], "ece_donor": ece_after["donor"], "brier": brier_after},
        ],
        ["", "temperature", "ece_acceptor", "ece_donor", "brier"],
    ))  # fmt: skip
    click.echo(f"spliceannot calibrate: {len(labels)} positions; wrote {output}", err=True)


# --------------------------------------------------------------------------- ensemble


@click.command(context_settings=CONTEXT)
@click.argument("models", nargs=-1, required=True)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="The ensemble checkpoint (.safetensors).")
@click.option("--temperature", default=None, type=click.FloatRange(min=0, min_open=True), help="Temperature of the ensemble (default: the members' common one; needed when they differ).")
def ensemble(models, output, temperature) -> None:
    """Combine MODELS (checkpoints, .h5, .pt, directories) into one ensemble checkpoint.

    Members must share flank and activation; their probabilities are
    averaged in the order given.  annotate, predict, evaluate and calibrate
    accept the result like any model.
    """
    from spliceannot.engine.weights import save_checkpoint

    members, provenance, temperatures = [], [], set()
    for spec in models:
        loaded = _load("ensemble", spec)
        members.extend(loaded.ensemble.members)
        provenance.extend(loaded.provenance)
        temperatures.add(loaded.ensemble.temperature)
    if len({m.architecture for m in members}) != 1:
        shapes = sorted({f"flank {m.flank} {m.architecture.activation}" for m in members})
        fail("ensemble", f"members differ in architecture ({'; '.join(shapes)}) and cannot be averaged")
    if temperature is None:
        if len(temperatures) != 1:
            fail("ensemble", "the models carry different temperatures; give --temperature (then calibrate the ensemble)")
        temperature = temperatures.pop()
    provenance.append({"kind": "ensemble", "sources": list(models)})
    save_checkpoint(output, members, temperature=temperature, provenance=provenance)
    click.echo(f"spliceannot ensemble: wrote {output}: {len(members)} members, flank {members[0].flank}", err=True)

"""``train``, ``transfer`` and ``ensemble`` as plain functions, and what the lifecycle commands share.

Each function takes explicit arguments, writes its files and returns what
the command reports.  A problem the user has to fix (a missing file, an
unloadable model, options that do not fit together) raises
:class:`LifecycleError` with a one-line message.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from spliceannot.engine._device import set_cpu_threads
from spliceannot.engine.model import SpliceAI
from spliceannot.engine.weights import LoadedModel
from spliceannot.trainers.layout import CONTEXT, SpliceData
from spliceannot.trainers.training import FitResult, TrainConfig, fit, freeze

Progress = Callable[[str, int], Callable[[int], None] | None]


class LifecycleError(Exception):
    """A problem with a lifecycle command's input, as one line that names the file or option."""


def device_name(name: str) -> str:
    """``auto``, ``cpu``, ``cuda`` or ``cuda:N`` resolved to the device to use (``cpu``, ``cuda``, ...)."""
    from spliceannot.engine._device import resolve_device

    try:
        return str(resolve_device(name))
    except ValueError as error:
        raise LifecycleError(str(error)) from None


def load(spec: str) -> LoadedModel:
    """The model ``spec`` names (``spliceai``, a weight file or a directory)."""
    from spliceannot.engine.weights import load_model
    from spliceannot.errors import ModelError

    try:
        return load_model(spec)
    except ModelError as error:
        raise LifecycleError(str(error)) from None


def open_data(path: str | os.PathLike) -> SpliceData:
    """A create-data file, opened for reading."""
    try:
        return SpliceData(path)
    except (ValueError, OSError) as error:
        raise LifecycleError(str(error)) from None


# --------------------------------------------------------------------------- train / transfer


@dataclass(frozen=True)
class TrainingRun:
    """What a ``train`` or ``transfer`` run reads, writes and runs on.

    The data come from ``data_dir`` (its ``train.h5`` and, when present,
    ``validation.h5``) unless ``train_data`` / ``validation_data`` name the
    files.  ``amp`` None means bfloat16 autocast on CUDA only; ``threads``
    None keeps torch's CPU thread count.
    """

    output_dir: Path
    data_dir: str | None = None
    train_data: str | None = None
    validation_data: str | None = None
    device: str = "auto"
    amp: bool | None = None
    threads: int | None = None
    resume: bool = False


def open_training_data(run: TrainingRun) -> tuple[SpliceData, SpliceData | None]:
    """The training and (optional) validation data of ``run``."""
    train_path, validation_path = run.train_data, run.validation_data
    if run.data_dir:
        directory = Path(run.data_dir)
        train_path = train_path or directory / "train.h5"
        candidate = directory / "validation.h5"
        validation_path = validation_path or (candidate if candidate.exists() else None)
    if not train_path:
        raise LifecycleError("give --data-dir or --train-data")
    train_data = open_data(train_path)
    validation_data = open_data(validation_path) if validation_path else None
    if not len(train_data):
        raise LifecycleError(f"{train_path}: no training windows")
    return train_data, validation_data


def _fit(
    model: SpliceAI,
    provenance: list[dict],
    config: TrainConfig,
    run: TrainingRun,
    progress: Progress | None,
    log: Callable[[str], None],
) -> FitResult:
    set_cpu_threads(run.threads)
    device = device_name(run.device)
    config = replace(config, device=device, amp=run.amp if run.amp is not None else device.startswith("cuda"))
    train_data, validation_data = open_training_data(run)
    if model.flank > 2 * CONTEXT:
        raise LifecycleError(f"flank {model.flank} needs more context than the data's 5,000 nt per side")
    if run.resume and not (run.output_dir / "resume.pt").exists():
        raise LifecycleError(f"{run.output_dir / 'resume.pt'}: nothing to resume")
    validation_windows = len(validation_data) if validation_data else 0
    log(f"{len(train_data)} training and {validation_windows} validation windows, flank {model.flank}, {device}")
    try:
        return fit(
            model, train_data, validation_data, config, run.output_dir,
            provenance=provenance, resume=run.resume, progress=progress, log=log,
        )  # fmt: skip
    except ValueError as error:
        raise LifecycleError(str(error)) from None


def train_model(
    *,
    flank: int,
    activation: str,
    config: TrainConfig,
    run: TrainingRun,
    progress: Progress | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> FitResult:
    """Train a fresh network of ``flank`` and ``activation``, seeded by ``config.seed``.

    ``config``'s ``device`` and ``amp`` are replaced by those of ``run``.
    ``progress(description, windows)`` may return an update function for
    each epoch; ``log`` receives one line per step.
    """
    import torch

    from spliceannot.engine.architecture import Architecture

    torch.manual_seed(config.seed)
    model = SpliceAI(Architecture(flank=flank, activation=activation, batchnorm_eps=1e-5))
    return _fit(model, [], config, run, progress, log)


def transfer_model(
    source: str,
    *,
    member: int = 0,
    freeze_units: int | None = None,
    train_last: int | None = None,
    config: TrainConfig,
    run: TrainingRun,
    progress: Progress | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> FitResult:
    """Fine-tune member ``member`` of the model ``source`` names, frozen as :func:`~.training.freeze` says.

    Arguments as :func:`train_model`; the checkpoints' provenance extends the source's.
    """
    if freeze_units is not None and train_last is not None:
        raise LifecycleError("give --freeze-units or --train-last, not both")
    loaded = load(source)
    members = loaded.ensemble.members
    if member >= len(members):
        raise LifecycleError(f"{source} has {len(members)} member(s); --member {member} does not exist")
    model = copy.deepcopy(members[member])
    try:
        trainable = freeze(model, freeze_units=freeze_units, train_last=train_last)
    except ValueError as error:
        raise LifecycleError(str(error)) from None
    provenance = [
        *loaded.provenance,
        {"kind": "transfer", "source": source, "member": member, "sha256": loaded.digest, "trainable": trainable},
    ]
    return _fit(model, provenance, config, run, progress, log)


# --------------------------------------------------------------------------- ensemble


def build_ensemble(
    models: Sequence[str], output: str | os.PathLike, *, temperature: float | None = None
) -> list[SpliceAI]:
    """Write the members of ``models``, in order, as one checkpoint at ``output``; return the members.

    Members must share one architecture.  ``temperature`` None takes the
    models' common temperature (an error when they differ).
    """
    from spliceannot.engine.weights import save_checkpoint

    members, provenance, temperatures = [], [], set()
    for spec in models:
        loaded = load(spec)
        members.extend(loaded.ensemble.members)
        provenance.extend(loaded.provenance)
        temperatures.add(loaded.ensemble.temperature)
    if len({m.architecture for m in members}) != 1:
        shapes = sorted({f"flank {m.flank} {m.architecture.activation}" for m in members})
        raise LifecycleError(f"members differ in architecture ({'; '.join(shapes)}) and cannot be averaged")
    if temperature is None:
        if len(temperatures) != 1:
            raise LifecycleError(
                "the models carry different temperatures; give --temperature (then calibrate the ensemble)"
            )
        temperature = temperatures.pop()
    provenance.append({"kind": "ensemble", "sources": list(models)})
    save_checkpoint(output, members, temperature=temperature, provenance=provenance)
    return members

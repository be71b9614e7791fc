"""Loading and saving SpliceAI weights.

Three sources, none of which needs TensorFlow:

- Illumina's Keras ``.h5`` files (read with h5py by
  :mod:`spliceannot.engine.keras_h5`; the five shipped in the ``spliceai``
  package are ``--model spliceai``);
- OpenSpliceAI ``.pt`` state_dicts (``torch.load(weights_only=True)``, so
  loading runs no pickled code);
- Pangolin's ``final.R.T.3.v2`` state_dicts (weights-only as well; the
  twelve its command line uses are ``--model pangolin``);
- spliceannot checkpoints: safetensors with the architecture, members,
  temperature, selected channels and provenance in the metadata.

A directory of any of these is an ensemble.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from spliceannot import __version__
from spliceannot.atomic import atomic_path
from spliceannot.engine import pangolin_files
from spliceannot.engine.architecture import FLANKS, GROUPS, PANGOLIN, UNITS_PER_GROUP, Architecture
from spliceannot.engine.files import WEIGHT_SUFFIXES, file_digest, model_files
from spliceannot.engine.keras_h5 import from_keras_h5
from spliceannot.engine.model import (
    Ensemble,
    SpliceAI,
    Temperature,
    load_state,
    normalize_temperature,
)
from spliceannot.errors import ModelError

CHECKPOINT_FORMAT = "spliceannot-checkpoint"
CHECKPOINT_VERSION = "1"


@dataclass
class LoadedModel:
    """An ensemble ready to run, with what identifies it.

    Attributes
    ----------
    ensemble
        The network(s), in eval mode.
    name
        How the user named it (``spliceai``, a path).
    digest
        SHA-256 over the member weight files, in order.
    sources
        One entry per member: the file it came from.
    provenance
        Free-form history (conversions, training runs) carried in checkpoints.
    """

    ensemble: Ensemble
    name: str
    digest: str
    sources: list[str] = field(default_factory=list)
    provenance: list[dict] = field(default_factory=list)

    @property
    def flank(self) -> int:
        return self.ensemble.flank


# --------------------------------------------------------------------------- OpenSpliceAI


def from_openspliceai(state_dict: dict[str, torch.Tensor]) -> SpliceAI:
    """A :class:`SpliceAI` from an OpenSpliceAI state_dict (LeakyReLU 0.1, eps 1e-5).

    OpenSpliceAI keeps residual units and 1x1 skip convolutions interleaved
    in one ``residual_units`` list; the flank follows from the unit count and
    is checked against the kernel widths.
    """
    unit_indices = sorted(
        {int(m.group(1)) for k in state_dict if (m := re.match(r"residual_units\.(\d+)\.conv1\.weight$", k))}
    )
    skip_indices = sorted(
        {int(m.group(1)) for k in state_dict if (m := re.match(r"residual_units\.(\d+)\.conv\.weight$", k))}
    )
    groups = len(unit_indices) // UNITS_PER_GROUP
    if not unit_indices or len(unit_indices) % UNITS_PER_GROUP or groups not in FLANKS.values():
        raise ModelError(f"not an OpenSpliceAI SpliceAI state_dict ({len(unit_indices)} residual units)")
    if len(skip_indices) != groups:
        raise ModelError(f"expected {groups} skip convolutions, found {len(skip_indices)}")
    flank = {n: f for f, n in FLANKS.items()}[groups]
    architecture = Architecture(flank=flank, activation="leaky_relu", batchnorm_eps=1e-5)
    state: dict[str, torch.Tensor] = {}
    for ours, theirs in (("stem", "initial_conv"), ("stem_skip", "initial_skip.conv"), ("head", "final_conv")):
        for key in ("weight", "bias"):
            state[f"{ours}.{key}"] = state_dict[f"{theirs}.{key}"]
    for position, index in enumerate(unit_indices):
        width = GROUPS[position // UNITS_PER_GROUP][0]
        if state_dict[f"residual_units.{index}.conv1.weight"].shape[-1] != width:
            raise ModelError(f"residual unit {position}: kernel width does not match the SpliceAI-{flank} table")
        for part in ("norm1", "conv1", "norm2", "conv2"):
            source = {"norm1": "batchnorm1", "norm2": "batchnorm2"}.get(part, part)
            keys = ("weight", "bias", "running_mean", "running_var") if part.startswith("norm") else ("weight", "bias")
            for key in keys:
                state[f"units.{position}.{part}.{key}"] = state_dict[f"residual_units.{index}.{source}.{key}"]
    for group, index in enumerate(skip_indices):
        for key in ("weight", "bias"):
            state[f"group_skips.{group}.{key}"] = state_dict[f"residual_units.{index}.conv.{key}"]
    model = SpliceAI(architecture)
    load_state(model, state)
    return model


def from_pangolin(state_dict: dict[str, torch.Tensor]) -> SpliceAI:
    """A :class:`SpliceAI` of the :data:`PANGOLIN` architecture from a Pangolin state_dict.

    Pangolin names the stem ``conv1``/``skip``, the units ``resblocks.N``
    (``bn1``, ``conv1``, ``bn2``, ``conv2``), the group skips ``convs.N`` and
    has eight 1x1 heads ``conv_last1..8`` (2, 1, 2, 1, ... channels), which
    become one 12-channel head in that order.
    """
    if "conv_last1.weight" not in state_dict or "resblocks.0.conv1.weight" not in state_dict:
        raise ModelError("not a Pangolin state_dict (no conv_last1 / resblocks)")
    state: dict[str, torch.Tensor] = {}
    for ours, theirs in (("stem", "conv1"), ("stem_skip", "skip")):
        for key in ("weight", "bias"):
            state[f"{ours}.{key}"] = state_dict[f"{theirs}.{key}"]
    for unit in range(len(PANGOLIN.units)):
        for ours, theirs in (("norm1", "bn1"), ("conv1", "conv1"), ("norm2", "bn2"), ("conv2", "conv2")):
            keys = ("weight", "bias", "running_mean", "running_var") if ours.startswith("norm") else ("weight", "bias")
            for key in keys:
                state[f"units.{unit}.{ours}.{key}"] = state_dict[f"resblocks.{unit}.{theirs}.{key}"]
    for group in range(len(PANGOLIN.groups)):
        for key in ("weight", "bias"):
            state[f"group_skips.{group}.{key}"] = state_dict[f"convs.{group}.{key}"]
    for key in ("weight", "bias"):
        state[f"head.{key}"] = torch.cat([state_dict[f"conv_last{i}.{key}"] for i in range(1, 9)])
    model = SpliceAI(PANGOLIN)
    load_state(model, state)
    return model


def read_torch_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """A state_dict from a ``.pt`` file, loaded without running pickled code."""
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for bad or unsafe files
        import pickle

        if isinstance(error, pickle.UnpicklingError):
            # torch's own text suggests weights_only=False: never for a file we did not make
            raise ModelError(
                f"{path}: refused: it holds pickled objects other than tensors, which could "
                "run code when loaded (convert it where it was made, to a state_dict of "
                "tensors or safetensors)"
            ) from None
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelError(f"{path}: cannot load as a weights-only PyTorch file ({first})") from None
    if isinstance(loaded, dict) and "state_dict" in loaded and isinstance(loaded["state_dict"], dict):
        loaded = loaded["state_dict"]
    if isinstance(loaded, dict) and "model_state_dict" in loaded:
        loaded = loaded["model_state_dict"]
    if not isinstance(loaded, dict) or not all(isinstance(v, torch.Tensor) for v in loaded.values()):
        raise ModelError(f"{path}: not a state_dict of tensors")
    return {k.removeprefix("module."): v for k, v in loaded.items()}


# --------------------------------------------------------------------------- ours


def save_checkpoint(
    path: str | Path,
    members: Sequence[SpliceAI],
    *,
    temperature: Temperature = 1.0,
    provenance: Sequence[dict] = (),
    select: Sequence[int] | None = None,
) -> None:
    """Write members as one spliceannot safetensors checkpoint (``select``: see :class:`Ensemble`)."""
    from safetensors.torch import save_file

    architectures = {m.architecture for m in members}
    if len(architectures) != 1:
        raise ModelError("all members of a checkpoint must share one architecture")
    architecture = architectures.pop()
    tensors = {}
    for index, member in enumerate(members):
        for key, value in member.state_dict().items():
            if key.endswith("num_batches_tracked"):
                continue
            tensors[f"member{index}.{key}"] = value.detach().to("cpu", torch.float32).contiguous()
    metadata = {
        "format": CHECKPOINT_FORMAT,
        "format_version": CHECKPOINT_VERSION,
        "flank": str(architecture.flank),
        "activation": architecture.activation,
        "batchnorm_eps": repr(architecture.batchnorm_eps),
        "members": str(len(members)),
        "temperature": json.dumps(normalize_temperature(temperature)),
        "provenance": json.dumps(list(provenance)),
        "outputs": str(architecture.outputs),
        "head": architecture.head,
        "spliceannot_version": __version__,
    }
    if select is not None:
        metadata["select"] = json.dumps(list(select))
    with atomic_path(path) as temporary:
        save_file(tensors, temporary, metadata=metadata)


def read_checkpoint(path: str | Path) -> tuple[list[SpliceAI], Temperature, list[dict], tuple[int, ...] | None]:
    """Members, temperature, provenance and selected channels (None: averaged) of a checkpoint."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
            if metadata.get("format") != CHECKPOINT_FORMAT:
                raise ModelError(f"{path}: not a spliceannot checkpoint (metadata format missing)")
            architecture = Architecture(
                flank=int(metadata["flank"]),
                activation=metadata["activation"],
                batchnorm_eps=float(metadata["batchnorm_eps"]),
                outputs=int(metadata.get("outputs", Architecture.outputs)),
                head=metadata.get("head", Architecture.head),
            )
            select = tuple(json.loads(metadata["select"])) if "select" in metadata else None
            count = int(metadata["members"])
            members = []
            for index in range(count):
                prefix = f"member{index}."
                state = {k[len(prefix):]: handle.get_tensor(k) for k in handle.keys() if k.startswith(prefix)}
                model = SpliceAI(architecture)
                load_state(model, state)
                members.append(model)
            temperature = normalize_temperature(json.loads(metadata.get("temperature", "1.0")))
            provenance = json.loads(metadata.get("provenance", "[]"))
    except (SafetensorError, OSError, KeyError, ValueError) as error:
        raise ModelError(f"{path}: not a readable spliceannot checkpoint ({error})") from None
    return members, temperature, provenance, select


# --------------------------------------------------------------------------- resolution


Members = tuple[list[SpliceAI], Temperature, list[dict], "tuple[int, ...] | None"]


def _from_state_dict(path: Path, convert) -> SpliceAI:
    try:
        return convert(read_torch_state_dict(path))
    except (ModelError, KeyError) as error:
        message = str(error)
        if not message.startswith(str(path)):
            message = f"{path}: {message}"
        raise ModelError(message) from None


def _members_from_file(path: Path) -> Members:
    """Members, temperature, provenance and selected channels (None: averaged) of one file."""
    suffix = path.suffix.lower()
    task = pangolin_files.task_of(path)
    if task is not None:
        member = _from_state_dict(path, from_pangolin)
        return [member], 1.0, [{"source": str(path), "kind": "pangolin-state-dict"}], (pangolin_files.SELECT[task],)
    if suffix == ".h5":
        return [from_keras_h5(path)], 1.0, [{"source": str(path), "kind": "keras-h5"}], None
    if suffix in (".pt", ".pth"):
        member = _from_state_dict(path, from_openspliceai)
        return [member], 1.0, [{"source": str(path), "kind": "openspliceai-state-dict"}], None
    if suffix == ".safetensors":
        return read_checkpoint(path)
    raise ModelError(f"{path}: unknown weight file type (expected {', '.join(WEIGHT_SUFFIXES)})")


def load_model(spec: str = "spliceai") -> LoadedModel:
    """Load what ``--model`` names.

    Parameters
    ----------
    spec
        ``spliceai`` (Illumina's five 10000-nt models), ``pangolin`` (its
        twelve P(splice) networks, one channel each), a ``.h5``/``.pt``/
        ``.safetensors`` file, or a directory of such files (an ensemble of
        all of them, in name order; a directory of Pangolin's files: its twelve).
    """
    paths = model_files(spec)
    members: list[SpliceAI] = []
    provenance: list[dict] = []
    temperatures = set()
    selects: list[tuple[int, ...] | None] = []
    for path in paths:
        loaded, temperature, history, select = _members_from_file(path)
        members.extend(loaded)
        provenance.extend(history)
        temperatures.add(temperature)
        selects.append(select)
    if len({m.architecture for m in members}) != 1:
        raise ModelError(f"{spec}: members differ in flank or activation and cannot be averaged")
    if len(temperatures) != 1:
        raise ModelError(f"{spec}: members carry different temperatures")
    if len({select is None for select in selects}) != 1:
        raise ModelError(f"{spec}: some members are averaged and some read one channel each")
    select = None if selects[0] is None else tuple(c for part in selects for c in part)  # type: ignore[union-attr]
    ensemble = Ensemble(members, temperature=temperatures.pop(), select=select).eval()
    return LoadedModel(
        ensemble=ensemble,
        name=spec,
        digest=file_digest(paths),
        sources=[str(p) for p in paths],
        provenance=provenance,
    )


def convert_weights(source: str, output: str | Path) -> LoadedModel:
    """Load ``source`` (anything :func:`load_model` accepts) and save it as one checkpoint."""
    model = load_model(source)
    history = list(model.provenance)
    history.append({"kind": "convert", "source": source, "sha256": model.digest, "spliceannot": __version__})
    save_checkpoint(
        output,
        list(model.ensemble.members),
        temperature=model.ensemble.temperature,
        provenance=history,
        select=model.ensemble.select,
    )
    return model

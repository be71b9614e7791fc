"""Loading and saving SpliceAI weights.

Three sources, none of which needs TensorFlow:

- Illumina's Keras ``.h5`` files (read with h5py by
  :mod:`spliceannot.engine.keras_h5`; the five shipped in the ``spliceai``
  package are ``--model spliceai``);
- OpenSpliceAI ``.pt`` state_dicts (``torch.load(weights_only=True)``, so
  loading runs no pickled code);
- spliceannot checkpoints: safetensors with the architecture, members,
  temperature and provenance in the metadata.

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
from spliceannot.engine.architecture import FLANKS, GROUPS, UNITS_PER_GROUP, Architecture
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
) -> None:
    """Write members as one spliceannot safetensors checkpoint."""
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
        "spliceannot_version": __version__,
    }
    with atomic_path(path) as temporary:
        save_file(tensors, temporary, metadata=metadata)


def read_checkpoint(path: str | Path) -> tuple[list[SpliceAI], Temperature, list[dict]]:
    """Members, temperature and provenance of a spliceannot checkpoint."""
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
            )
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
    return members, temperature, provenance


# --------------------------------------------------------------------------- resolution


def _members_from_file(path: Path) -> tuple[list[SpliceAI], Temperature, list[dict]]:
    suffix = path.suffix.lower()
    if suffix == ".h5":
        return [from_keras_h5(path)], 1.0, [{"source": str(path), "kind": "keras-h5"}]
    if suffix in (".pt", ".pth"):
        try:
            member = from_openspliceai(read_torch_state_dict(path))
        except (ModelError, KeyError) as error:
            message = str(error)
            if not message.startswith(str(path)):
                message = f"{path}: {message}"
            raise ModelError(message) from None
        return [member], 1.0, [{"source": str(path), "kind": "openspliceai-state-dict"}]
    if suffix == ".safetensors":
        return read_checkpoint(path)
    raise ModelError(f"{path}: unknown weight file type (expected {', '.join(WEIGHT_SUFFIXES)})")


def load_model(spec: str = "spliceai") -> LoadedModel:
    """Load what ``--model`` names.

    Parameters
    ----------
    spec
        ``spliceai`` (Illumina's five 10000-nt models), a ``.h5``/``.pt``/
        ``.safetensors`` file, or a directory of such files (an ensemble of
        all of them, in name order).
    """
    paths = model_files(spec)
    members: list[SpliceAI] = []
    provenance: list[dict] = []
    temperatures = set()
    for path in paths:
        loaded, temperature, history = _members_from_file(path)
        members.extend(loaded)
        provenance.extend(history)
        temperatures.add(temperature)
    if len({m.architecture for m in members}) != 1:
        raise ModelError(f"{spec}: members differ in flank or activation and cannot be averaged")
    if len(temperatures) != 1:
        raise ModelError(f"{spec}: members carry different temperatures")
    ensemble = Ensemble(members, temperature=temperatures.pop()).eval()
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
    save_checkpoint(output, list(model.ensemble.members), temperature=model.ensemble.temperature, provenance=history)
    return model

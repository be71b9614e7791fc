"""Porting Illumina's Keras SpliceAI ``.h5`` files (read with h5py, no TensorFlow)."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from spliceannot.engine.architecture import FLANKS, UNITS_PER_GROUP, Architecture
from spliceannot.engine.model import SpliceAI, load_state
from spliceannot.errors import ModelError


def _keras_layers(handle) -> dict[str, dict]:
    raw = handle.attrs.get("model_config")
    if raw is None:
        raise ModelError("no model_config attribute (not a Keras model file)")
    config = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
    layers = config["config"]["layers"]
    return {layer["name"]: layer for layer in layers}


def _inputs(layer: dict) -> list[str]:
    nodes = layer.get("inbound_nodes") or []
    if not nodes:
        return []
    node = nodes[0]
    if isinstance(node, dict):  # newer Keras serialisation
        args = node.get("args", [])
        flat = args[0] if args and isinstance(args[0], list) else args
        return [a["config"]["keras_history"][0] for a in flat if isinstance(a, dict)]
    return [entry[0] for entry in node]


def _consumers(layers: dict[str, dict], name: str, kind: str) -> list[str]:
    return [n for n, layer in layers.items() if layer["class_name"] == kind and name in _inputs(layer)]


def _keras_weights(handle, name: str) -> dict[str, torch.Tensor]:
    group = handle["model_weights"][name][name] if "model_weights" in handle else handle[name][name]
    return {key.split(":")[0]: torch.from_numpy(group[key][()]) for key in group}


def _conv(weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    # Keras kernel (K, C_in, C_out) -> PyTorch (C_out, C_in, K)
    return {"weight": weights["kernel"].permute(2, 1, 0).contiguous(), "bias": weights["bias"]}


def _batchnorm(weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {
        "weight": weights["gamma"],
        "bias": weights["beta"],
        "running_mean": weights["moving_mean"],
        "running_var": weights["moving_variance"],
    }


def from_keras_h5(path: str | Path) -> SpliceAI:
    """A :class:`SpliceAI` with the weights of a Keras SpliceAI ``.h5`` file.

    The graph is followed by layer name (never by position): the stem is the
    convolution on the input, each residual unit is BN -> activation -> conv
    -> BN -> activation -> conv -> add, skip convolutions are the 1x1
    convolutions on the trunk, the head the 3-filter convolution.
    """
    import h5py

    path = Path(path)
    try:
        with h5py.File(path, "r") as handle:
            layers = _keras_layers(handle)
            return _build_from_keras(handle, layers)
    except ModelError as error:
        raise ModelError(f"{path}: {error}") from None
    except (OSError, KeyError, ValueError, json.JSONDecodeError) as error:
        raise ModelError(f"{path}: not a readable SpliceAI Keras model ({error})") from None


def _build_from_keras(handle, layers: dict[str, dict]) -> SpliceAI:
    def only(names: list[str], what: str) -> str:
        if len(names) != 1:
            raise ModelError(f"unexpected graph: {len(names)} candidates for {what}")
        return names[0]

    inputs = [n for n, layer in layers.items() if layer["class_name"] == "InputLayer"]
    stem = only(_consumers(layers, only(inputs, "input"), "Conv1D"), "stem convolution")
    trunk = [stem]
    units = []  # (norm1, conv1, norm2, conv2)
    activations = set()
    while True:
        norms = _consumers(layers, trunk[-1], "BatchNormalization")
        if not norms:
            break
        norm1 = only(norms, "unit BatchNorm")
        act1 = only(_consumers(layers, norm1, "Activation"), "activation")
        conv1 = only(_consumers(layers, act1, "Conv1D"), "unit convolution")
        norm2 = only(_consumers(layers, conv1, "BatchNormalization"), "unit BatchNorm")
        act2 = only(_consumers(layers, norm2, "Activation"), "activation")
        conv2 = only(_consumers(layers, act2, "Conv1D"), "unit convolution")
        add = only(_consumers(layers, conv2, "Add"), "residual add")
        if trunk[-1] not in _inputs(layers[add]):
            raise ModelError(f"residual add {add} does not take the unit input")
        activations.update(layers[a]["config"]["activation"] for a in (act1, act2))
        units.append((norm1, conv1, norm2, conv2))
        trunk.append(add)
    if len(units) % UNITS_PER_GROUP or len(units) // UNITS_PER_GROUP not in FLANKS.values():
        raise ModelError(f"unexpected number of residual units: {len(units)}")
    flank = {n: f for f, n in FLANKS.items()}[len(units) // UNITS_PER_GROUP]
    if activations != {"relu"}:
        raise ModelError(f"unsupported activations {sorted(activations)}")
    eps = {layers[n]["config"].get("epsilon", 1e-3) for unit in units for n in (unit[0], unit[2])}
    if len(eps) != 1:
        raise ModelError("BatchNorm layers disagree on epsilon")
    architecture = Architecture(flank=flank, activation="relu", batchnorm_eps=float(eps.pop()))
    model = SpliceAI(architecture)

    for index, (width, dilation) in enumerate(architecture.units):
        for conv in units[index][1::2]:
            config = layers[conv]["config"]
            if tuple(config["kernel_size"]) != (width,) or tuple(config["dilation_rate"]) != (dilation,):
                raise ModelError(f"{conv}: kernel/dilation do not match the SpliceAI-{flank} table")

    state: dict[str, torch.Tensor] = {}

    def put(prefix: str, values: dict[str, torch.Tensor]) -> None:
        for key, value in values.items():
            state[f"{prefix}.{key}"] = value

    put("stem", _conv(_keras_weights(handle, stem)))
    for index, (norm1, conv1, norm2, conv2) in enumerate(units):
        put(f"units.{index}.norm1", _batchnorm(_keras_weights(handle, norm1)))
        put(f"units.{index}.conv1", _conv(_keras_weights(handle, conv1)))
        put(f"units.{index}.norm2", _batchnorm(_keras_weights(handle, norm2)))
        put(f"units.{index}.conv2", _conv(_keras_weights(handle, conv2)))
    for position, node in enumerate(trunk):
        skips = [
            n
            for n in _consumers(layers, node, "Conv1D")
            if tuple(layers[n]["config"]["kernel_size"]) == (1,) and n not in {u[1] for u in units}
        ]
        if position == 0:
            put("stem_skip", _conv(_keras_weights(handle, only(skips, "stem skip"))))
        elif position % UNITS_PER_GROUP == 0:
            group = position // UNITS_PER_GROUP - 1
            put(f"group_skips.{group}", _conv(_keras_weights(handle, only(skips, "group skip"))))
    heads = [n for n, layer in layers.items() if layer["class_name"] == "Conv1D" and layer["config"]["filters"] == 3]
    put("head", _conv(_keras_weights(handle, only(heads, "output convolution"))))
    load_state(model, state)
    return model

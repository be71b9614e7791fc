"""The network, its weight loaders and its checkpoint format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from spliceannot.engine.architecture import FLANKS, Architecture
from spliceannot.engine.model import Ensemble, SpliceAI
from spliceannot.engine.weights import (
    from_openspliceai,
    load_model,
    read_checkpoint,
    read_torch_state_dict,
    save_checkpoint,
)
from spliceannot.errors import ModelError

DATA = Path(__file__).parent / "data"
OPENSPLICEAI = Path(__file__).resolve().parents[2] / "shared" / "data" / "openspliceai-models"


def randomized(model: SpliceAI, seed: int) -> SpliceAI:
    """Give a model non-trivial BatchNorm statistics as well as random weights."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm1d):
                module.running_mean.uniform_(-0.5, 0.5, generator=generator)
                module.running_var.uniform_(0.5, 2.0, generator=generator)
                module.weight.uniform_(0.5, 1.5, generator=generator)
                module.bias.uniform_(-0.2, 0.2, generator=generator)
    return model.eval()


def one_hot_random(length: int, seed: int) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    x = np.eye(4, dtype=np.float32)[rng.integers(0, 4, length)]
    x[rng.random(length) < 0.05] = 0  # some N
    return torch.from_numpy(x).T.unsqueeze(0)


def test_flank_table_derives_from_groups():
    assert FLANKS == {80: 1, 400: 2, 2000: 3, 10000: 4}
    for flank in FLANKS:
        arch = Architecture(flank=flank)
        assert 2 * sum(arch.unit_radii()) == flank
        assert len(arch.units) == 4 * FLANKS[flank]


def test_unknown_flank_and_activation_are_rejected():
    with pytest.raises(ValueError):
        Architecture(flank=500)
    with pytest.raises(ValueError):
        Architecture(activation="gelu")


def same_padding_forward(state: dict[str, torch.Tensor], x: torch.Tensor, flank: int) -> torch.Tensor:
    """An independent SpliceAI forward in the Keras/OpenSpliceAI style.

    Zero-padded ('same') convolutions over the whole input, then cropping,
    written straight from OpenSpliceAI's state_dict keys: it checks both the
    key mapping of ``from_openspliceai`` and that valid convolutions give the
    same central outputs as padded ones.
    """
    widths = {80: [11] * 4, 400: [11] * 4 + [11] * 4, 2000: [11] * 8 + [21] * 4, 10000: [11] * 8 + [21] * 4 + [41] * 4}
    dilations = {80: [1] * 4, 400: [1] * 4 + [4] * 4, 2000: [1] * 4 + [4] * 4 + [10] * 4,
                 10000: [1] * 4 + [4] * 4 + [10] * 4 + [25] * 4}

    def bn(name, h):
        return F.batch_norm(h, state[f"{name}.running_mean"], state[f"{name}.running_var"],
                            state[f"{name}.weight"], state[f"{name}.bias"], False, 0.0, 1e-5)

    h = F.conv1d(x, state["initial_conv.weight"], state["initial_conv.bias"])
    skip = F.conv1d(h, state["initial_skip.conv.weight"], state["initial_skip.conv.bias"])
    entry = 0
    for unit, (width, dilation) in enumerate(zip(widths[flank], dilations[flank])):
        pad = dilation * (width - 1) // 2
        p = f"residual_units.{entry}"
        out = F.conv1d(F.leaky_relu(bn(f"{p}.batchnorm1", h), 0.1), state[f"{p}.conv1.weight"],
                       state[f"{p}.conv1.bias"], padding=pad, dilation=dilation)
        out = F.conv1d(F.leaky_relu(bn(f"{p}.batchnorm2", out), 0.1), state[f"{p}.conv2.weight"],
                       state[f"{p}.conv2.bias"], padding=pad, dilation=dilation)
        h = h + out
        entry += 1
        if (unit + 1) % 4 == 0:
            skip = skip + F.conv1d(h, state[f"residual_units.{entry}.conv.weight"],
                                   state[f"residual_units.{entry}.conv.bias"])
            entry += 1
    skip = skip[..., flank // 2 : skip.shape[-1] - flank // 2]
    return F.softmax(F.conv1d(skip, state["final_conv.weight"], state["final_conv.bias"]), dim=1)


def openspliceai_style_state(model: SpliceAI) -> dict[str, torch.Tensor]:
    """Rename our parameters into OpenSpliceAI's layout (units and skips interleaved)."""
    ours = model.state_dict()
    state = {}
    for a, b in (("stem", "initial_conv"), ("stem_skip", "initial_skip.conv"), ("head", "final_conv")):
        state[f"{b}.weight"], state[f"{b}.bias"] = ours[f"{a}.weight"], ours[f"{a}.bias"]
    entry = 0
    for unit in range(len(model.units)):
        for part, theirs in (("norm1", "batchnorm1"), ("norm2", "batchnorm2")):
            for key in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
                state[f"residual_units.{entry}.{theirs}.{key}"] = ours[f"units.{unit}.{part}.{key}"]
        for part in ("conv1", "conv2"):
            for key in ("weight", "bias"):
                state[f"residual_units.{entry}.{part}.{key}"] = ours[f"units.{unit}.{part}.{key}"]
        entry += 1
        if (unit + 1) % 4 == 0:
            for key in ("weight", "bias"):
                state[f"residual_units.{entry}.conv.{key}"] = ours[f"group_skips.{unit // 4}.{key}"]
            entry += 1
    return state


@pytest.mark.parametrize("flank", [80, 400, 2000])
def test_openspliceai_mapping_and_valid_convolutions_match_padded_forward(flank):
    torch.manual_seed(flank)
    source = randomized(SpliceAI(Architecture(flank=flank, activation="leaky_relu", batchnorm_eps=1e-5)), flank)
    state = openspliceai_style_state(source)
    model = from_openspliceai(state)
    assert model.flank == flank and model.architecture.activation == "leaky_relu"
    x = one_hot_random(flank + 300, seed=flank)
    with torch.no_grad():
        expected = same_padding_forward(state, x, flank)
        got = F.softmax(model(x), dim=1)
    assert got.shape == (1, 3, 300)
    torch.testing.assert_close(got, expected, atol=2e-6, rtol=0)


def test_right_padding_does_not_change_outputs():
    torch.manual_seed(3)
    model = randomized(SpliceAI(Architecture(flank=400)), 3)
    x = one_hot_random(600, seed=3)
    padded = torch.cat([x, torch.zeros(1, 4, 77)], dim=-1)
    with torch.no_grad():
        torch.testing.assert_close(model(padded)[..., :200], model(x), atol=1e-6, rtol=0)


def test_ensemble_averages_member_probabilities():
    torch.manual_seed(4)
    members = [randomized(SpliceAI(Architecture(flank=80)), s) for s in (1, 2, 3)]
    ensemble = Ensemble(members).eval()
    x = one_hot_random(200, seed=4)
    with torch.no_grad():
        expected = sum(F.softmax(m(x), dim=1) for m in members) / 3
        torch.testing.assert_close(ensemble(x), expected.transpose(1, 2), atol=1e-7, rtol=0)


def test_ensemble_rejects_mixed_flanks():
    with pytest.raises(ValueError):
        Ensemble([SpliceAI(Architecture(flank=80)), SpliceAI(Architecture(flank=400))])


def test_checkpoint_round_trip_keeps_outputs_and_metadata(tmp_path):
    torch.manual_seed(5)
    members = [randomized(SpliceAI(Architecture(flank=80, activation="leaky_relu", batchnorm_eps=1e-5)), s)
               for s in (5, 6)]
    path = tmp_path / "model.safetensors"
    save_checkpoint(path, members, temperature=1.5, provenance=[{"kind": "test"}])
    loaded, temperature, provenance, select = read_checkpoint(path)
    assert select is None
    assert temperature == 1.5 and provenance == [{"kind": "test"}]
    assert [m.architecture for m in loaded] == [m.architecture for m in members]
    x = one_hot_random(300, seed=5)
    with torch.no_grad():
        for a, b in zip(members, loaded):
            torch.testing.assert_close(a(x), b(x), atol=0, rtol=0)
    model = load_model(str(path))
    assert model.ensemble.temperature == 1.5 and len(model.ensemble.members) == 2


def test_directory_of_checkpoints_is_an_ensemble(tmp_path):
    for seed in (1, 2):
        save_checkpoint(tmp_path / f"m{seed}.safetensors", [SpliceAI(Architecture(flank=80))])
    model = load_model(str(tmp_path))
    assert len(model.ensemble.members) == 2
    assert model.sources == sorted(model.sources)


def test_bad_weight_files_are_clear_errors(tmp_path):
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a zip")
    with pytest.raises(ModelError, match="junk.pt"):
        load_model(str(junk))
    truncated = tmp_path / "cut.safetensors"
    save_checkpoint(truncated, [SpliceAI(Architecture(flank=80))])
    truncated.write_bytes(truncated.read_bytes()[:300])
    with pytest.raises(ModelError, match="cut.safetensors"):
        load_model(str(truncated))
    with pytest.raises(ModelError, match="not found"):
        load_model(str(tmp_path / "missing.pt"))


def test_pickled_code_in_a_pt_file_is_not_run(tmp_path):
    marker = tmp_path / "ran"

    class Exploit:
        def __reduce__(self):
            return (Path.touch, (marker,))

    path = tmp_path / "evil.pt"
    torch.save({"x": Exploit()}, path)
    with pytest.raises(ModelError):
        read_torch_state_dict(path)
    assert not marker.exists()


@pytest.mark.slow
def test_keras_weights_match_golden_outputs():
    """Illumina's five models: every probability within 1e-5 of Keras."""
    model = load_model("spliceai")
    x = np.load(DATA / "golden" / "windows_x.npy")[:1]
    y = np.load(DATA / "golden" / "windows_y_mean.npy")[:1]
    per_model = np.load(DATA / "golden" / "windows_y_per_model.npy")[:, :1]
    rx = np.load(DATA / "golden" / "random_x.npy")
    ry = np.load(DATA / "golden" / "random_y_mean.npy")
    with torch.inference_mode():
        for inputs, expected in ((x, y), (rx, ry)):
            tensor = torch.from_numpy(inputs.astype(np.float32)).transpose(1, 2)
            got = model.ensemble(tensor).numpy()
            assert got.shape == expected.shape
            assert np.abs(got - expected).max() < 1e-5
        tensor = torch.from_numpy(x.astype(np.float32)).transpose(1, 2)
        for member, expected in zip(model.ensemble.members, per_model):
            got = F.softmax(member(tensor), dim=1).transpose(1, 2).numpy()
            assert np.abs(got - expected).max() < 1e-5


@pytest.mark.skipif(not OPENSPLICEAI.is_dir(), reason="OpenSpliceAI checkpoints not available")
def test_real_openspliceai_checkpoints_load_with_inferred_flank():
    for flank in (80, 400, 2000, 10000):
        directory = OPENSPLICEAI / "openspliceai-mane" / f"{flank}nt"
        model = load_model(str(directory))
        assert model.flank == flank and len(model.ensemble.members) == 5
        member = model.ensemble.members[0]
        state = read_torch_state_dict(sorted(directory.glob("*.pt"))[0])
        x = one_hot_random(flank + 200, seed=flank)
        with torch.no_grad():
            torch.testing.assert_close(F.softmax(member(x), dim=1), same_padding_forward(state, x, flank),
                                       atol=2e-5, rtol=0)

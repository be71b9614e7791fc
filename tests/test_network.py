"""The one network: its head as data, folded BatchNorm, recorded activations."""

from __future__ import annotations

import pytest
import torch

from spliceannot.engine.architecture import Architecture
from spliceannot.engine.model import Ensemble, SpliceAI


def seeded(architecture: Architecture, seed: int) -> SpliceAI:
    torch.manual_seed(seed)
    model = SpliceAI(architecture)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm1d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.normal_(1.0, 0.2)
                module.bias.normal_(0.0, 0.2)
    return model.eval()


def one_hot_batch(batch: int, length: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    codes = torch.randint(0, 4, (batch, length), generator=generator)
    return torch.nn.functional.one_hot(codes, 4).float().transpose(1, 2)


def test_a_head_with_other_outputs_is_an_architecture_value():
    """Same trunk, a 12-channel head: shapes follow the value, folding still agrees."""
    model = seeded(Architecture(flank=400, outputs=12), 1)
    x = one_hot_batch(2, 1_000, 2)
    with torch.inference_mode():
        logits = model(x)
        folded = model.folded()(x)
        probs = Ensemble([model, seeded(Architecture(flank=400, outputs=12), 3)])(x)
    assert logits.shape == (2, 12, 600)
    torch.testing.assert_close(folded, logits, atol=1e-4, rtol=1e-5)
    assert probs.shape == (2, 600, 12)
    torch.testing.assert_close(probs.sum(-1), torch.ones(2, 600))
    assert not any(unit.is_folded for unit in model.units)  # folded() leaves the model alone


def test_members_with_different_heads_are_not_one_ensemble():
    with pytest.raises(ValueError, match="head"):
        Ensemble([SpliceAI(Architecture(flank=80)), SpliceAI(Architecture(flank=80, outputs=12))])
    with pytest.raises(ValueError, match="head"):
        Architecture(head="sigmoid")


def test_recorded_activations_are_each_layer_of_the_forward_pass():
    architecture = Architecture(flank=400)
    model = seeded(architecture, 4).folded()
    x = one_hot_batch(1, 900, 5)
    layers: list[torch.Tensor] = []
    with torch.inference_mode():
        logits = model(x, activations=layers)
        again = model(x)
    assert len(layers) == len(architecture.units) + 1
    reach = 0
    for layer, radius in zip(layers, (0, *architecture.unit_radii())):
        reach += radius
        assert layer.shape == (1, 32, 900 - 2 * reach)
    assert torch.equal(logits, again)

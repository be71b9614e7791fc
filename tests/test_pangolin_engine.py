"""Pangolin's networks in our one network: weights, selected channels, cone = window.

The real-weight checks read Pangolin's twelve files from ../shared (GPL data,
never committed) and compare with ``tests/data/pangolin/raw_windows.npz``:
outputs of Pangolin's own PyTorch module (tkzeng/Pangolin 5cf94b8, written by
``benchmarks/pangolin_raw.py``) on a real chr16 window and a random one.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from spliceannot.engine import pangolin_files
from spliceannot.engine.architecture import PANGOLIN
from spliceannot.engine.files import model_family, model_files, peek_flank
from spliceannot.engine.model import Ensemble, SpliceAI
from spliceannot.engine.weights import convert_weights, load_model
from spliceannot.errors import ModelError

MODELS = Path(__file__).resolve().parents[2] / "shared" / "data" / "pangolin-models"
RAW = Path(__file__).parent / "data" / "pangolin" / "raw_windows.npz"
needs_weights = pytest.mark.skipif(not (MODELS / "final.1.0.3.v2").is_file(), reason="Pangolin weights not in ../shared")


@pytest.fixture(scope="module")
def pangolin():
    return load_model(str(MODELS))


def _one_hot(codes: np.ndarray) -> torch.Tensor:
    rows = np.vstack([np.zeros(4), np.eye(4)]).astype(np.float32)
    return torch.from_numpy(rows[codes].transpose(0, 2, 1).copy())


@needs_weights
def test_twelve_channels_of_every_network_match_pangolins_module(pangolin):
    raw = np.load(RAW)
    x = _one_hot(raw["codes"])
    expected = raw["outputs"]  # (window, network, channel, position)
    assert list(raw["names"]) == pangolin_files.file_names()
    worst = 0.0
    with torch.no_grad():
        for index, member in enumerate(pangolin.ensemble.members):
            for network in (member, member.folded()):
                ours = pangolin.ensemble.probabilities(network(x)).numpy()
                worst = max(worst, float(np.abs(ours - expected[:, index]).max()))
    assert worst < 1e-5


@needs_weights
def test_ensemble_output_is_each_networks_tissue_channel(pangolin):
    raw = np.load(RAW)
    with torch.no_grad():
        out = pangolin.ensemble(_one_hot(raw["codes"])).numpy()  # (window, position, network)
    assert pangolin.ensemble.select == (1, 1, 1, 4, 4, 4, 7, 7, 7, 10, 10, 10)
    expected = np.stack([raw["outputs"][:, i, c] for i, c in enumerate(pangolin.ensemble.select)], axis=-1)
    assert out.shape == (2, 100, 12)
    assert np.abs(out - expected).max() < 1e-5


@needs_weights
def test_cone_equals_whole_windows_for_selected_channels(pangolin):
    from spliceannot.engine.cone import ConeRunner, Substitution, TrackRequest

    codes = np.load(RAW)["codes"][0]
    tile = _one_hot(codes[None])[0].T.numpy()
    runner = ConeRunner(pangolin.ensemble, torch.device("cpu"))
    alt = np.zeros((2, 4), dtype=np.float32)
    alt[0, 2] = alt[1, 0] = 1  # REF 1 base -> CA
    start = 5050
    refs, alts = runner.run([tile], [TrackRequest(0, 5000, 100)], [Substitution(0, start, 1, alt, 5000, 101)])
    window = np.concatenate([tile[:start], alt, tile[start + 1 :]])
    with torch.no_grad():
        whole = pangolin.ensemble(torch.from_numpy(window.T.copy())[None]).numpy()[0]
        reference = pangolin.ensemble(torch.from_numpy(tile.T.copy())[None]).numpy()[0]
    assert refs[0].shape == (100, 12) and alts[0].shape == (101, 12)
    assert np.abs(alts[0] - whole).max() < 1e-5
    assert np.abs(refs[0] - reference).max() < 1e-5


@needs_weights
def test_files_found_in_order_and_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(pangolin_files.MODELS_ENV, str(MODELS))
    monkeypatch.setattr(pangolin_files, "installed_dir", lambda: None)
    paths = model_files("pangolin")
    assert [p.name for p in paths] == [f"final.{r}.{t}.3.v2" for t in (0, 2, 4, 6) for r in (1, 2, 3)]
    assert model_family("pangolin", paths) == "pangolin" and peek_flank("pangolin", paths) == 10000
    partial = tmp_path / "partial"
    partial.mkdir()
    for path in paths[:5]:
        shutil.copy(path, partial / path.name)
    with pytest.raises(ModelError, match=r"partial: not a complete Pangolin weight set: 7 of 12 files missing"):
        model_files(str(partial))


def test_no_weights_anywhere_is_one_line(monkeypatch):
    monkeypatch.delenv(pangolin_files.MODELS_ENV, raising=False)
    monkeypatch.setattr(pangolin_files, "installed_dir", lambda: None)
    with pytest.raises(ModelError, match="--pangolin-models DIR or \\$SPLICEANNOT_PANGOLIN_MODELS"):
        model_files("pangolin")


@needs_weights
def test_converted_checkpoint_keeps_the_selected_channels(pangolin, tmp_path):
    out = tmp_path / "pangolin.safetensors"
    convert_weights(str(MODELS), out)
    assert model_family(str(out), [out]) == "pangolin"
    again = load_model(str(out))
    assert again.ensemble.select == pangolin.ensemble.select
    assert again.ensemble.members[0].architecture == PANGOLIN
    x = torch.zeros(1, 4, 10010)
    x[0, 1] = 1
    with torch.no_grad():
        assert torch.equal(again.ensemble(x), pangolin.ensemble(x))


def test_select_is_checked_and_gathers_one_column_per_member():
    members = [SpliceAI(PANGOLIN).eval() for _ in range(2)]
    with pytest.raises(ValueError, match="one channel below 12 per member"):
        Ensemble(members, select=(1,))
    ensemble = Ensemble(members, select=(1, 10)).eval()
    x = torch.rand(1, 4, 10005)
    with torch.no_grad():
        out = ensemble(x)
        second = ensemble.probabilities(members[1](x))
    assert out.shape == (1, 5, 2)
    assert torch.equal(out[0, :, 1], second[0, 10])
    pairs = ensemble.probabilities(members[0](x))
    assert torch.allclose(pairs[:, 0] + pairs[:, 1], torch.ones(1, 5))

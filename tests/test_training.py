"""train_minima, load_minima, save_minimum."""

from __future__ import annotations

import pickle

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn

from topoloss.config import MinimaConfig
from topoloss.errors import Diverged, InputError, TopolossWarning
from topoloss.landscapes.model import ModelLandscape
from topoloss.minima.find import Minima
from topoloss.minima.options import TRAINING_DEFAULTS, TrainingOptions
from topoloss.minima.train import (
    TrainedMinima,
    learning_rate,
    load_minima,
    save_checkpoints,
    save_minimum,
    train_minima,
)

N, D, C = 128, 6, 3


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(D, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, C))


@pytest.fixture(scope="module")
def land():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(N, D, generator=g)
    y = ((x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()).clamp(max=C - 1)
    return ModelLandscape(mlp, (x, y), batch_size=32, test_data=(x[:40], y[:40]))


@pytest.fixture(scope="module")
def minima(land):
    return train_minima(land, seeds=[0, 1], epochs=2, progress=False)


class _Evil:
    """Unpickling this creates a file: stands for arbitrary code execution."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


# -------------------------------------------------------------------- schedules
def test_learning_rate_schedules():
    lr = 0.1
    assert learning_rate("constant", 0.7, lr=lr) == lr
    assert learning_rate("annealing", 0.3, lr=lr) == lr
    assert learning_rate("annealing", 0.7, lr=lr) == pytest.approx(lr - 0.5 * (lr - lr / 100))
    assert learning_rate("annealing", 0.95, lr=lr, lr_end=1e-4) == pytest.approx(1e-4)
    assert learning_rate("cosine", 0.0, lr=lr) == pytest.approx(lr)
    assert learning_rate("cosine", 1.0, lr=lr, lr_end=0.0) == pytest.approx(0.0)
    peaks = [learning_rate("cyclical", (k + 0.5) / 4, lr=lr, cycles=4) for k in range(4)]
    lows = [learning_rate("cyclical", k / 4, lr=lr, cycles=4) for k in range(5)]
    assert peaks == pytest.approx([lr] * 4) and lows == pytest.approx([lr / 100] * 5)
    with pytest.raises(ValueError, match="schedule"):
        learning_rate("step", 0.5, lr=lr)


# --------------------------------------------------------------------- training
@pytest.mark.parametrize(
    ("optimizer", "schedule"),
    [("sgd", "constant"), ("sgd", "annealing"), ("sgd", "cyclical"), ("sgd", "cosine"), ("adam", "constant")],
)
def test_train_minima_reduces_loss(land, optimizer, schedule):
    start = land.loss(land.initial_point(3)).item()
    got = train_minima(land, seeds=[3], epochs=3, optimizer=optimizer, schedule=schedule,
                       lr=0.01 if optimizer == "adam" else 0.1, progress=False)
    assert isinstance(got, Minima) and got.names == ("seed3",)
    assert got.losses[0] < 0.8 * start
    assert got.losses[0] == pytest.approx(land.loss(got.points[0]).item())
    assert got.n_steps[0] == 3 * land.batches_per_epoch


def test_train_minima_record(land, minima):
    assert isinstance(minima, TrainedMinima) and minima.points.shape == (2, land.dim)
    assert minima.names == ("seed0", "seed1")
    m = minima.metrics[1]
    assert set(m) == {"train_loss", "train_accuracy", "test_loss", "test_accuracy"}
    assert m["train_loss"] == minima.losses[1]
    assert m["test_loss"] == pytest.approx(land.metrics(minima.points[1], "test")["loss"])
    assert minima.subset(["seed1"]).metrics == (m,)
    back = TrainedMinima.from_dict(minima.to_dict(points=False), points=minima.points)
    assert back.metrics == minima.metrics and back.names == minima.names


def test_train_minima_is_reproducible_and_seeded(land, minima, capsys):
    again = train_minima(land, seeds=[1], epochs=2, progress=False)
    assert torch.equal(again.points[0], minima.points[1])
    assert not torch.equal(minima.points[0], minima.points[1])
    assert capsys.readouterr().err == ""  # progress=False is silent


def test_train_minima_init_and_errors(land):
    start = land.initial_point(9)
    from_tensor = train_minima(land, seeds=[5], epochs=1, init=start[None], progress=False)
    from_call = train_minima(land, seeds=[5], epochs=1, init=lambda s: start, progress=False)
    assert torch.equal(from_tensor.points, from_call.points)
    with pytest.raises(ValueError, match="optimizer"):
        train_minima(land, optimizer="lbfgs", progress=False)
    with pytest.raises(ValueError, match="epochs"):
        train_minima(land, epochs=0, progress=False)
    with pytest.raises(Diverged, match="seed 2 diverged"):
        train_minima(land, seeds=[2], epochs=2, lr=1e30, progress=False)


def test_target_loss_stops_at_the_first_epoch_that_reaches_it(land):
    per_epoch = land.batches_per_epoch
    # the exact training loss after each epoch of a plain 6-epoch run (constant lr: the run
    # stopped after k epochs is the plain run's first k epochs, step for step)
    plain = [train_minima(land, seeds=[4], epochs=k, lr=0.1, progress=False) for k in range(1, 7)]
    curve = [float(m.losses[0]) for m in plain]
    target = (curve[1] + curve[2]) / 2 if curve[2] < curve[1] else curve[2]
    first = next(k for k, value in enumerate(curve, 1) if value <= target)
    assert first < 6
    got = train_minima(land, seeds=[4], epochs=6, lr=0.1, target_loss=target, progress=False)
    assert torch.equal(got.points[0], plain[first - 1].points[0])
    assert got.losses[0] <= target and got.converged[0]
    assert got.n_steps[0] == first * per_epoch
    assert got.metrics[0]["epochs"] == first


def test_target_loss_not_reached_warns_and_keeps_the_capped_run(land):
    capped = train_minima(land, seeds=[0, 1], epochs=2, progress=False)
    with pytest.warns(TopolossWarning, match=r"seed [01] did not reach target_loss=0\.0 in 2 epochs"):
        got = train_minima(land, seeds=[0, 1], epochs=2, target_loss=0.0, progress=False)
    assert torch.equal(got.points, capped.points)
    assert not got.converged.any() and list(got.n_steps) == [2 * land.batches_per_epoch] * 2
    assert [m["epochs"] for m in got.metrics] == [2.0, 2.0]
    back = TrainedMinima.from_dict(got.to_dict(points=False), points=got.points)
    assert not back.converged.any() and back.metrics == got.metrics


def test_target_loss_option():
    assert "target_loss" not in MinimaConfig().training_options()  # old fingerprints unchanged
    assert MinimaConfig(target_loss=0.1).training_options()["target_loss"] == 0.1
    assert MinimaConfig.from_dict({"target_loss": 0.25}).target_loss == 0.25
    with pytest.raises(InputError, match=r"\[minima\] target_loss=-1"):
        MinimaConfig.from_dict({"target_loss": -1})


def test_training_options_are_the_configs():
    """minima owns the training options; MinimaConfig takes its defaults from them and builds them."""
    assert MinimaConfig().training() == TrainingOptions() == TRAINING_DEFAULTS
    cfg = MinimaConfig(seeds=[1], epochs=1, lr=0.1, target_loss=0.5, n_minima=5)
    assert cfg.training() == TrainingOptions(seeds=(1,), epochs=1, lr=0.1, target_loss=0.5)
    assert TrainingOptions(optimizer="adam").base_lr == 1e-3 and TrainingOptions(lr=0.2).base_lr == 0.2
    with pytest.raises(InputError, match=r"^epochs=0; expected an integer >= 1"):
        TrainingOptions().replace(epochs=0)


def test_train_minima_takes_options_or_config(land):
    cfg = MinimaConfig(seeds=[1], epochs=1, lr=0.1)
    by_config = train_minima(land, config=cfg, progress=False)
    by_options = train_minima(land, config=cfg.training(), progress=False)
    by_keywords = train_minima(land, seeds=[1], epochs=1, lr=0.1, progress=False)
    assert torch.equal(by_config.points, by_options.points)
    assert torch.equal(by_config.points, by_keywords.points)
    with pytest.raises(InputError, match=r"\[minima\] epochs=0"):  # the config names its section
        train_minima(land, config=cfg, epochs=0, progress=False)


# ------------------------------------------------------------------ checkpoints
def test_save_and_load_round_trip(land, minima, tmp_path):
    a, b = minima.points
    st = save_minimum(land, a, tmp_path / "a.safetensors")
    pt = save_minimum(land, b, tmp_path / "b.pt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.safetensors", "b.pt"]  # no temp left
    loaded = load_minima(land, [st, pt])
    assert loaded.names == ("a", "b")
    assert torch.equal(loaded.points, minima.points)
    assert loaded.losses.tolist() == minima.losses.tolist()
    # the written file is a complete state dict that plain torch evaluates correctly
    model = mlp()
    model.load_state_dict(torch.load(pt, weights_only=True))
    x, y = land.tensors()
    with torch.no_grad():
        plain = F.cross_entropy(model.eval()(x), y).item()
    assert plain == pytest.approx(minima.losses[1], rel=1e-5)
    paths = save_checkpoints(land, minima, tmp_path / "all")
    assert [p.name for p in paths] == ["seed0.safetensors", "seed1.safetensors"]


def test_load_wrapped_checkpoints(land, minima, tmp_path):
    state = mlp().state_dict()
    state.update(land.params(minima.points[0]))
    torch.save({"state_dict": state, "epoch": 3}, tmp_path / "w1.pt")
    torch.save({"model_state": state}, tmp_path / "w2.pt")
    torch.save({f"module.{k}": v for k, v in state.items()}, tmp_path / "w3.pt")
    got = load_minima(land, sorted(tmp_path.glob("*.pt")))
    for row in got.points:
        assert torch.equal(row, minima.points[0])


def test_load_errors_name_file_and_key(land, tmp_path):
    good = mlp().state_dict()
    bad = tmp_path / "bad.safetensors"
    save_file({**good, "3.weight": torch.zeros(C, 99)}, str(bad))
    with pytest.raises(ValueError, match=r"bad\.safetensors: parameter '3\.weight' has shape \(3, 99\), "
                                         r"the model expects \(3, 16\)"):
        load_minima(land, [bad])
    torch.save({**good, "1.running_mean": torch.zeros(4)}, tmp_path / "buf.pt")
    with pytest.raises(ValueError, match=r"buf\.pt: buffer '1\.running_mean' has shape \(4,\)"):
        load_minima(land, [tmp_path / "buf.pt"])
    missing = tmp_path / "missing.pt"
    torch.save({k: v for k, v in good.items() if k != "0.bias"}, missing)
    with pytest.raises(ValueError, match=r"missing\.pt: missing key '0\.bias'"):
        load_minima(land, missing)
    extra = tmp_path / "extra.pt"
    torch.save({**good, "head.weight": torch.zeros(1)}, extra)
    with pytest.raises(ValueError, match=r"extra\.pt: unexpected key 'head\.weight'"):
        load_minima(land, [extra])
    with pytest.raises(FileNotFoundError, match="nowhere.pt"):
        load_minima(land, [tmp_path / "nowhere.pt"])
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a file format")
    with pytest.raises(ValueError, match="junk.safetensors"):
        load_minima(land, [junk])


@pytest.mark.parametrize("writer", ["torch", "pickle"])
def test_malicious_pickle_is_refused_not_run(land, tmp_path, writer):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pt"
    payload = {"state_dict": _Evil(str(marker))}
    if writer == "torch":
        torch.save(payload, evil, _use_new_zipfile_serialization=True)
    else:
        with open(evil, "wb") as fh:
            pickle.dump(payload, fh, protocol=2)
    with pytest.raises(ValueError, match=r"evil\.pt: refusing to load") as info:
        load_minima(land, [evil])
    assert "\n" not in str(info.value)
    assert not marker.exists()
    # sanity: the payload really does act when unpickled without protection
    control = tmp_path / "control"
    pickle.loads(pickle.dumps(_Evil(str(control)))).close()
    assert control.exists()

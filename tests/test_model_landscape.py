"""ModelLandscape against independent plain-torch computations."""

from __future__ import annotations

import copy
import functools

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parameters_to_vector, vector_to_parameters
from torch.utils.data import Dataset, TensorDataset

from topoloss.errors import Diverged
from topoloss.landscapes.model import ModelLandscape

N, D, C = 192, 6, 3


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    # tiny tensors: thread start-up dominates, and the CI machine is shared
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(N, D, generator=g)
    y = ((x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()).clamp(max=C - 1)
    return x, y


def mlp(bn: bool = False) -> nn.Module:
    layers = [nn.Linear(D, 16)] + ([nn.BatchNorm1d(16)] if bn else []) + [nn.ReLU(), nn.Linear(16, C)]
    return nn.Sequential(*layers)


def with_point(factory, theta: torch.Tensor) -> nn.Module:
    model = factory()
    vector_to_parameters(theta.detach().clone(), model.parameters())
    return model


def recompute_bn(model: nn.Module, x: torch.Tensor, batches: list[torch.Tensor]) -> nn.Module:
    """Independent BatchNorm re-estimation: reset, momentum=None, train-mode pass, eval."""
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None
    model.train()
    with torch.no_grad():
        for idx in batches:
            model(x[idx])
    return model.eval()


def plain_loss(model: nn.Module, x, y) -> float:
    with torch.no_grad():
        return float(F.cross_entropy(model.eval()(x), y))


def trained(land: ModelLandscape, seed: int, steps: int = 40, lr: float = 0.1) -> torch.Tensor:
    theta = land.initial_point(seed).requires_grad_(True)
    opt = torch.optim.SGD([theta], lr=lr, momentum=0.9)
    stream = land.batches(generator=torch.Generator().manual_seed(seed))
    for _ in range(steps):
        opt.zero_grad()
        land.objective(theta, next(stream)).sum().backward()
        opt.step()
    return theta.detach()


# ------------------------------------------------------------------ plain model
def test_loss_matches_plain_torch(data):
    x, y = data
    land = ModelLandscape(mlp, (x, y), batch_size=32, eval_batch_size=50)
    pts = torch.stack([land.initial_point(1), land.initial_point(2)])
    got = land.loss(pts)
    assert got.shape == (2,) and got.dtype == torch.float64
    for k in range(2):
        want = plain_loss(with_point(mlp, pts[k]), x, y)
        assert got[k].item() == pytest.approx(want, rel=1e-6)
    # a single point is a batch of one, and evaluation is deterministic
    assert torch.equal(land.loss(pts[0]), got[:1])


def test_point_layout_and_views(data):
    land = ModelLandscape(mlp, data)
    model = mlp()
    assert land.dim == sum(p.numel() for p in model.parameters())
    assert land.names == tuple(n for n, _ in model.named_parameters())
    theta = parameters_to_vector(model.parameters())
    assert torch.equal(land.point_from_module(model), theta)
    params = land.params(theta)
    base = theta.untyped_storage().data_ptr()
    for (name, p), view in zip(model.named_parameters(), params.values()):
        assert view.shape == p.shape and torch.equal(view, p.detach())
        assert view.untyped_storage().data_ptr() == base, name  # a view, not a copy


def test_objective_gradient_matches_autograd(data):
    x, y = data
    for bn in (False, True):
        factory = functools.partial(mlp, bn)
        land = ModelLandscape(factory, (x, y), batch_size=32)
        theta = land.initial_point(3)
        batch = next(land.batches(generator=torch.Generator().manual_seed(5)))
        value, grad = land.loss_and_grad(theta, batch)
        model = with_point(factory, theta).train()
        loss = F.cross_entropy(model(batch[0]), batch[1])
        loss.backward()
        want = parameters_to_vector([p.grad for p in model.parameters()])
        assert value.item() == pytest.approx(loss.item(), rel=1e-6)
        torch.testing.assert_close(grad[0], want, rtol=1e-5, atol=1e-6)


def test_objective_batched_points_and_full_batch(data):
    x, y = data
    land = ModelLandscape(mlp, (x, y), batch_size=32)
    pts = torch.stack([land.initial_point(0), land.initial_point(1)])
    batch = next(land.batches())
    values = land.objective(pts, batch)
    assert values.shape == (2,)
    assert values[1].item() == pytest.approx(land.objective(pts[1], batch).item())
    # batch=None: the whole training set (train mode == eval mode without BN)
    assert land.objective(pts[:1]).item() == pytest.approx(land.loss(pts[0]).item(), rel=1e-5)


def test_module_passed_in_is_never_modified(data):
    x, y = data
    model = mlp(bn=True)
    before = copy.deepcopy(model.state_dict())
    land = ModelLandscape(model, (x, y), batch_size=32)
    theta = land.point_from_module(model).requires_grad_(True)
    for batch, _ in zip(land.batches(), range(3)):
        land.objective(theta, batch).sum().backward()
    first = land.loss(theta.detach())
    land.objective(theta, batch)  # scratch statistics change ...
    assert torch.equal(land.loss(theta.detach() + 0), first)  # ... exact loss does not
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert model[1].momentum == 0.1


def test_batches_are_reproducible_and_cover_an_epoch(data):
    land = ModelLandscape(mlp, data, batch_size=50)
    assert land.batches_per_epoch == N // 50
    s1 = land.batches(generator=torch.Generator().manual_seed(1))
    s2 = land.batches(generator=torch.Generator().manual_seed(1))
    epoch = [next(s1) for _ in range(land.batches_per_epoch)]
    for b in epoch:
        torch.testing.assert_close(b, next(s2))
        assert b[0].shape == (50, D)
    rows = torch.cat([b[0] for b in epoch])
    assert len(torch.unique(rows, dim=0)) == len(rows)  # no sample twice in an epoch
    assert not torch.equal(next(s1)[0], epoch[0][0])  # a new permutation next epoch


def test_metrics_and_dataset_inputs(data):
    x, y = data

    class Pairs(Dataset):
        def __len__(self):
            return 100

        def __getitem__(self, i):
            return x[i], y[i]

    land = ModelLandscape(mlp, TensorDataset(x, y), test_data=Pairs())
    theta = land.initial_point(4)
    model = with_point(mlp, theta).eval()
    with torch.no_grad():
        out = model(x)
        acc = (out.argmax(1) == y).double().mean().item()
        test_acc = (model(x[:100]).argmax(1) == y[:100]).double().mean().item()
    m = land.metrics(theta)
    assert m["accuracy"] == pytest.approx(acc)
    assert m["loss"] == pytest.approx(plain_loss(model, x, y), rel=1e-6)
    assert land.metrics(theta, "test")["accuracy"] == pytest.approx(test_acc)
    no_test = ModelLandscape(mlp, (x, y))
    with pytest.raises(ValueError, match="test_data"):
        no_test.metrics(theta, "test")
    with pytest.raises(ValueError, match="split"):
        land.metrics(theta, "val")


def test_flatten_unflatten_round_trip_and_frozen(data):
    x, y = data

    def frozen_first():
        model = mlp(bn=True)
        model[0].bias.requires_grad_(False)
        return model

    land = ModelLandscape(frozen_first, (x, y), batch_size=32)
    assert "0.bias" not in land.names and land.dim == sum(
        p.numel() for p in frozen_first().parameters() if p.requires_grad)
    theta = land.initial_point(7)
    state = land.unflatten(theta)
    fresh = frozen_first()
    fresh.load_state_dict(state)  # strict: every key, right shapes
    assert torch.equal(land.point_from_module(fresh), theta)
    assert plain_loss(fresh, x, y) == pytest.approx(land.loss(theta).item(), rel=1e-6)


def test_tied_weights_are_one_coordinate_block(data):
    x, y = data

    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Linear(D, D)
            self.dec = nn.Linear(D, D)
            self.dec.weight = self.enc.weight
            self.head = nn.Linear(D, C)

        def forward(self, z):
            return self.head(torch.relu(self.dec(torch.relu(self.enc(z)))))

    land = ModelLandscape(Tied, (x, y))
    assert land.dim == sum(p.numel() for p in Tied().parameters())  # counted once
    theta = land.initial_point(0)
    state = land.unflatten(theta)
    assert torch.equal(state["enc.weight"], state["dec.weight"])
    fresh = Tied()
    fresh.load_state_dict(state)
    assert plain_loss(fresh, x, y) == pytest.approx(land.loss(theta).item(), rel=1e-6)
    # the gradient of a shared weight sums both uses, as on a normal module
    _, grad = land.loss_and_grad(theta, (x, y))
    F.cross_entropy(fresh.train()(x), y).backward()
    want = parameters_to_vector([p.grad for p in fresh.parameters()])
    torch.testing.assert_close(grad[0], want, rtol=1e-5, atol=1e-6)


def test_validation_errors(data):
    x, y = data
    land = ModelLandscape(mlp, (x, y))
    with pytest.raises(ValueError, match=rf"shape \(batch, {land.dim}\)"):
        land.loss(torch.zeros(2, land.dim + 1))
    with pytest.raises(ValueError, match="NaN or infinite"):
        land.loss(torch.full((land.dim,), float("nan")))
    huge = land.initial_point(0) * 1e30
    with pytest.raises(Diverged, match=r"points\[1\].*not finite"):
        land.loss(torch.stack([land.initial_point(0), huge]))
    with pytest.raises(ValueError, match="cannot be applied to the data"):
        ModelLandscape(mlp, (torch.randn(10, D + 1), y[:10]))
    with pytest.raises(ValueError, match="same length"):
        ModelLandscape(mlp, (x, y[:-1]))
    with pytest.raises(ValueError, match="batch_size"):
        ModelLandscape(mlp, (x, y), batch_size=0)
    msg = r"ckpt: parameter '0.weight' has shape \(3, 3\), the model expects \(16, 6\)"
    with pytest.raises(ValueError, match=msg):
        land.flatten({**mlp().state_dict(), "0.weight": torch.zeros(3, 3)}, source="ckpt")


# ------------------------------------------------------------------- BatchNorm
@pytest.fixture(scope="module")
def bn_setup(data):
    x, y = data
    factory = functools.partial(mlp, bn=True)
    land = ModelLandscape(factory, (x, y), batch_size=32)
    a, b = trained(land, 0), trained(land, 1)
    return land, factory, a, b


def test_bn_path_endpoints_equal_minima_losses(bn_setup):
    land, _, a, b = bn_setup
    t = torch.linspace(0, 1, 5)[:, None]
    path = land.loss((1 - t) * a + t * b)
    assert path[0] == land.loss(a)[0] and path[-1] == land.loss(b)[0]


def test_bn_interior_loss_matches_independent_recompute(bn_setup, data):
    land, factory, a, b = bn_setup
    x, y = data
    mid = 0.5 * (a + b)
    # one batch of the whole set: independent of any sample order
    whole = ModelLandscape(factory, (x, y), batch_size=32, bn_batch_size=N)
    want = plain_loss(recompute_bn(with_point(factory, mid), x, [torch.arange(N)]), x, y)
    assert whole.loss(mid).item() == pytest.approx(want, rel=1e-5)
    # mini-batches of bn_batch_size in the documented order (randperm of `seed`)
    order = torch.randperm(N, generator=torch.Generator().manual_seed(land.seed))
    chunks = [order[i:i + 32] for i in range(0, N - 31, 32)]
    model = recompute_bn(with_point(factory, mid), x, chunks)
    want = plain_loss(model, x, y)
    assert land.loss(mid).item() == pytest.approx(want, rel=1e-5)
    # the file written at this point holds the same statistics
    state = land.unflatten(mid)
    torch.testing.assert_close(state["1.running_var"], model[1].running_var)
    # reusing an endpoint's statistics gives a different (wrong) loss
    stale = with_point(factory, mid)
    stale.load_state_dict({**land.unflatten(a), **land.params(mid)})
    assert abs(plain_loss(stale, x, y) - want) > 1e-3
    # and so does skipping the recompute
    fixed = ModelLandscape(factory, (x, y), batch_size=32, bn_recompute=False)
    assert abs(fixed.loss(mid).item() - want) > 1e-3


def test_bn_bezier_path_via_curves_and_connect(bn_setup):
    import topoloss.paths.curves as curves
    land, _, a, b = bn_setup
    curve = curves.Bezier(bends=1)
    noise = torch.randn(1, land.dim, generator=torch.Generator().manual_seed(0))
    bends = curve.init_bends(a, b) + 0.05 * noise
    pts = curve.at(a, b, bends, torch.linspace(0, 1, 7))
    losses = land.loss(pts)
    assert losses[0] == land.loss(a)[0] and losses[-1] == land.loss(b)[0]
    import topoloss.engine.pipeline as engine
    from topoloss.minima.find import as_minima
    minima = as_minima(land, torch.stack([a, b]))
    (path,) = engine.connect(land, minima, curve=curve, epochs=1, seed=0, progress=False,
                              n_eval=9, refine=0, linear=False)
    assert path.losses[0] == pytest.approx(float(minima.losses[0]), rel=1e-6)
    assert path.losses[-1] == pytest.approx(float(minima.losses[1]), rel=1e-6)
    assert path.barrier >= max(minima.losses) - 1e-6


def test_unusable_device_is_a_clear_error(data):
    with pytest.raises(ValueError, match="not a torch device"):
        ModelLandscape(lambda: torch.nn.Linear(4, 3), data, device="gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no usable CUDA"):
            ModelLandscape(lambda: torch.nn.Linear(4, 3), data, device="cuda")


def test_subsample_shares_the_model_and_its_train_eval_mode(bn_setup, data):
    """A subsample shares the network: whichever landscape used it last, the next call of the
    other still runs in its own mode (train for the objective, eval for the exact loss)."""
    land, factory, a, b = bn_setup
    x, y = data
    fresh = ModelLandscape(factory, (x, y), batch_size=32)  # never shares its network
    batch = (x[:32], y[:32])
    want_objective = fresh.objective(a, batch)
    want_loss = fresh.loss(b)
    sub = land.subsample(48, seed=1)
    assert sub.model is land.model
    land.objective(a, batch)  # the network in train mode
    sub.loss(a)  # leaves it in eval mode
    assert torch.equal(land.objective(a, batch), want_objective)  # train mode again
    land.prepare(a)  # BatchNorm recompute: train mode
    sub.objective(b, batch)
    sub.loss(b)
    assert torch.equal(land.loss(b), want_loss)  # recomputed in train mode, evaluated in eval mode

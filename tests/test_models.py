"""The model zoo: shapes, parameter counts, training steps, functional evaluation, registry."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call
from torch.nn.utils import parameters_to_vector

from topoloss.models import (
    _registry,
    available_models,
    cnn,
    fcn,
    get_model,
    gpt,
    paper_resnet,
    parse_model_spec,
    register_model,
    resnet,
    sequence_cross_entropy,
)


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# (builder, input batch, target batch): tiny sizes, batch 8.
def _image_case(build, channels=1, size=8, classes=10):
    torch.manual_seed(0)
    return build(), torch.randn(8, channels, size, size), torch.randint(0, classes, (8,))


CASES = {
    "fcn": lambda: (fcn(64, 10, depth=2, width=16), torch.randn(8, 64), torch.randint(0, 10, (8,))),
    "fcn-bn-tanh": lambda: (
        fcn(64, 10, depth=3, width=8, activation="tanh", batch_norm=True),
        torch.randn(8, 1, 8, 8),
        torch.randint(0, 10, (8,)),
    ),
    "cnn-1": lambda: _image_case(lambda: cnn(1, 4, in_channels=1, image_size=8)),
    "cnn-2-bn": lambda: _image_case(
        lambda: cnn(2, 4, in_channels=1, image_size=8, batch_norm=True)
    ),
    "cnn-3": lambda: _image_case(lambda: cnn(3, 4, in_channels=1, image_size=16), size=16),
    "resnet8": lambda: _image_case(lambda: resnet(8, in_channels=1), size=8),
    "resnet8-ns-nobn": lambda: _image_case(
        lambda: resnet(8, skip=False, in_channels=1, batch_norm=False), size=8
    ),
    "paper-resnet": lambda: _image_case(
        lambda: paper_resnet(in_channels=3, image_size=16), channels=3, size=16
    ),
    "paper-resnet-ns": lambda: _image_case(
        lambda: paper_resnet(in_channels=1, image_size=16, skip=False), size=16
    ),
    "gpt": lambda: (
        gpt(11, block_size=8, n_layer=1, n_head=2, n_embd=16),
        torch.randint(0, 11, (8, 8)),
        torch.randint(0, 11, (8, 8)),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_trains_a_few_sgd_steps(case: str) -> None:
    torch.manual_seed(1)
    model, x, y = CASES[case]()
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    losses = []
    for _ in range(3):
        opt.zero_grad()
        loss = sequence_cross_entropy(model(x), y)
        loss.backward()
        losses.append(loss.item())
        grads = [p.grad for p in model.parameters()]
        assert all(g is not None and torch.isfinite(g).all() for g in grads)
        assert sum(float(g.abs().sum()) for g in grads) > 0
        opt.step()
    assert all(torch.isfinite(torch.tensor(losses)))
    assert losses[-1] < losses[0], losses


@pytest.mark.parametrize("case", sorted(CASES))
def test_functional_call_on_a_flat_vector(case: str) -> None:
    model, x, _ = CASES[case]()
    model.eval()
    theta = parameters_to_vector(model.parameters()).detach() * 1.5
    names_shapes = [(n, p.shape) for n, p in model.named_parameters()]
    params, i = {}, 0
    for name, shape in names_shapes:
        k = shape.numel()
        params[name] = theta[i : i + k].view(shape)
        i += k
    out = functional_call(model, params, (x,))
    with torch.no_grad():
        for p, (name, _) in zip(model.parameters(), names_shapes):
            p.copy_(params[name])
        ref = model(x)
    torch.testing.assert_close(out, ref)
    assert not any(b.requires_grad for b in model.buffers())


def test_output_shapes_on_dataset_sizes() -> None:
    assert fcn(784, 10, depth=2, width=8)(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    assert cnn(2, 4, in_channels=1, image_size=28)(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    assert cnn(1, 4, num_classes=100)(torch.randn(2, 3, 32, 32)).shape == (2, 100)
    assert paper_resnet(num_classes=7)(torch.randn(2, 3, 32, 32)).shape == (2, 7)
    assert resnet(8, num_classes=3)(torch.randn(2, 3, 12, 12)).shape == (2, 3)


def test_parameter_counts_match_the_paper() -> None:
    # The paper: CNNs of "between 7K (Conv1-32) and 117K (Conv2-64) parameters".
    assert n_params(cnn(1, 32)) == 7562
    assert n_params(cnn(2, 64)) == 117578
    assert n_params(cnn(1, 32, batch_norm=True)) == 7562 + 64
    # The last layer has 16 C inputs on CIFAR, whatever the depth.
    assert all(cnn(k, 32)[-1].in_features == 16 * 32 for k in (1, 2, 3))
    assert n_params(fcn(64, 10, depth=3, width=16)) == 1754
    assert n_params(resnet(20)) == 272474  # "0.27M" in He et al.
    assert n_params(paper_resnet()) == 234058


def test_resnet_variants() -> None:
    with_skip, no_skip = resnet(8), resnet(8, skip=False)
    assert n_params(no_skip) < n_params(with_skip)  # no projection shortcuts
    assert not any("shortcut" in n for n, _ in no_skip.named_parameters())
    wide = resnet(8, width=2)
    assert wide.fc.in_features == 128
    assert not any(isinstance(m, nn.BatchNorm2d) for m in resnet(8, batch_norm=False).modules())
    assert n_params(paper_resnet(skip=False)) == n_params(paper_resnet())


def test_gpt_is_causal() -> None:
    torch.manual_seed(0)
    net = gpt(7, block_size=6, n_layer=2, n_head=2, n_embd=8).eval()
    x = torch.randint(0, 7, (1, 6))
    x2 = x.clone()
    x2[0, 4] = (x[0, 4] + 1) % 7
    a, b = net(x), net(x2)
    torch.testing.assert_close(a[:, :4], b[:, :4])
    assert not torch.allclose(a[:, 4:], b[:, 4:])
    assert net(x[:, :3]).shape == (1, 3, 7)
    with pytest.raises(ValueError, match="block_size"):
        net(torch.zeros(1, 7, dtype=torch.long))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: fcn(64, 10, depth=-1), "depth"),
        (lambda: fcn(64, 10, width=0), "width"),
        (lambda: fcn(64, 10, width=2.5), "width"),
        (lambda: fcn(64, 10, activation="swish"), "swish"),
        (lambda: cnn(4, 8), "n_layers"),
        (lambda: cnn(1, 8, image_size=4), "image_size"),
        (lambda: resnet(21), "depth=21"),
        (lambda: resnet(2), "depth"),
        (lambda: paper_resnet(image_size=8), "image_size"),
        (lambda: gpt(10, n_embd=10, n_head=3), "n_embd"),
    ],
)
def test_builders_validate(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


def test_parse_model_spec() -> None:
    assert parse_model_spec("fcn:depth=3,width=32") == ("fcn", {"depth": 3, "width": 32})
    assert parse_model_spec(" FCN : depth = 3 , activation=tanh, batch_norm=true ") == (
        "fcn",
        {"depth": 3, "activation": "tanh", "batch_norm": True},
    )
    assert parse_model_spec("cnn") == ("cnn", {})
    assert parse_model_spec("CNN-2-64") == (
        "cnn",
        {"n_layers": 2, "channels": 64, "batch_norm": False},
    )
    assert parse_model_spec("cnn-1-32-bn")[1]["batch_norm"] is True
    assert parse_model_spec("ResNet-56-NS") == ("resnet", {"depth": 56, "skip": False})
    assert parse_model_spec("WideResNet-56-2:batch_norm=false") == (
        "resnet",
        {"depth": 56, "width": 2, "skip": True, "batch_norm": False},
    )
    assert set(available_models()) == {"cnn", "fcn", "gpt", "paper-resnet", "resnet"}


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ("mlp:depth=3", r"unknown model 'mlp'.*cnn, fcn, gpt, paper-resnet, resnet"),
        ("fcn:depht=3", r"depht.*accepts.*depth"),
        ("fcn:depth", "key=value"),
        ("fcn:depth=1,depth=2", "twice"),
        ("resnet-20:depth=56", "both"),
        ("", "non-empty"),
    ],
)
def test_parse_model_spec_errors(spec: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        parse_model_spec(spec)


def test_get_model_sizes_to_a_dataset() -> None:
    net = get_model("fcn:depth=1,width=8", input_shape=(1, 8, 8), num_classes=10)
    assert net[1].in_features == 64 and net[-1].out_features == 10
    net = get_model("cnn-2-4", input_shape=(1, 8, 8), num_classes=3)
    assert net(torch.randn(2, 1, 8, 8)).shape == (2, 3)
    net = get_model("resnet-8-ns", input_shape=(1, 8, 8), num_classes=3, width=1)
    assert net(torch.randn(2, 1, 8, 8)).shape == (2, 3)
    net = get_model("gpt:n_layer=1,n_embd=8", input_shape=(5,), num_classes=9)
    assert net(torch.zeros(2, 5, dtype=torch.long)).shape == (2, 5, 9)
    net = get_model("fcn", in_features=4, num_classes=2, depth=0)  # num_classes passed on
    assert isinstance(net[-1], nn.Linear) and net[-1].out_features == 2
    # keyword arguments override the spec
    assert get_model("fcn:width=8", in_features=4, num_classes=2, width=5)[1].out_features == 5


def test_get_model_errors() -> None:
    with pytest.raises(ValueError, match=r"needs \['in_features', 'num_classes'\]"):
        get_model("fcn")
    with pytest.raises(ValueError, match="square"):
        get_model("cnn", input_shape=(1, 8, 9), num_classes=2)
    with pytest.raises(ValueError, match="contradicts"):
        get_model("cnn:in_channels=3", input_shape=(1, 8, 8), num_classes=2)
    with pytest.raises(ValueError, match="num_classes"):
        get_model("cnn", input_shape=(1, 8, 8))
    with pytest.raises(ValueError, match="takes no argument"):
        get_model("gpt", vocab_size=5, num_classes=5)


def test_register_model() -> None:
    def tiny(in_features: int, num_classes: int, *, hidden: int = 3) -> nn.Module:
        return nn.Sequential(nn.Linear(in_features, hidden), nn.Linear(hidden, num_classes))

    name = "tiny-test-model"
    register_model(name, tiny, adapter=lambda shape, k: {"in_features": shape[0], "num_classes": k})
    try:
        assert name in available_models()
        net = get_model(f"{name}:hidden=4", input_shape=(6,), num_classes=2)
        assert net(torch.randn(1, 6)).shape == (1, 2)
        with pytest.raises(ValueError, match="already registered"):
            register_model(name, tiny)
        with pytest.raises(ValueError, match="name="):
            register_model("Bad:name", tiny)
    finally:
        _registry.MODELS.unregister(name)


def test_sequence_cross_entropy_matches_plain_cross_entropy() -> None:
    logits, y = torch.randn(4, 3, 5), torch.randint(0, 5, (4, 3))
    ref = F.cross_entropy(logits.transpose(1, 2), y)
    torch.testing.assert_close(sequence_cross_entropy(logits, y), ref)
    torch.testing.assert_close(
        sequence_cross_entropy(logits[:, 0], y[:, 0]), F.cross_entropy(logits[:, 0], y[:, 0])
    )

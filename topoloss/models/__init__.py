"""The model zoo of the paper's experiments, and loss-preserving embeddings.

Builders return plain :class:`torch.nn.Module` s whose forward passes keep no state,
so they can be evaluated with :func:`torch.func.functional_call` on a flat parameter
vector:

* :func:`fcn` -- fully connected nets (§4.1);
* :func:`cnn` -- CNN-1-C, CNN-2-C, CNN-3-C, optionally with BatchNorm (§4.2);
* :func:`paper_resnet` -- the ResNet-like net of the paper's Table 5 (§5);
* :func:`resnet` -- CIFAR ResNet-N, "-NS" without skips, WideResNet-N-k (§6);
* :func:`gpt` -- a small character-level transformer (§7).

:func:`get_model` builds any of them from a spec such as ``"fcn:depth=3,width=32"``
or a paper name such as ``"CNN-2-64"``; :func:`register_model` adds your own builders
to the registry :data:`MODELS` that the CLI and ``docs/registries.md`` list.
:func:`widen`, :func:`deepen` and :func:`embed_params` embed a network into a wider or
deeper one without changing its outputs (SPEC §9).
"""

from topoloss.models._registry import (
    MODELS,
    ModelEntry,
    SizeAdapter,
    available_models,
    get_model,
    parse_model_spec,
    register_model,
)
from topoloss.models.cnn import cnn
from topoloss.models.expand import deepen, embed_params, widen
from topoloss.models.fcn import fcn
from topoloss.models.gpt import GPT, gpt, sequence_cross_entropy
from topoloss.models.resnet import paper_resnet, resnet

__all__ = [
    "GPT",
    "MODELS",
    "ModelEntry",
    "SizeAdapter",
    "available_models",
    "cnn",
    "deepen",
    "embed_params",
    "fcn",
    "get_model",
    "gpt",
    "paper_resnet",
    "parse_model_spec",
    "register_model",
    "resnet",
    "sequence_cross_entropy",
    "widen",
]

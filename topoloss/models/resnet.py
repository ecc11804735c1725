"""Residual networks: the paper's Table 5 net and CIFAR-style ResNet-N (§5, §6).

Both come with and without skip connections (``skip=False`` gives the paper's "-NS",
"VGG-like" variants) and with a width factor (``WideResNet-N-k`` is ``width=k``).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import Tensor, nn

from topoloss.errors import InputError
from topoloss.models._common import check_positive_int

__all__ = ["BasicBlock", "PaperBlock", "paper_resnet", "resnet"]


def _conv3x3(c_in: int, c_out: int, *, stride: int = 1, bias: bool = True) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, kernel_size=3, stride=stride, padding=1, bias=bias)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with an optional shortcut, as in CIFAR ResNets.

    ``out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``; the shortcut is
    the identity, or ``1x1 conv + BN`` when the shape changes (option B of He et
    al.). With ``skip=False`` there is no shortcut term at all.

    Parameters
    ----------
    c_in : int
        Input channels.
    c_out : int
        Output channels.
    stride : int, default=1
        Stride of the first convolution (2 at the start of a stage).
    skip : bool, default=True
        Add the shortcut.
    batch_norm : bool, default=True
        Use BatchNorm after each convolution (the convolutions then have no bias).
    """

    def __init__(
        self, c_in: int, c_out: int, *, stride: int = 1, skip: bool = True, batch_norm: bool = True
    ) -> None:
        super().__init__()
        norm = nn.BatchNorm2d if batch_norm else (lambda _c: nn.Identity())
        self.conv1 = _conv3x3(c_in, c_out, stride=stride, bias=not batch_norm)
        self.bn1 = norm(c_out)
        self.conv2 = _conv3x3(c_out, c_out, bias=not batch_norm)
        self.bn2 = norm(c_out)
        self.skip = skip
        self.shortcut: nn.Module | None = None
        if skip and (stride != 1 or c_in != c_out):
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, kernel_size=1, stride=stride, bias=not batch_norm),
                norm(c_out),
            )

    def forward(self, x: Tensor) -> Tensor:
        """Apply the block to ``x`` of shape ``(B, c_in, H, W)``."""
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.skip:
            out = out + (x if self.shortcut is None else self.shortcut(x))
        return torch.relu(out)


def resnet(
    depth: int = 20,
    *,
    skip: bool = True,
    width: int = 1,
    in_channels: int = 3,
    num_classes: int = 10,
    batch_norm: bool = True,
) -> nn.Sequential:
    """Build a CIFAR-style ResNet-``depth`` (He et al. 2016, as used in the paper's §6).

    ``depth = 6 n + 2``: a 3x3 stem convolution with ``16 width`` channels, three
    stages of ``n`` :class:`BasicBlock` s with ``16, 32, 64`` (times ``width``)
    channels, the last two stages starting with stride 2, global average pooling
    and a linear classifier. ResNet-20/56/110 have ``n = 3, 9, 18``; ResNet-8 is the
    smallest (``n = 1``). ``skip=False`` removes every shortcut ("ResNet-N-NS"),
    ``width=k`` gives "WideResNet-N-k". Works on any image size (global pooling).

    Parameters
    ----------
    depth : int, default=20
        Number of weighted layers, ``6 n + 2`` with ``n >= 1`` (8, 14, 20, 56, 110, ...).
    skip : bool, default=True
        Use shortcut connections.
    width : int, default=1
        Channel multiplier.
    in_channels : int, default=3
        Input channels.
    num_classes : int, default=10
        Number of outputs.
    batch_norm : bool, default=True
        Use BatchNorm after every convolution.

    Returns
    -------
    torch.nn.Sequential
        Modules ``stem``, ``stage1``..``stage3``, ``pool``, ``flatten``, ``fc``;
        input ``(B, in_channels, H, W)``, output ``(B, num_classes)``.

    Examples
    --------
    >>> sum(p.numel() for p in resnet(20).parameters())
    272474
    """
    depth = check_positive_int(depth, "depth", minimum=8)
    if (depth - 2) % 6:
        raise InputError(f"depth must be 6 n + 2 (8, 14, 20, 56, 110, ...), got {depth=}")
    width = check_positive_int(width, "width")
    in_channels = check_positive_int(in_channels, "in_channels")
    num_classes = check_positive_int(num_classes, "num_classes")
    n = (depth - 2) // 6
    widths = [16 * width, 32 * width, 64 * width]

    stem: list[nn.Module] = [_conv3x3(in_channels, widths[0], bias=not batch_norm)]
    if batch_norm:
        stem.append(nn.BatchNorm2d(widths[0]))
    stem.append(nn.ReLU())
    modules: dict[str, nn.Module] = {"stem": nn.Sequential(*stem)}
    c_in = widths[0]
    for i, c_out in enumerate(widths):
        blocks = [
            BasicBlock(
                c_in if j == 0 else c_out,
                c_out,
                stride=2 if (i > 0 and j == 0) else 1,
                skip=skip,
                batch_norm=batch_norm,
            )
            for j in range(n)
        ]
        modules[f"stage{i + 1}"] = nn.Sequential(*blocks)
        c_in = c_out
    modules["pool"] = nn.AdaptiveAvgPool2d(1)
    modules["flatten"] = nn.Flatten()
    modules["fc"] = nn.Linear(widths[-1], num_classes)
    return nn.Sequential(OrderedDict(modules))


class PaperBlock(nn.Module):
    """The residual unit of the paper's Table 5: ``conv, relu, conv (+ x)``.

    Parameters
    ----------
    channels : int
        Input and output channels.
    skip : bool, default=True
        Add the input to the output.
    """

    def __init__(self, channels: int, *, skip: bool = True) -> None:
        super().__init__()
        self.conv1 = _conv3x3(channels, channels)
        self.conv2 = _conv3x3(channels, channels)
        self.skip = skip

    def forward(self, x: Tensor) -> Tensor:
        """Apply the unit to ``x`` of shape ``(B, channels, H, W)``."""
        out = self.conv2(torch.relu(self.conv1(x)))
        return out + x if self.skip else out


def paper_resnet(
    *,
    in_channels: int = 3,
    num_classes: int = 10,
    image_size: int = 32,
    skip: bool = True,
    width: int = 1,
) -> nn.Sequential:
    """Build the ResNet-like network of the paper's Table 5 (used in its §5).

    Four stages of ``16, 32, 64, 64`` (times ``width``) channels; each stage is a
    3x3 convolution + ReLU followed by a :class:`PaperBlock`
    ``conv, ReLU, conv (+ skip)``; stages 2-4 start with a 2x2 max-pooling. The head
    is ``MaxPool 2x2, BatchNorm2d, Flatten, Linear``. All convolutions have padding 1,
    so the classifier sees ``64 width`` channels of ``image_size // 16`` squared
    pixels. On CIFAR-10 this has 234k parameters; the paper quotes 195k, but the size
    of its last layer was lost in the text, so this follows the table.

    Parameters
    ----------
    in_channels : int, default=3
        Input channels.
    num_classes : int, default=10
        Number of outputs.
    image_size : int, default=32
        Height (= width) of the input images, ``>= 16``.
    skip : bool, default=True
        Use the residual connections (``False``: the "-NS" variant).
    width : int, default=1
        Channel multiplier.

    Returns
    -------
    torch.nn.Sequential
        Input ``(B, in_channels, image_size, image_size)``, output ``(B, num_classes)``.
    """
    in_channels = check_positive_int(in_channels, "in_channels")
    num_classes = check_positive_int(num_classes, "num_classes")
    image_size = check_positive_int(image_size, "image_size")
    if image_size < 16:
        raise InputError(f"image_size must be >= 16 (the net pools 4 times), got {image_size=}")
    width = check_positive_int(width, "width")
    widths = [16 * width, 32 * width, 64 * width, 64 * width]

    modules: dict[str, nn.Module] = {}
    c_in = in_channels
    for i, c_out in enumerate(widths):
        stage: list[nn.Module] = [] if i == 0 else [nn.MaxPool2d(2)]
        stage += [_conv3x3(c_in, c_out), nn.ReLU(), PaperBlock(c_out, skip=skip)]
        modules[f"stage{i + 1}"] = nn.Sequential(*stage)
        c_in = c_out
    side = image_size // 16
    modules["head"] = nn.Sequential(
        nn.MaxPool2d(2),
        nn.BatchNorm2d(c_in),
        nn.Flatten(),
        nn.Linear(c_in * side * side, num_classes),
    )
    return nn.Sequential(OrderedDict(modules))

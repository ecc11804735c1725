"""A user's module for tests/test_ray_executor.py: a tiny MLP and a full-batch data set
(imported through the ``module:attr`` spec, on the driver and in the Ray workers)."""

import torch
from torch import nn


def model():
    return nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3))


def data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(60, 5, generator=g)
    return torch.utils.data.TensorDataset(x, (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long())

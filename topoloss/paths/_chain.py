"""The chain with insertion for a *group* of chains stored as one flat tensor.

Private machinery behind :meth:`topoloss.Chain.project` and :meth:`topoloss.Chain.insert`
(which are the one-chain case) and behind :func:`topoloss.connect`, which optimizes
many chains at once: ``J`` chains with different numbers of movable points share one
``(N, P)`` tensor, so one optimizer and one ``landscape.objective`` call serve them all.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Protocol

import torch

__all__ = ["ChainGroup", "ChainOptions", "insert_group", "project_group"]


class ChainOptions(Protocol):
    """The options of a chain these functions read (:class:`topoloss.Chain` has them).

    A protocol rather than the class itself, so that this module imports nothing of the
    curve families (:mod:`topoloss.paths.chain` imports it, one way).
    """

    @property
    def spring(self) -> float: ...
    @property
    def climbing(self) -> bool: ...
    @property
    def insert_count(self) -> int: ...
    @property
    def max_points(self) -> int: ...
    @property
    def probes(self) -> int: ...
    @property
    def stretch(self) -> float: ...


class ChainGroup:
    """Index bookkeeping for ``J`` chains stored as one flat ``(N, P)`` tensor.

    Chain ``j`` has ``sizes[j]`` movable points; :meth:`full` interleaves them with the
    endpoints into ``F`` of shape ``(N + 2J, P)``: ``[a_0, x.., b_0, a_1, x.., b_1, ...]``.
    """

    def __init__(self, sizes: list[int], device: torch.device) -> None:
        self.sizes = [int(k) for k in sizes]
        k = torch.tensor(self.sizes, dtype=torch.long)
        starts = torch.cumsum(k + 2, 0) - (k + 2)  # row of a_j in F
        self.n_rows = int((k + 2).sum())
        self.a_pos = starts.to(device)
        self.b_pos = (starts + k + 1).to(device)
        self.job = torch.repeat_interleave(torch.arange(len(sizes)), k).to(device)
        x_start = torch.cumsum(k, 0) - k  # first row of chain j in x
        self.x_start = x_start.to(device)
        self.local = (torch.arange(int(k.sum())) - torch.repeat_interleave(x_start, k)).to(device)
        self.pos = starts.to(device)[self.job] + 1 + self.local
        to_x = torch.full((self.n_rows,), -1, dtype=torch.long, device=device)
        to_x[self.pos] = torch.arange(self.pos.numel(), device=device)
        self.to_x = to_x  # F row -> x row (-1 for endpoints)
        is_b = torch.zeros(self.n_rows, dtype=torch.bool, device=device)
        is_b[self.b_pos] = True
        self.seg = torch.nonzero(~is_b).reshape(-1)  # first F row of every segment
        self.seg_job = torch.repeat_interleave(torch.arange(len(sizes)), k + 1).to(device)

    def full(self, a: torch.Tensor, b: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        F = x.new_empty(self.n_rows, x.shape[-1])
        F[self.a_pos] = a.to(x.dtype)
        F[self.b_pos] = b.to(x.dtype)
        F[self.pos] = x
        return F

    def tangents(self, F: torch.Tensor) -> torch.Tensor:
        tau = F[self.pos + 1] - F[self.pos - 1]
        return tau / tau.norm(dim=1, keepdim=True).clamp_min(torch.finfo(tau.dtype).tiny)


def project_group(
    curve: ChainOptions,
    group: ChainGroup,
    a: torch.Tensor,
    b: torch.Tensor,
    x: torch.Tensor,
    grad: torch.Tensor,
    losses: torch.Tensor | None,
) -> torch.Tensor:
    """:meth:`Chain.project` for every chain of a group at once."""
    if grad.shape != x.shape:
        raise ValueError(f"grad has shape {tuple(grad.shape)}, expected {tuple(x.shape)}")
    with torch.no_grad():
        F = group.full(a, b, x.detach())
        tau = group.tangents(F)
        along = (grad * tau).sum(dim=1, keepdim=True)
        out = grad - along * tau
        if curve.spring > 0:
            nxt = (F[group.pos + 1] - F[group.pos]).norm(dim=1)
            prev = (F[group.pos] - F[group.pos - 1]).norm(dim=1)
            out = out - curve.spring * (nxt - prev).unsqueeze(1) * tau
        if curve.climbing and x.shape[0] > 0:
            if losses is None:
                raise ValueError("climbing=True needs the losses at the movable points")
            pad = losses.new_full((len(group.sizes), max(group.sizes)), -math.inf)
            pad[group.job, group.local] = losses.to(pad.dtype)
            top = group.x_start + pad.argmax(dim=1)
            out[top] = grad[top] - 2 * along[top] * tau[top]
    return out


def insert_group(
    curve: ChainOptions,
    group: ChainGroup,
    a: torch.Tensor,
    b: torch.Tensor,
    x: torch.Tensor,
    loss: Callable[[torch.Tensor], torch.Tensor],
) -> tuple[torch.Tensor, ChainGroup, torch.Tensor]:
    """:meth:`Chain.insert` for every chain of a group, with one call of ``loss``.

    Returns the new flat points, their group, and for every new row the two old rows
    it derives from (``(i, i)`` for a kept row, the old movable neighbours of a new
    point, ``-1`` for an endpoint) so that optimizer state can be carried over.
    """
    x = x.detach()
    keep_all = (x, group, torch.arange(x.shape[0], device=x.device).unsqueeze(1).repeat(1, 2))
    rooms = [min(curve.insert_count, curve.max_points - k) for k in group.sizes]
    if max(rooms) <= 0:
        return keep_all
    with torch.no_grad():
        F = group.full(a, b, x)
        lo, hi = F[group.seg], F[group.seg + 1]
        s = torch.arange(1, curve.probes + 1, dtype=x.dtype, device=x.device) / (curve.probes + 1)
        probes = torch.lerp(lo.unsqueeze(1), hi.unsqueeze(1), s[None, :, None])
        values = loss(torch.cat([F, probes.reshape(-1, F.shape[1])])).reshape(-1)
        vertex = values[: group.n_rows]
        probe = values[group.n_rows :].reshape(-1, curve.probes)
        best, where = probe.max(dim=1)
        bulge = best > torch.maximum(vertex[group.seg], vertex[group.seg + 1])
        length = (hi - lo).norm(dim=1)
        n_chains = len(group.sizes)
        mean = torch.zeros(n_chains, dtype=length.dtype, device=length.device)
        mean = mean.index_add(0, group.seg_job, length) / torch.tensor(
            [k + 1 for k in group.sizes], dtype=length.dtype, device=length.device
        )
        long = length > curve.stretch * mean[group.seg_job]
        best_np = best.cpu().numpy()
        cand_np = (bulge | long).cpu().numpy()
        bulge_np = bulge.cpu().numpy()
    seg_job = group.seg_job.cpu().numpy()
    to_x = group.to_x.cpu().numpy()
    seg_rows = group.seg.cpu().numpy()
    chosen: set[int] = set()
    for j, room in enumerate(rooms):
        segs = [int(g) for g in (seg_job == j).nonzero()[0] if cand_np[g]]
        segs.sort(key=lambda g: (-float(best_np[g]), g))
        chosen.update(segs[: max(room, 0)])
    if not chosen:
        return keep_all
    # walk the segments in order: each is followed by its end row (a movable point or b)
    rows: list[torch.Tensor] = []
    src: list[tuple[int, int]] = []
    sizes = [0] * n_chains
    with torch.no_grad():
        for g, f_row in enumerate(seg_rows):
            j = int(seg_job[g])
            if g in chosen:
                frac = s[where[g]] if bulge_np[g] else s.new_tensor(0.5)
                rows.append(torch.lerp(F[f_row], F[f_row + 1], frac).unsqueeze(0))
                src.append((int(to_x[f_row]), int(to_x[f_row + 1])))
                sizes[j] += 1
            nxt = int(to_x[f_row + 1])
            if nxt >= 0:
                rows.append(x[nxt].unsqueeze(0))
                src.append((nxt, nxt))
                sizes[j] += 1
        new_x = torch.cat(rows).contiguous()
    return new_x, ChainGroup(sizes, x.device), torch.tensor(src, dtype=torch.long, device=x.device)

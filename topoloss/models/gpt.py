"""A small character-level GPT (decoder-only transformer), for the paper's §7 finding.

Pre-norm blocks ``x + attn(ln(x))``, ``x + mlp(ln(x))`` with causal multi-head
self-attention, learned token and position embeddings, no dropout (landscapes are
evaluated deterministically) and no weight tying (every coordinate of ``θ`` is one
parameter).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from topoloss.errors import InputError
from topoloss.models._common import check_positive_int

__all__ = ["GPT", "CausalSelfAttention", "gpt", "sequence_cross_entropy"]


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention in which position ``t`` sees positions ``<= t``.

    The causal mask is rebuilt from the input length on each call, so the module
    holds no state besides its two linear maps.

    Parameters
    ----------
    n_embd : int
        Embedding size, divisible by ``n_head``.
    n_head : int
        Number of heads.
    """

    def __init__(self, n_embd: int, n_head: int) -> None:
        super().__init__()
        self.n_head = n_head
        self.qkv = nn.Linear(n_embd, 3 * n_embd)
        self.proj = nn.Linear(n_embd, n_embd)

    def forward(self, x: Tensor) -> Tensor:
        """Attend over ``x`` of shape ``(B, T, n_embd)``; returns the same shape."""
        b, t, c = x.shape
        q, k, v = self.qkv(x).split(c, dim=2)
        # (B, T, C) -> (B, heads, T, C / heads)
        q, k, v = (z.view(b, t, self.n_head, c // self.n_head).transpose(1, 2) for z in (q, k, v))
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(c // self.n_head)
        future = torch.ones(t, t, dtype=torch.bool, device=x.device).triu(diagonal=1)
        scores = scores.masked_fill(future, float("-inf"))
        out = torch.softmax(scores, dim=-1) @ v
        return self.proj(out.transpose(1, 2).reshape(b, t, c))


class _Block(nn.Module):
    def __init__(self, n_embd: int, n_head: int) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(n_embd)
        self.attn = CausalSelfAttention(n_embd, n_head)
        self.ln2 = nn.LayerNorm(n_embd)
        self.mlp = nn.Sequential(
            nn.Linear(n_embd, 4 * n_embd), nn.GELU(), nn.Linear(4 * n_embd, n_embd)
        )

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    """Character-level decoder-only transformer; build it with :func:`gpt`.

    Parameters
    ----------
    vocab_size : int
        Number of distinct tokens.
    block_size : int
        Longest input sequence (number of learned positions).
    n_layer : int
        Number of transformer blocks.
    n_head : int
        Attention heads per block.
    n_embd : int
        Embedding size, divisible by ``n_head``.
    """

    def __init__(
        self, vocab_size: int, block_size: int, n_layer: int, n_head: int, n_embd: int
    ) -> None:
        super().__init__()
        self.block_size = block_size
        self.tok_emb = nn.Embedding(vocab_size, n_embd)
        self.pos_emb = nn.Embedding(block_size, n_embd)
        self.blocks = nn.Sequential(*(_Block(n_embd, n_head) for _ in range(n_layer)))
        self.ln_f = nn.LayerNorm(n_embd)
        self.head = nn.Linear(n_embd, vocab_size)
        for name, p in self.named_parameters():
            if p.dim() >= 2:
                nn.init.normal_(p, mean=0.0, std=0.02)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def forward(self, idx: Tensor) -> Tensor:
        """Return next-token logits ``(B, T, vocab_size)`` for token ids ``(B, T)``."""
        t = idx.shape[-1]
        if t > self.block_size:
            raise InputError(f"sequence length {t} exceeds block_size={self.block_size}")
        pos = torch.arange(t, device=idx.device)
        x = self.tok_emb(idx) + self.pos_emb(pos)
        return self.head(self.ln_f(self.blocks(x)))


def gpt(
    vocab_size: int,
    *,
    block_size: int = 32,
    n_layer: int = 2,
    n_head: int = 2,
    n_embd: int = 32,
) -> GPT:
    """Build a small character-level GPT that outputs logits ``(B, T, vocab_size)``.

    Train it with :func:`sequence_cross_entropy` on the windows of
    :func:`topoloss.data.text_corpus`.

    Parameters
    ----------
    vocab_size : int
        Number of distinct characters.
    block_size : int, default=32
        Context length.
    n_layer : int, default=2
        Number of transformer blocks.
    n_head : int, default=2
        Attention heads.
    n_embd : int, default=32
        Embedding size; must be divisible by ``n_head``.

    Returns
    -------
    GPT
        The model, input ``(B, T)`` int64 with ``T <= block_size``.

    Examples
    --------
    >>> import torch
    >>> net = gpt(20, block_size=8, n_layer=1, n_head=2, n_embd=16)
    >>> net(torch.zeros(3, 8, dtype=torch.long)).shape
    torch.Size([3, 8, 20])
    """
    vocab_size = check_positive_int(vocab_size, "vocab_size")
    block_size = check_positive_int(block_size, "block_size")
    n_layer = check_positive_int(n_layer, "n_layer", minimum=0)
    n_head = check_positive_int(n_head, "n_head")
    n_embd = check_positive_int(n_embd, "n_embd")
    if n_embd % n_head:
        raise InputError(f"n_embd must be divisible by n_head, got {n_embd=} and {n_head=}")
    return GPT(vocab_size, block_size, n_layer, n_head, n_embd)


def sequence_cross_entropy(logits: Tensor, targets: Tensor) -> Tensor:
    """Mean cross-entropy of next-token logits ``(B, T, V)`` against targets ``(B, T)``.

    For 2-D ``logits`` ``(B, V)`` with targets ``(B,)`` it is plain cross-entropy, so
    it can serve as the loss of any classifier in the zoo.

    Parameters
    ----------
    logits : Tensor
        Unnormalized scores, classes on the last axis.
    targets : Tensor
        Integer class indices, ``logits.shape[:-1]``.

    Returns
    -------
    Tensor
        Scalar mean loss over every position.
    """
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))

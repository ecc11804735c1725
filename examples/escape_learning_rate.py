"""Escape learning rate against barrier height on the sextic family (SPEC §8, paper §9).

Every member of the family has the same value and derivatives up to order 5 at its
local minimum ``x = 0``; only the barrier height of that minimum changes. Gradient
descent starts next to the local minimum; the smallest learning rate at which it
jumps over the saddle grows essentially linearly with the barrier.

    python examples/escape_learning_rate.py --n 12 --out escape_lr.png
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np

from topoloss.analytic import Sextic, escape_learning_rate, sextic


def barrier_grid(n: int, *, margin: float = 0.05) -> np.ndarray:
    """``n`` barrier heights spread over the family's range, ``margin`` away from its ends."""
    lo, hi = Sextic.barrier_range()
    width = hi - lo
    return np.linspace(lo + margin * width, hi - margin * width, n)


def sweep(
    barriers: Sequence[float], *, steps: int = 1000, start: float | None = None, tol: float = 1e-4
) -> np.ndarray:
    """Escape learning rate of each barrier height."""
    return np.array(
        [escape_learning_rate(float(b), steps=steps, start=start, tol=tol) for b in barriers]
    )


def linear_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Least-squares line ``y = slope x + intercept`` and its coefficient of determination."""
    slope, intercept = np.polyfit(x, y, 1)
    pred = slope * x + intercept
    r2 = 1.0 - float(((y - pred) ** 2).sum()) / float(((y - y.mean()) ** 2).sum())
    return float(slope), float(intercept), r2


def plot(barriers: np.ndarray, lrs: np.ndarray, fit: tuple[float, float, float], path: str) -> None:
    """Two panels: a few members of the family, and escape learning rate vs barrier."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 4))
    x = np.linspace(-0.8, 2.6, 400)
    for b in barriers[:: max(1, len(barriers) // 4)]:
        s = sextic(float(b))
        ax0.plot(x, s.value(x), label=f"barrier {b:.3f}")
    ax0.set_ylim(-1.0, 0.5)
    ax0.set_xlabel("x")
    ax0.set_ylabel("p(x)")
    ax0.set_title("sextic family (same 5-jet at x = 0)")
    ax0.legend(fontsize=8)
    slope, intercept, r2 = fit
    ax1.plot(barriers, lrs, "o", label="escape learning rate")
    ax1.plot(
        barriers,
        slope * barriers + intercept,
        "-",
        label=f"fit: {slope:.3f} h + {intercept:.3f}, R² = {r2:.4f}",
    )
    ax1.set_xlabel("barrier height h (bar length)")
    ax1.set_ylabel("minimal escape learning rate")
    ax1.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=12, help="number of barrier heights")
    parser.add_argument("--steps", type=int, default=1000, help="gradient-descent step budget")
    parser.add_argument(
        "--start", type=float, default=None, help="starting point (default: next to 0)"
    )
    parser.add_argument("--out", default="escape_lr.png", help="figure path")
    args = parser.parse_args(argv)
    barriers = barrier_grid(args.n)
    lrs = sweep(barriers, steps=args.steps, start=args.start)
    fit = linear_fit(barriers, lrs)
    for b, lr in zip(barriers, lrs):
        print(f"barrier {b:.5f}  escape lr {lr:.5f}")
    print(f"slope {fit[0]:.5f}  intercept {fit[1]:.5f}  R^2 {fit[2]:.5f}")
    plot(barriers, lrs, fit, args.out)
    print(f"figure written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

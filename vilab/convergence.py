"""Has the answer settled? A test on the parameters' path, and the step size that follows.

Stochastic gradients never reach zero, so "the loss stopped going down" is a question about
noise. Pflug's idea answers it: while the parameters travel towards the optimum, successive
moves point the same way; once the iterates only rattle around it, a move is followed by one
back. (Pflug 1983; Chee and Toulis, "Convergence diagnostics for stochastic gradient descent
with constant learning rate", AISTATS 2018.) Step by step, Adam's momentum makes successive
gradients agree even while it rattles, so :class:`ConvergenceMonitor` applies the test to
windows of ``window`` steps: the mean of the parameters over a window (10 snapshots), and
the drift from one window's mean to the next.

* Two successive drifts pointing apart (negative inner product): the window is *stationary*.
  With the adaptive step size (vilab's default optimiser, ``optim="auto"``) each stationary
  window halves the learning rate, down to ``min_lr_fraction`` of the start, and moves the
  parameters to the window's mean (averaging the rattle away, Polyak-Ruppert style): the
  rattle shrinks with the rate, so the last iterate closes in on the optimum instead of
  jittering for ever. A guide creeping along a ridge (a Gamma guide's two parameters) keeps
  its way and keeps its rate.
* The run has *converged* when the window means have stopped moving
  (within ``tolerance`` x (1 + |value|), ``settle`` windows running: the path-derivative
  gradient lands exactly when q can match the posterior), or, with the adaptive step size,
  when the rate is down to ``quenched_fraction`` of the start and ``settle`` windows running
  were stationary (at 1/16, a slow creep along a ridge drowned in the other values' rattle
  passed for rattle: the rugged regression was declared converged up to 2.3 times its
  tolerance off; at 1/32, 1 of 16 runs at 1.03 times).

The status reads "still moving" (no stationary window yet), "converging" (stationary, the
step size being lowered) or "converged" (with the step number). Measured on the course's
models (closing note of issue 13): 1 early "converged" in 24 runs, 1.03 times the
tolerance off.

A model with more than :data:`EXACT_UP_TO` parameter values (the VAE's networks: 0.6M) is
watched through a fixed random sample of :data:`SAMPLED_VALUES` of them, the same at every
step (a random projection of the path: its inner products keep their sign in expectation):
copying all of them every 5 steps cost the VAE 2% of its step. Smaller models are watched
exactly, value by value.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch

SNAPSHOTS = 10  # parameter values kept per window, to tell travel from rattle
EXACT_UP_TO = 100_000  # models with at most this many parameter values are watched exactly
SAMPLED_VALUES = 4096  # how many values of a larger model are watched
STILL_MOVING, CONVERGING, CONVERGED = "still moving", "converging", "converged"


@dataclass
class ConvergenceMonitor:
    window: int = 50
    settle: int = 2
    adapt_lr: bool = True
    min_lr_fraction: float = 0.01
    tolerance: float = 1e-3  # window means closer than this x (1 + |value|) have settled
    quenched_fraction: float = 1 / 32  # rattle at this fraction of the start lr is small

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget everything (a trainer reset, or the student changed the learning rate)."""
        self._count, self._settled_windows, self._turning_windows = 0, 0, 0
        # this window's parameter values, sampled: rows of one buffer, reused window after
        # window (a fresh 2.5 MB copy per sample and a 25 MB stack per window cost a VAE
        # ~2% of its step); the mean of the filled rows is the window's mean
        self._snapshots: torch.Tensor | None = None
        self._filled = 0
        self._window_means: torch.Tensor | None = None  # the last window's mean values
        self._last_drift: torch.Tensor | None = None  # the way they moved last
        self.stationary_windows = 0
        self.lr_factor = 1.0
        self.converged_at: int | None = None

    @property
    def status(self) -> str:
        if self.converged_at is not None:
            return CONVERGED
        return CONVERGING if self.stationary_windows else STILL_MOVING

    @property
    def converged(self) -> bool:
        return self.converged_at is not None

    def describe(self) -> str:
        """One line for the status bar or a log."""
        if self.converged_at is not None:
            return f"converged at step {self.converged_at}"
        return self.status

    def observe(self, step: int, params) -> float:
        """Read this step's parameter values (before the update). Returns the factor to
        multiply the learning rate by now (1.0: leave it)."""
        params = list(params)
        if not params:
            return 1.0
        every = max(1, self.window // SNAPSHOTS)
        if self._count % every == 0:
            self._take_snapshot(params, rows=-(-self.window // every))
        self._count += 1
        if self._count < self.window:
            return 1.0
        means = self._snapshots[: self._filled].mean(0)
        self._filled, self._count = 0, 0
        previous, self._window_means = self._window_means, means
        if previous is None or previous.shape != means.shape:
            return 1.0
        drift = means - previous
        last, self._last_drift = self._last_drift, drift
        # Pflug's test, one window at a time: travel keeps its way, rattle turns back
        stationary = last is not None and last.shape == drift.shape and bool(last @ drift < 0)
        # "stopped moving" is relative to what the rate allows: at 1/64 of it a creep that
        # still has 0.05 to go moves as little per window as a landed guide at the full rate
        limit = self.tolerance * self.lr_factor
        settled = bool((drift.abs() <= limit * (1 + means.abs())).all())
        self._settled_windows = self._settled_windows + 1 if settled else 0
        self._turning_windows = self._turning_windows + 1 if stationary else 0
        if stationary:
            self.stationary_windows += 1
        quenched = self.adapt_lr and self.lr_factor <= self.quenched_fraction
        if self.converged_at is None and (
            self._settled_windows >= self.settle
            or (quenched and self._turning_windows >= self.settle)
        ):
            self.converged_at = step
        if stationary and self.adapt_lr and self.lr_factor / 2 >= self.min_lr_fraction:
            self.lr_factor /= 2
            _restart_at(params, means)
            return 0.5
        return 1.0

    def _take_snapshot(self, params, rows: int) -> None:
        """Copy the parameter values (or, for a large model, the sampled ones: see the module
        docstring), end to end, into the next row of the buffer."""
        sizes = tuple(p.numel() for p in params)
        sampled = _sampled_positions(sizes, params[0].device) if sum(sizes) > EXACT_UP_TO else None
        size = sum(sizes) if sampled is None else SAMPLED_VALUES
        dtype = functools.reduce(torch.promote_types, (p.dtype for p in params))
        buffer = self._snapshots
        if buffer is None or buffer.shape != (rows, size) or buffer.dtype != dtype:
            self._filled = 0  # other parameters than before (a new site): start again
            buffer = self._snapshots = params[0].new_empty((rows, size), dtype=dtype)
        with torch.no_grad():
            if sampled is None:
                values = [p.detach().reshape(-1) for p in params]
            else:
                values = [torch.take(p.detach(), at) for p, at in zip(params, sampled)]
            torch.cat(values, out=buffer[self._filled])
        self._filled += 1

    def state_dict(self) -> dict:
        """What a checkpoint keeps: the verdicts so far and the step size. The window in
        progress is not kept: after a resume it starts afresh, so with ``optim="auto"`` a
        resumed run may halve its rate up to one window later than the run it continues."""
        return {
            "stationary_windows": self.stationary_windows,
            "lr_factor": self.lr_factor,
            "converged_at": self.converged_at,
            "settled_windows": self._settled_windows,
            "turning_windows": self._turning_windows,
        }

    def load_state_dict(self, state: dict) -> None:
        self.reset()
        self.stationary_windows = int(state["stationary_windows"])
        self.lr_factor = float(state["lr_factor"])
        self.converged_at = state["converged_at"]
        self._settled_windows = int(state["settled_windows"])
        self._turning_windows = int(state.get("turning_windows", 0))


def _restart_at(params, means: torch.Tensor) -> None:
    """Move the parameters to their window's mean before the rate halves. The last iterate of
    a rattling window is off by the rattle; at half the rate it would take twice as long to
    shed that offset, and after a few halvings the offset is frozen in (the rugged
    regression was declared converged 0.11 off, 2.3 times the tolerance, and crept back
    over 300 steps). The mean of the window's snapshots is closer (Polyak-Ruppert averaging).
    Only for a model watched value by value (a sampled watch has no mean of every value)."""
    if sum(p.numel() for p in params) != means.numel():
        return
    with torch.no_grad():
        offset = 0
        for p in params:
            p.copy_(means[offset : offset + p.numel()].view_as(p))
            offset += p.numel()


@functools.lru_cache(maxsize=8)
def _sampled_positions(sizes: tuple[int, ...], device: torch.device) -> list[torch.Tensor]:
    """The watched values of a large model whose parameters have ``sizes`` values: a
    uniform sample of :data:`SAMPLED_VALUES` of them, drawn once per layout from a private
    generator (the training's random stream is untouched), as flat positions per tensor."""
    generator = torch.Generator().manual_seed(0)
    chosen = torch.randperm(sum(sizes), generator=generator)[:SAMPLED_VALUES].sort().values
    bounds = torch.tensor((0, *sizes)).cumsum(0)
    return [
        (chosen[(chosen >= start) & (chosen < stop)] - start).to(device)
        for start, stop in zip(bounds[:-1].tolist(), bounds[1:].tolist())
    ]

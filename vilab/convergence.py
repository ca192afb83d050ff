"""Has the answer settled? A test on the gradients, and the step size that follows from it.

Stochastic gradients never reach zero, so "the loss stopped going down" is a question about
noise. Pflug's test answers it from the gradients alone: while the parameters travel towards
the optimum, two successive gradients point the same way (their inner product is positive);
once the iterates only rattle around it, the noise makes successive gradients disagree and
the inner product's mean turns negative. (Pflug 1983; Chee and Toulis, "Convergence
diagnostics for stochastic gradient descent with constant learning rate", AISTATS 2018.)

:class:`ConvergenceMonitor` sums ``<g_t, g_(t-1)>`` over windows of ``window`` steps:

* a window with a negative sum is *stationary*. With the adaptive step size (vilab's default
  optimiser, ``optim="auto"``), each stationary window halves the learning rate: the rattle
  shrinks with it, so the last iterate closes in on the optimum instead of jittering for
  ever. The halving stops at ``min_lr_fraction`` of the starting rate.
* the run has *converged* once ``settle`` stationary windows have been seen (with the
  adaptive step size: the rate was halved ``settle - 1`` times, to 1/8 of its start by
  default, and the next window is still stationary), or when the gradient itself is
  negligible (``tiny``: the path-derivative estimator makes it exactly zero when q can
  match the posterior).

The status reads "still moving" (no stationary window yet), "converging" (stationary, the
step size being lowered) or "converged" (with the step number).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

SNAPSHOTS = 10  # parameter values kept per window, to tell travel from rattle
STILL_MOVING, CONVERGING, CONVERGED = "still moving", "converging", "converged"


@dataclass
class ConvergenceMonitor:
    window: int = 100
    settle: int = 2
    adapt_lr: bool = True
    min_lr_fraction: float = 0.01
    tolerance: float = 1e-3  # window means closer than this x (1 + |value|) have settled

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget everything (a trainer reset, or the student changed the learning rate)."""
        self._previous: dict[int, torch.Tensor] = {}
        self._products, self._count, self._settled_windows = 0.0, 0, 0
        self._snapshots: list[torch.Tensor] = []  # this window's parameter values, sampled
        self._window_means: torch.Tensor | None = None  # the last window's mean values
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
        """Read this step's gradients and parameter values (before the update). Returns the
        factor to multiply the learning rate by now (1.0: leave it)."""
        grads = {id(p): (p, p.grad) for p in params if p.grad is not None}
        if not grads:
            return 1.0
        product = 0.0
        with torch.no_grad():
            for key, (_, grad) in grads.items():
                flat = grad.detach().reshape(-1)
                previous = self._previous.get(key)
                if previous is not None and previous.shape == flat.shape:
                    product += float(flat.dot(previous))
            self._previous = {k: g.detach().reshape(-1).clone() for k, (_, g) in grads.items()}
            values = torch.cat([p.detach().reshape(-1) for p, _ in grads.values()])
        if self._snapshots and self._snapshots[0].shape != values.shape:
            self._snapshots = []  # the parameters changed (a new site): start the window again
        if self._count % max(1, self.window // SNAPSHOTS) == 0:
            self._snapshots.append(values)
        self._products += product
        self._count += 1
        if self._count < self.window:
            return 1.0
        stationary = self._products < 0
        snapshots, self._snapshots = torch.stack(self._snapshots), []
        means = snapshots.mean(0)
        self._products, self._count = 0.0, 0
        previous, self._window_means = self._window_means, means
        if previous is None or previous.shape != means.shape:
            return 1.0
        drift = means - previous
        # travelling: the window's mean moved further, along the way it moved, than the
        # iterates rattle in that direction (the rattle across the way does not count)
        direction = drift / drift.norm().clamp_min(1e-30)
        rattle = float((snapshots @ direction).std())
        travelling = float(drift.norm()) > rattle
        settled = bool((drift.abs() <= self.tolerance * (1 + means.abs())).all())
        self._settled_windows = self._settled_windows + 1 if settled else 0
        stationary = stationary and not travelling
        if stationary:
            self.stationary_windows += 1
        if self.converged_at is None and self._settled_windows >= self.settle:
            self.converged_at = step
        if stationary and self.adapt_lr and self.lr_factor / 2 >= self.min_lr_fraction:
            self.lr_factor /= 2
            return 0.5
        return 1.0

    def state_dict(self) -> dict:
        """What a checkpoint keeps: the verdicts so far and the step size. The window in
        progress is not kept: after a resume it starts afresh, so with ``optim="auto"`` a
        resumed run may halve its rate up to one window later than the run it continues."""
        return {
            "stationary_windows": self.stationary_windows,
            "lr_factor": self.lr_factor,
            "converged_at": self.converged_at,
            "settled_windows": self._settled_windows,
        }

    def load_state_dict(self, state: dict) -> None:
        self.reset()
        self.stationary_windows = int(state["stationary_windows"])
        self.lr_factor = float(state["lr_factor"])
        self.converged_at = state["converged_at"]
        self._settled_windows = int(state["settled_windows"])

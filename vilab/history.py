"""The record of a training run: plain data, no torch, no plotting.

The engine appends one entry per step; the UI, the plots and the CLI only read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(repr=False)
class History:
    """Loss per step, with the wall time at which each step finished.

    ``loss`` is Pyro's loss, i.e. the negative ELBO estimate summed over the data.
    ``time`` is the cumulative training time in seconds (pauses are not counted).
    ``num_data`` turns totals into per-data-point values, so runs on different data
    sizes can be compared. ``extras`` holds optional per-step series (name -> list)
    that an exercise records, e.g. the reconstruction and KL terms of a VAE.
    """

    num_data: int = 1
    step: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    time: list[float] = field(default_factory=list)
    extras: dict[str, list[float]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.step)

    def __repr__(self) -> str:
        # short on purpose: a notebook cell ending in trainer.run(...) shows this
        if not self.step:
            return "History(no steps yet)"
        return (
            f"History({len(self.step)} steps, final ELBO per data point "
            f"{self.elbo_per_point[-1]:.4g}, {self.elapsed:.1f} s)"
        )

    def append(self, step: int, loss: float, time: float) -> None:
        self.step.append(step)
        self.loss.append(loss)
        self.time.append(time)

    @property
    def elbo(self) -> np.ndarray:
        """ELBO estimate per step (the negative loss), summed over the data."""
        return -np.asarray(self.loss, dtype=float)

    @property
    def elbo_per_point(self) -> np.ndarray:
        """ELBO per data point: comparable across data set sizes."""
        return self.elbo / self.num_data

    @property
    def final_elbo(self) -> float | None:
        return float(-self.loss[-1]) if self.loss else None

    @property
    def elapsed(self) -> float:
        return self.time[-1] if self.time else 0.0

    def steps_per_second(self, window: int = 200) -> float:
        """Recent training speed, over the last ``window`` steps."""
        if len(self.time) < 2:
            return 0.0
        first = max(0, len(self.time) - window - 1)
        dt = self.time[-1] - self.time[first]
        return (len(self.time) - 1 - first) / dt if dt > 0 else 0.0

    def truncate(self, num_steps: int) -> None:
        """Forget everything after step ``num_steps`` (used when restoring a checkpoint)."""
        keep = int(np.searchsorted(np.asarray(self.step), num_steps, side="right"))
        del self.step[keep:], self.loss[keep:], self.time[keep:]
        for series in self.extras.values():
            del series[keep:]

    def to_dict(self) -> dict:
        return {
            "num_data": self.num_data,
            "step": list(self.step),
            "loss": list(self.loss),
            "time": list(self.time),
            "extras": {k: list(v) for k, v in self.extras.items()},
        }

    @classmethod
    def from_dict(cls, state: dict) -> History:
        return cls(
            num_data=int(state["num_data"]),
            step=[int(s) for s in state["step"]],
            loss=[float(v) for v in state["loss"]],
            time=[float(t) for t in state["time"]],
            extras={k: [float(v) for v in vs] for k, vs in state.get("extras", {}).items()},
        )

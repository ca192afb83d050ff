"""What the panel's status line and parameter readout say: plain functions of a trainer.

The status line reads, e.g.::

    running · step 420/2000 · ELBO -1.874 (per data point -1.874) · loss down 41.3% since
    the start · 830 steps/s · 0.5 s

"loss down x%" compares the mean loss of the first ``w`` steps with that of the last ``w``
steps (``w`` = a tenth of the run, between 1 and 50), relative to the first: a single-step
estimate is too noisy to compare. When the loss crossed zero (factor analysis: its density
of continuous pixels can exceed 1), a percentage means nothing, so the line gives the
change per data point instead. Time and speed count training only, not pauses.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping

import numpy as np

MAX_READOUT_SCALARS = 10  # the default readout lists every parameter of models this small


def _first_and_last(loss) -> tuple[float, float] | None:
    n = len(loss)
    if n < 2:
        return None
    w = max(1, min(50, n // 10))
    return float(np.mean(loss[:w])), float(np.mean(loss[-w:]))


def loss_decrease(loss) -> float | None:
    """Percent decrease of the loss from the start of the history to now (None if unknown,
    or if the loss changed sign: a percentage of a number near or across zero means
    nothing, e.g. "loss down 526.8%")."""
    ends = _first_and_last(loss)
    if ends is None:
        return None
    first, last = ends
    if abs(first) < 1e-12 or (first > 0) != (last > 0):
        return None
    return 100.0 * (first - last) / abs(first)


def loss_change_text(history) -> str:
    """ "loss down 41.3% since the start", or, when the loss crossed zero, the change per data
    point: "loss down 3.52 per data point since the start"."""
    ends = _first_and_last(history.loss)
    if ends is None:
        return ""
    percent = loss_decrease(history.loss)
    if percent is not None:
        word = "down" if percent >= 0 else "up"
        return f"loss {word} {abs(percent):.1f}% since the start"
    change = (ends[0] - ends[1]) / (history.num_data or 1)
    word = "down" if change >= 0 else "up"
    return f"loss {word} {abs(change):.4g} per data point since the start"


def status_text(
    trainer, state: str | None, target: int | None = None, note: str = "", timing: bool = True
) -> str:
    """One line: state, step, ELBO (total and per data point), decrease, speed, time.
    Without ``state`` and ``timing`` the line is the same on every run with the same seed
    (what a headless run prints, so stored notebook outputs do not change)."""
    history = trainer.history
    step = f"step {trainer.num_steps_done}" + (f"/{target}" if target else "")
    parts = [state, step] if state else [step]
    if history.loss:
        elbo = -history.loss[-1]
        parts.append(f"ELBO {elbo:.4g} (per data point {elbo / history.num_data:.4g})")
        change = loss_change_text(history)
        if change:
            parts.append(change)
        parts.append(trainer.convergence.describe())  # still moving / converging / converged
        if timing:
            parts.append(f"{history.steps_per_second():.0f} steps/s")
            parts.append(f"{history.elapsed:.1f} s")
    text = " · ".join(parts)
    return f"{text} — {note}" if note else text


def status_html(text: str) -> str:
    return f'<div style="font-family: monospace; padding: 2px 0">{html.escape(text)}</div>'


def count_scalars(params: Mapping) -> int:
    return sum(int(value.numel()) for value in params.values())


def default_readout(trainer) -> Callable | None:
    """A readout listing every scalar parameter, for models with at most
    :data:`MAX_READOUT_SCALARS` of them (e.g. the temperature guide's ``a`` and ``b``)."""
    if count_scalars(trainer.params()) > MAX_READOUT_SCALARS:
        return None
    return every_scalar


def every_scalar(trainer) -> dict[str, float]:
    values = {}
    for name, value in trainer.params().items():
        flat = value.detach().reshape(-1)
        if flat.numel() == 1:
            values[name] = float(flat[0])
        else:
            values.update({f"{name}[{i}]": float(v) for i, v in enumerate(flat)})
    return values


def readout_html(values) -> str:
    """``{"a": 17.4, "b": 0.89}`` as one line; a readout must return a dict of numbers."""
    if not isinstance(values, Mapping):
        raise TypeError(
            f"A readout must return a dict {{name: number}}, got {type(values).__name__}. "
            f"Example: readout=lambda trainer: {{'a': float(trainer.param('a'))}}."
        )
    items = " · ".join(f"<b>{html.escape(str(k))}</b> = {float(v):.4g}" for k, v in values.items())
    return f'<div style="font-family: monospace">parameters: {items}</div>'

"""Posterior tools for any model: latent draws, constrained summaries, new predictions.

A trained guide q is only useful through what it says about the model's variables:

- :func:`sample_latents` draws the latent sites from q (all draws in one vectorised call,
  a loop only when the guide cannot be vectorised), leaving the observed sites out;
- :func:`posterior_summary` gives each latent's mean, sd and central interval in the space
  the model uses (an AutoNormal's parameters live in an unconstrained space: a scale's
  ``loc`` of -1.2 means a scale near 0.3);
- :func:`posterior_predictive` draws new observations (and ``pyro.deterministic`` values) at
  new inputs, for the usual ``def model(x, y=None)``: ``posterior_predictive(trainer, x_new)``.

Every draw uses the trainer's parameters and leaves its training's random stream untouched.

    draws = posterior_predictive(trainer, x_new, num_samples=1000)
    band = summarize_draws(draws)["obs"]          # .mean, .low, .high per input
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pyro
import pyro.poutine as poutine
import torch
from pyro.distributions import Unit
from pyro.poutine.uncondition_messenger import UnconditionMessenger

from .checks.pair import trace_pair
from .checks.traces import (
    guide_sites,
    is_deterministic,
    latent_sites,
    observed_sites,
    plate_nesting,
)
from .validation import real_number, refuse, whole_number

DRAWS_PLATE = "_vilab_draws"  # the particle plate; the leading dim of every returned draw
_NUM_SAMPLES_FIX = "pass e.g. num_samples=1000."


def _training_data(trainer) -> tuple[tuple, dict]:
    return trainer._step_args(trainer.num_steps_done)


def _data(trainer, args=None, kwargs=None) -> tuple[tuple, dict]:
    """The training data, with ``args``/``kwargs`` replacing them where given."""
    train_args, train_kwargs = _training_data(trainer)
    return (train_args if args is None else tuple(args)), (
        train_kwargs if kwargs is None else kwargs
    )


@dataclass(frozen=True)
class Layout:
    """What one guide + model trace on the training data says about the model's sites."""

    latent: dict  # {name: shape of one draw}, in the model's order
    observed: list  # names of the data sites
    nesting: int  # plate dims used by model and guide


def layout(trainer, args=None, kwargs=None) -> Layout:
    """The :class:`Layout` of the trainer's model and guide, from one trace of each (on the
    training data, or on ``args``/``kwargs``)."""
    args, kwargs = _data(trainer, args, kwargs)
    with trainer.activated(), torch.no_grad():
        guide_trace, model_trace = trace_pair(trainer.model, trainer.guide, args, kwargs, False)
    drawn = guide_sites(guide_trace)  # with y=None the data site is free, yet not latent
    latent = {
        name: model_trace.nodes[name]["value"].shape
        for name in latent_sites(model_trace)
        if name in drawn
    }
    nesting = plate_nesting(model_trace, guide_trace)
    return Layout(latent, list(observed_sites(model_trace)), nesting)


def draw_sites(fn, args, kwargs, num_samples: int, shapes: dict, nesting: int) -> dict:
    """``num_samples`` draws of the sites ``shapes`` ({name: shape of one draw}) of the
    stochastic function ``fn``: one call under a plate of draws left of its ``nesting`` plate
    dims; if that fails or gives values of the wrong shape, one call per draw."""
    try:
        with pyro.plate(DRAWS_PLATE, num_samples, dim=-(nesting + 1)):
            trace = poutine.trace(fn).get_trace(*args, **kwargs)
        draws = {}
        for name, shape in shapes.items():
            value = trace.nodes[name]["value"]
            if value.shape[:1] != (num_samples,) or value.numel() != num_samples * math.prod(shape):
                raise ValueError(f"{name} did not vectorise: {tuple(value.shape)}")
            draws[name] = value.reshape(num_samples, *shape)
        return draws
    except Exception:  # a guide or model that cannot run vectorised: draw one at a time
        traces = [poutine.trace(fn).get_trace(*args, **kwargs) for _ in range(num_samples)]
        return {name: torch.stack([t.nodes[name]["value"] for t in traces]) for name in shapes}


def sample_latents(
    trainer, num_samples: int = 1000, sites=None, args=None, kwargs=None
) -> dict[str, torch.Tensor]:
    """Draws from the trained guide of the model's latent sites (``sites``: some of them),
    each of shape ``(num_samples, *site shape)``, in constrained space; observed sites are
    left out. One vectorised call of the guide (a loop only if the guide does not allow it).
    The guide sees the training data, or ``args``/``kwargs`` where given."""
    num_samples = whole_number("num_samples", num_samples, fix=_NUM_SAMPLES_FIX)
    args, kwargs = _data(trainer, args, kwargs)
    found = layout(trainer, args, kwargs)
    shapes = found.latent
    if sites is not None:
        unknown = [s for s in sites if s not in shapes]
        if unknown:
            raise KeyError(
                f"Expected latent sites of the model, got {unknown}. Fix: choose among "
                f"{list(shapes)}."
            )
        shapes = {s: shapes[s] for s in sites}
    with trainer.activated(), torch.no_grad():
        draws = draw_sites(trainer.guide, args, kwargs, num_samples, shapes, found.nesting)
    return {name: value.detach() for name, value in draws.items()}


def sample_prior(trainer, num_samples: int = 1000) -> dict[str, torch.Tensor]:
    """Draws of the latent sites from the model's prior (the data are ignored)."""
    num_samples = whole_number("num_samples", num_samples, fix=_NUM_SAMPLES_FIX)
    found = layout(trainer)
    args, kwargs = _training_data(trainer)
    with trainer.activated(), torch.no_grad():
        draws = draw_sites(trainer.model, args, kwargs, num_samples, found.latent, found.nesting)
    return {name: value.detach() for name, value in draws.items()}


class _FreeObservations(UnconditionMessenger):
    """Pyro's ``uncondition`` for data sites only: ``pyro.deterministic`` values and
    ``pyro.factor`` terms stay as they are (unconditioned, a deterministic value computed
    under a plate of draws would be broadcast against that plate a second time)."""

    def _pyro_sample(self, msg) -> None:
        if msg["infer"].get("_deterministic") or isinstance(msg["fn"], Unit):
            return
        super()._pyro_sample(msg)


@dataclass(frozen=True)
class DrawSummary:
    """Mean, sd and the central ``prob`` interval (low, median, high) of a site's draws,
    element by element (each of the site's shape)."""

    mean: torch.Tensor
    sd: torch.Tensor
    low: torch.Tensor
    median: torch.Tensor
    high: torch.Tensor
    prob: float


def summarize_draws(draws: dict, prob: float = 0.9) -> dict[str, DrawSummary]:
    """A :class:`DrawSummary` per site of ``draws`` ({name: tensor (num_samples, ...)})."""
    prob = real_number("prob", prob, fix="e.g. prob=0.9.")
    if not 0 < prob < 1:
        refuse("prob", "between 0 and 1", prob, fix="e.g. prob=0.9 for the 5%-95% interval.")
    levels = torch.tensor([(1 - prob) / 2, 0.5, (1 + prob) / 2], dtype=torch.float64)
    summary = {}
    for name, values in draws.items():
        values = torch.as_tensor(values).detach().double()
        low, median, high = torch.quantile(values, levels, dim=0)
        sd = values.std(0) if len(values) > 1 else torch.zeros_like(values[0])
        summary[name] = DrawSummary(values.mean(0), sd, low, median, high, prob)
    return summary


def posterior_summary(trainer, num_samples: int = 4000, prob: float = 0.9) -> dict:
    """Each latent site's posterior mean, sd and central ``prob`` interval under the trained
    guide, in the model's (constrained) space, from :func:`sample_latents`."""
    return summarize_draws(sample_latents(trainer, num_samples), prob)


def format_summary(summary: dict) -> str:
    """A plain-text table of :func:`posterior_summary` (one row per element)."""
    rows = []
    for name, s in summary.items():
        flat = [t.reshape(-1) for t in (s.mean, s.sd, s.low, s.median, s.high)]
        for i in range(flat[0].numel()):
            label = name if flat[0].numel() == 1 else f"{name}[{i}]"
            rows.append(f"{label:>14} " + " ".join(f"{float(t[i]):>10.4g}" for t in flat))
    if not summary:
        return "(no latent sites)"
    prob = next(iter(summary.values())).prob
    tail = f"{100 * (1 - prob) / 2:g}%"
    head = " ".join(f"{h:>10}" for h in ("mean", "sd", tail, "50%", f"{100 - float(tail[:-1]):g}%"))
    return f"{'':>14} {head}\n" + "\n".join(rows)


def posterior_predictive(
    trainer, *args, num_samples: int = 1000, return_sites=None, **kwargs
) -> dict[str, torch.Tensor]:
    """Draws of the observed sites (and ``pyro.deterministic`` sites) at new inputs:
    ``posterior_predictive(trainer, x_new)`` calls ``model(x_new)``, so ``y=None`` makes the
    observations free. Without arguments: replicated data at the training inputs.

    The latents come from the trained guide (on the training data); latent sites whose shape
    changes with the new inputs (one per data point) are drawn from the model. Vectorised
    over draws when the model allows it, else one model run per draw. Each value has shape
    ``(num_samples, *site shape)``.
    """
    from pyro.infer import Predictive

    num_samples = whole_number("num_samples", num_samples, fix=_NUM_SAMPLES_FIX)
    latents = sample_latents(trainer, num_samples)
    if not args and not kwargs:
        args, kwargs = _training_data(trainer)
    model = _FreeObservations()(trainer.model)  # new observations, even where data are given
    with trainer.activated(), torch.no_grad():
        prototype = poutine.trace(model).get_trace(*args, **kwargs)
    if return_sites is None:
        return_sites = [n for n in layout(trainer).observed if n in prototype.nodes]
        return_sites += [
            n for n, s in prototype.nodes.items() if s["type"] == "sample" and is_deterministic(s)
        ]
    missing = [n for n in return_sites if n not in prototype.nodes]
    if missing:
        raise KeyError(
            f"Expected sites of the model, got {missing}. Fix: choose among "
            f"{[n for n, s in prototype.nodes.items() if s['type'] == 'sample']}."
        )
    shapes = {n: prototype.nodes[n]["value"].shape for n in return_sites}
    new_shapes = {n: s["value"].shape for n, s in prototype.nodes.items() if s["type"] == "sample"}
    # global latents come from q; per-data-point ones (their shape follows the inputs) from
    # the model at the new inputs
    given = {n: v for n, v in latents.items() if new_shapes.get(n) == v.shape[1:]}

    def run(parallel: bool) -> dict:
        predictive = Predictive(
            model,
            posterior_samples=given or None,
            num_samples=num_samples,
            return_sites=list(return_sites),
            parallel=parallel,
        )
        with trainer.activated(), torch.no_grad():
            draws = predictive(*args, **kwargs)
        return {n: draws[n].reshape(num_samples, *shapes[n]).detach() for n in return_sites}

    try:
        return run(parallel=True)
    except Exception:  # the model does not vectorise (e.g. Python control flow on a latent)
        return run(parallel=False)

"""Answer checks for the Day-1 primer (notebooks 00a and 00c): Pyro's distributions, the
ten-readings temperature model, the ice-cream shop and its humidity exercise.

In a notebook::

    from vilab.course.checks import primer as check
    check.samples(samples)
"""

from __future__ import annotations

import pyro.distributions as dist
import torch

from ...exercises import ice_cream
from .feedback import is_blank, not_done, verdict
from .models import check_model

SAMPLE_LOC, SAMPLE_SCALE, NUM_SAMPLES = 20.0, 2.0, 1000
LOG_PROB_LOC, LOG_PROB_SCALE = 19.0, 2.0
EVENT_LOCS = (1.0, 2.0, 3.0)
# Compare the sales rate where it is positive (from the prior, alpha + beta temp is often
# clamped to 0.001 and the rates of two different models would look the same).
TYPICAL_COEFFICIENTS = {
    "alpha": torch.tensor(10.0),
    "beta": torch.tensor(1.5),
    "gamma": torch.tensor(0.2),
}


def _tensor_problem(value, what: str) -> str | None:
    if isinstance(value, torch.Tensor):
        return None
    return f"Expected a torch tensor ({what}), got {type(value).__name__}."


def samples(value) -> object:
    """Task: 1000 draws of Normal(20, 2) in one call, as a tensor of shape (1000,)."""
    task = "1000 draws from Normal(20, 2) with sample_shape"
    if is_blank(value):
        return not_done(task)
    problem = _tensor_problem(value, "what .sample(...) returns")
    if problem:
        return verdict(task, [problem])
    problems = []
    if tuple(value.shape) != (NUM_SAMPLES,):
        problems.append(
            f"Your tensor has shape {tuple(value.shape)}; one call "
            f".sample(sample_shape=({NUM_SAMPLES},)) gives shape ({NUM_SAMPLES},)."
        )
    flat = value.detach().double().flatten()
    if flat.numel() > 1:
        mean, sd = float(flat.mean()), float(flat.std())
        if abs(sd - SAMPLE_SCALE**2) < 0.5:
            problems.append(
                f"Their spread is {sd:.2f}: you gave the variance 4 as the scale; Normal takes "
                "the standard deviation, 2."
            )
        elif abs(sd - SAMPLE_SCALE) > 0.3:
            problems.append(f"Their sd is {sd:.2f}; draws of Normal(20, 2) have sd close to 2.")
        if abs(mean - SAMPLE_LOC) > 0.5:
            problems.append(
                f"Their mean is {mean:.2f}; draws of Normal(20, 2) average close to 20."
            )
    return verdict(task, problems, note="Shape, mean and spread are those of Normal(20, 2).")


def log_prob_total(value) -> object:
    """Task: the log-density of the ten readings under Normal(19, 2), summed (one number)."""
    task = "total log-density of the ten readings under Normal(19, 2)"
    if is_blank(value):
        return not_done(task)
    problem = _tensor_problem(value, "what .log_prob(...) returns")
    if problem:
        return verdict(task, [problem])
    reference = dist.Normal(LOG_PROB_LOC, LOG_PROB_SCALE).log_prob(ice_cream.READINGS)
    value = value.detach()
    if value.shape == reference.shape and torch.allclose(value, reference, atol=1e-4):
        return verdict(
            task,
            [
                "You have one log-density per reading (shape (10,)): add them up with .sum(), "
                "the log of the product of the densities."
            ],
        )
    if value.numel() != 1:
        return verdict(task, [f"Expected one number, got a tensor of shape {tuple(value.shape)}."])
    with_variance = dist.Normal(LOG_PROB_LOC, LOG_PROB_SCALE**2).log_prob(ice_cream.READINGS)
    if abs(float(value) - float(with_variance.sum())) < 1e-3:
        return verdict(
            task,
            ["You used the variance 4 as the scale; Normal(19, 2) has standard deviation 2."],
        )
    if abs(float(value) - float(reference.sum())) > 1e-3:
        return verdict(
            task,
            [
                f"Your total is {float(value):.4f}; the ten readings under Normal(19, 2) give "
                f"{float(reference.sum()):.4f}."
            ],
        )
    return verdict(task, [], note=f"{float(value):.4f}, the log of the product of ten densities.")


def event_of_three(value) -> object:
    """Task: Normal(locs [1, 2, 3], scale 1) as ONE event of size 3 (batch (), event (3,))."""
    task = "three independent Normals as one event of size 3"
    if is_blank(value):
        return not_done(task)
    if not isinstance(value, dist.Distribution):
        return verdict(task, [f"Expected a distribution, got {type(value).__name__}."])
    batch, event = tuple(value.batch_shape), tuple(value.event_shape)
    if (batch, event) == ((3,), ()):
        return verdict(
            task,
            [
                "Batch shape (3,) and event shape (): three separate distributions. "
                ".to_event(1) declares the last dim part of one event (log_prob then returns "
                "one number)."
            ],
        )
    problems = []
    if (batch, event) != ((), (3,)):
        problems.append(f"Expected batch shape () and event shape (3,), got {batch} and {event}.")
    else:
        mean = value.mean.detach()
        if not torch.allclose(mean, torch.tensor(EVENT_LOCS)):
            problems.append(f"Its means are {mean.tolist()}; the task asks for [1, 2, 3].")
    return verdict(task, problems, note="Batch shape (), event shape (3,).")


def temperature_model_loop(model) -> object:
    """Task: the ten-readings model with a Python loop (sites temp_i, sensor_i)."""
    return check_model(
        "temperature model with a loop (mean_temp, temp_i, sensor_i)",
        model,
        ice_cream.temperature_model_loop,
        (ice_cream.READINGS,),
    )


def temperature_model(model) -> object:
    """Task: the same model with pyro.plate (sites mean_temp, temp, sensor)."""
    return check_model(
        "temperature model with pyro.plate",
        model,
        ice_cream.temperature_model,
        (ice_cream.READINGS,),
    )


def humidity_model(model) -> object:
    """Task: the ice-cream shop with humidity (the Day-1 exercise)."""
    return check_model(
        "ice-cream shop with humidity",
        model,
        ice_cream.humidity_model,
        ice_cream.data_for(ice_cream.humidity_model),
        values=TYPICAL_COEFFICIENTS,
    )


def mean_temp_posterior(loc, scale) -> object:
    """Task: read the VI posterior of mean_temp; compared with the exact N(19.22, 0.667)."""
    task = "VI posterior of mean_temp against the exact one"
    if is_blank(loc) or is_blank(scale):
        return not_done(task)
    exact_loc, exact_scale = ice_cream.exact_mean_temp()
    loc, scale = float(loc), float(scale)
    problems = []
    if abs(loc - exact_loc) > 0.25 * exact_scale:
        problems.append(
            f"The mean {loc:.3f} is {abs(loc - exact_loc) / exact_scale:.2f} posterior sds "
            f"from the exact {exact_loc:.3f}: train longer, or check the guide reads 'mean_temp'."
        )
    if abs(scale - exact_scale) > 0.2 * exact_scale:
        problems.append(
            f"The sd {scale:.3f} is {100 * abs(scale - exact_scale) / exact_scale:.0f}% off the "
            f"exact {exact_scale:.3f}."
        )
    return verdict(
        task, problems, note=f"The exact posterior is N({exact_loc:.2f}, sd {exact_scale:.3f})."
    )

"""Turn the names a student picks ("adam", "meanfield", jit=True) into Pyro objects."""

from __future__ import annotations

import math

import pyro.optim
from pyro.infer import (
    ELBO,
    JitTrace_ELBO,
    JitTraceMeanField_ELBO,
    Trace_ELBO,
    TraceMeanField_ELBO,
)

ELBO_CHOICES = {
    # name: (plain, jit-compiled)
    "trace": (Trace_ELBO, JitTrace_ELBO),
    "meanfield": (TraceMeanField_ELBO, JitTraceMeanField_ELBO),
}

OPTIM_CHOICES = {
    "adam": pyro.optim.Adam,
    "clipped_adam": pyro.optim.ClippedAdam,
    "sgd": pyro.optim.SGD,
}


def make_elbo(elbo: str | ELBO, num_particles: int, jit: bool, vectorize_particles: bool):
    """An ELBO object from a name: "trace" (Trace_ELBO) or "meanfield" (TraceMeanField_ELBO,
    which uses analytic KL terms where it can)."""
    if isinstance(num_particles, bool) or not isinstance(num_particles, int) or num_particles < 1:
        raise ValueError(
            f"num_particles must be a whole number >= 1 (samples per ELBO estimate), "
            f"got {num_particles!r}."
        )
    if isinstance(elbo, ELBO):
        return elbo
    if elbo not in ELBO_CHOICES:
        raise ValueError(
            f"Unknown elbo {elbo!r}. Choose one of {sorted(ELBO_CHOICES)}, or pass a Pyro ELBO "
            f"object such as pyro.infer.Trace_ELBO()."
        )
    cls = ELBO_CHOICES[elbo][1 if jit else 0]
    options = {"num_particles": num_particles, "vectorize_particles": vectorize_particles}
    if jit:
        options["ignore_jit_warnings"] = True
    return cls(**options)


def check_lr(lr) -> float:
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
        raise ValueError(
            f"The learning rate must be a positive number, got lr={lr!r}. "
            f"Typical values for Adam are 0.001 to 0.1."
        )
    return float(lr)


def make_optim(optim: str | pyro.optim.PyroOptim, lr_of, optim_args: dict | None = None):
    """A Pyro optimiser from a name; ``lr_of()`` returns the current learning rate, so a
    changed rate also reaches parameters first seen after the change."""
    if isinstance(optim, pyro.optim.PyroOptim):
        return optim
    if optim not in OPTIM_CHOICES:
        raise ValueError(
            f"Unknown optimiser {optim!r}. Choose one of {sorted(OPTIM_CHOICES)}, or pass a "
            f"pyro.optim object such as pyro.optim.Adam({{'lr': 0.01}})."
        )
    extra = dict(optim_args or {})
    if "lr" in extra:
        raise ValueError("Give the learning rate as lr=..., not inside optim_args.")
    return OPTIM_CHOICES[optim](lambda module_name, param_name: {"lr": lr_of(), **extra})


def set_optim_lr(optim: pyro.optim.PyroOptim, lr: float) -> None:
    """Change the learning rate of every parameter the optimiser already tracks."""
    for torch_optim in optim.optim_objs.values():
        for group in torch_optim.param_groups:
            group["lr"] = lr

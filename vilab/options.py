"""Turn the names a student picks ("adam", "meanfield", jit=True) into Pyro objects."""

from __future__ import annotations

import inspect
import math
import numbers
import operator
import warnings

import pyro.optim
import pyro.poutine as poutine
import torch
from pyro.infer import (
    ELBO,
    JitTrace_ELBO,
    JitTraceMeanField_ELBO,
    Trace_ELBO,
    TraceMeanField_ELBO,
)
from pyro.optim.clipped_adam import ClippedAdam

from .defaults import DEFAULT_AUTO_BETAS
from .optimiser import SharedOptimiser
from .validation import real_number, whole_number


class CompiledOnceMeanFieldELBO(JitTraceMeanField_ELBO):
    """Pyro 1.9.2's ``JitTraceMeanField_ELBO`` compiles the ELBO again at every step: its
    cache check reads ``_loss_and_surrogate_loss`` but it stores the compiled function as
    ``_differentiable_loss`` (51 traces in 50 steps; a temperature step took 6.4 ms instead
    of 0.35 ms, 18x slower than without JIT). This reuses the compiled function."""

    def differentiable_loss(self, model, guide, *args, **kwargs):
        compiled = getattr(self, "_differentiable_loss", None)
        if compiled is None:
            return super().differentiable_loss(model, guide, *args, **kwargs)
        kwargs["_pyro_model_id"], kwargs["_pyro_guide_id"] = id(model), id(guide)
        return compiled(*args, **kwargs)


class StickingTheLandingMixin:
    """The path-derivative ("sticking the landing") gradient of the ELBO (Roeder, Wu and
    Duvenaud, 2017): log q(z) is evaluated with the guide's parameters detached, so the
    gradient flows only through the sample z. The dropped term has mean zero, so the
    gradient stays unbiased; when q can match the posterior its variance goes to zero at
    the optimum, and the last iterate sits on the answer instead of jittering around it.

    The loss value is unchanged. Guides with a site that cannot be reparameterised (a
    discrete latent) need log q's parameter gradient for the score-function term: for them
    the gradient is Pyro's own, as it is for parameters Pyro cannot substitute (a network
    registered with ``pyro.module`` uses its weights directly)."""

    def _get_trace(self, model, guide, args, kwargs):
        model_trace, guide_trace = super()._get_trace(model, guide, args, kwargs)
        if not torch.is_grad_enabled():
            return model_trace, guide_trace
        latents = [
            site
            for site in guide_trace.nodes.values()
            if site["type"] == "sample" and not site["is_observed"]
        ]
        if not latents or not all(site["fn"].has_rsample for site in latents):
            return model_trace, guide_trace
        if any(
            getattr(frame, "full_size", None) not in (None, frame.size)
            for site in guide_trace.nodes.values()
            if site["type"] == "param"
            for frame in site["cond_indep_stack"]
        ):  # local parameters of a subsampled plate: Pyro slices them itself; Pyro's gradient
            return model_trace, guide_trace
        detached = {
            name: site["value"].detach()
            for name, site in guide_trace.nodes.items()
            if site["type"] == "param" and "$$$" not in name  # not a pyro.module's weights
        }
        # unseen by outer handlers (the engine's parameter capture); Pyro's substitute warns
        # about a parameter the second run does not reach (a guide whose branches vary)
        with poutine.block(), warnings.catch_warnings():
            warnings.filterwarnings("ignore", "pyro.module data did not find params")
            replayed = poutine.trace(
                poutine.replay(poutine.substitute(guide, data=detached), trace=guide_trace)
            ).get_trace(*args, **kwargs)
        for site in latents:
            fn = replayed.nodes[site["name"]]["fn"]
            parts = fn.score_parts(site["value"], *site["args"], **site["kwargs"])
            site["unscaled_log_prob"] = parts.log_prob
            parts = parts.scale_and_mask(site["scale"], site["mask"])
            site["score_parts"], site["log_prob"] = parts, parts.log_prob
            site["log_prob_sum"] = parts.log_prob.sum()
        return model_trace, guide_trace


class StickingTheLandingELBO(StickingTheLandingMixin, Trace_ELBO):
    """Trace_ELBO with the path-derivative gradient: see :class:`StickingTheLandingMixin`."""


class JitStickingTheLandingELBO(StickingTheLandingMixin, JitTrace_ELBO):
    """The same, compiled with PyTorch's JIT."""


ELBO_CHOICES = {
    # name: (plain, jit-compiled)
    "trace": (Trace_ELBO, JitTrace_ELBO),
    "meanfield": (TraceMeanField_ELBO, CompiledOnceMeanFieldELBO),
    "stl": (StickingTheLandingELBO, JitStickingTheLandingELBO),
}

OPTIM_CHOICES = {
    # name: torch optimiser, the same classes pyro.optim.Adam/ClippedAdam/SGD wrap
    "auto": torch.optim.Adam,  # with the adaptive step size of vilab.convergence
    "adam": torch.optim.Adam,
    "clipped_adam": ClippedAdam,
    "sgd": torch.optim.SGD,
}


def make_elbo(
    elbo: str | ELBO,
    num_particles: int,
    jit: bool,
    vectorize_particles: bool,
    ignore_jit_warnings: bool = True,
):
    """An ELBO object from a name: "trace" (Trace_ELBO) or "meanfield" (TraceMeanField_ELBO,
    which uses analytic KL terms where it can)."""
    whole_number(
        "num_particles", num_particles, fix="a count of samples per ELBO estimate, e.g. 8."
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
        options["ignore_jit_warnings"] = ignore_jit_warnings
    return cls(**options)


def check_lr(lr) -> float:
    return real_number(
        "The learning rate", lr, positive=True, fix="typical values for Adam are 0.001 to 0.1."
    )


def check_num_steps(num_steps) -> int:
    """``num_steps`` as an int: any whole number (Python, numpy or a one-element tensor, and
    floats such as ``1e4`` that hold one) is accepted; anything else gets a message."""
    value = num_steps
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    count = None
    if not isinstance(value, bool):
        try:
            count = operator.index(value)
        except TypeError:
            if isinstance(value, numbers.Real) and math.isfinite(value) and value == int(value):
                count = int(value)
    if count is None or count < 1:
        hint = (
            f" Fix: round it, e.g. num_steps={max(1, round(value))}."
            if isinstance(value, numbers.Real)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and count is None
            else " Fix: pass a count such as trainer.run(2000)."
        )
        raise ValueError(f"num_steps must be a whole number >= 1, got {num_steps!r}.{hint}")
    return count


def optim_option_names(optim: str) -> set[str]:
    """The options (besides ``lr``) that the optimiser called ``optim`` accepts."""
    accepted = inspect.signature(OPTIM_CHOICES[optim].__init__).parameters
    return set(accepted) - {"self", "params", "lr"}


def make_optim(
    optim: str | pyro.optim.PyroOptim, lr: float, optim_args: dict | None = None, fused=False
):
    """The optimiser called ``optim`` with learning rate ``lr`` and ``optim_args``, as one
    :class:`~vilab.optimiser.SharedOptimiser` for all parameters; a ``pyro.optim`` object is
    used as it is. ``fused=True`` picks torch's fused kernel where the optimiser has one
    (Adam, SGD): the same algorithm, faster, equal to the plain one up to the last bits."""
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
    accepted = optim_option_names(optim)
    unknown = sorted(set(extra) - accepted)
    if unknown:
        hint = " The learning-rate decay lrd belongs to 'clipped_adam'." if "lrd" in unknown else ""
        raise ValueError(
            f"optim_args {unknown} are not options of {optim!r}; it accepts "
            f"{sorted(accepted)}.{hint}"
        )
    options = {"lr": lr, **extra}
    if optim == "auto":  # a shorter memory of the gradients' size: vilab.defaults says why
        options.setdefault("betas", DEFAULT_AUTO_BETAS)
    if fused and "fused" in accepted:
        options.setdefault("fused", True)
    return SharedOptimiser(OPTIM_CHOICES[optim], options)


def set_optim_lr(optim, lr: float) -> None:
    """Change the learning rate of every parameter the optimiser already tracks (and, for
    vilab's own optimisers, of parameters it meets later)."""
    if isinstance(optim, SharedOptimiser):
        optim.set_lr(lr)
        return
    for torch_optim in optim.optim_objs.values():
        for group in torch_optim.param_groups:
            group["lr"] = lr

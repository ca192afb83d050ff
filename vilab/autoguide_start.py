"""Autoguides start from the data: a short MAP warm-up before the first step.

Pyro's autoguides start every latent at the prior's median (or at 0 on the unconstrained
scale), wherever the data put the posterior. On the course's rugged interaction regression
(intercept prior N(0, 10), posterior intercept ~9.2) AutoNormal then spends its first few
hundred steps carrying the intercept across, at Adam's ~``lr`` per step. A few L-BFGS
iterations on the model's log joint find the posterior's mode instead, and the guide starts
there: its locations at the mode, its scales as Pyro set them.

The mode is taken where the guide's locations live: on the unconstrained scale, so the log
joint gets the log-Jacobian of the transform (``sigma = exp(u)``: ``+ u``). Only a start the
student left to Pyro is moved (an autoguide built with its class's default ``init_loc_fn``,
never called before); anything else, and any failure, keeps Pyro's own start, silently:

* the search must end at a maximum: the gradient ~0 and the Hessian negative definite
  (checked exactly, so a model with more than :data:`MAX_LATENT_DIM` latent numbers is left
  alone). A funnel (a hierarchical scale going to 0, the centred eight schools) has none: the
  log joint climbs for ever and the start is kept; so is a saddle (a network's weights at 0);
* subsampled plates (the log joint of a minibatch is not the posterior's) and discrete
  latents are skipped, as is AutoDelta: it is MAP itself, and starting it at the answer would
  leave nothing for the student to watch (its optimum is the mode on the constrained scale,
  not this one, anyway).

Nothing here draws random numbers: the engine calls it off the training's random stream.
"""

from __future__ import annotations

import inspect
import math
import warnings
from dataclasses import dataclass
from functools import partial

import pyro
import pyro.poutine as poutine
import torch
from pyro.infer.autoguide import (
    AutoDiagonalNormal,
    AutoLowRankMultivariateNormal,
    AutoMultivariateNormal,
    AutoNormal,
)
from pyro.infer.autoguide.initialization import InitMessenger
from pyro.poutine.util import site_is_subsample
from torch.distributions import biject_to

from .optimiser import construct_optimizer

# The autoguides whose locations are one Normal's location per latent on the unconstrained
# scale: AutoNormal keeps one per site, the others one packed vector (``guide.loc``).
PER_SITE = (AutoNormal,)
PACKED = (AutoMultivariateNormal, AutoDiagonalNormal, AutoLowRankMultivariateNormal)
MAX_ITER = 50  # L-BFGS iterations (each with its line search): the course's models need 3-45
# The end is a mode when the log joint's Hessian there is negative definite (not a saddle,
# not a funnel's flat climb) and its quadratic model puts the mode less than this many nats
# higher (half the Newton decrement): within ~0.14 posterior sd of it.
GAIN_TOL = 0.01
# The exact Hessian costs a backward pass per latent number: a model with more (a BNN's
# weights) keeps Pyro's start; its start is a question of its own (vilab.exercises.bnn).
MAX_LATENT_DIM = 100


def can_start_at_map(guide) -> bool:
    """Whether ``guide`` is an autoguide this module may move: one of :data:`PER_SITE` or
    :data:`PACKED`, built with its class's default ``init_loc_fn`` and never called yet (so
    its locations are still Pyro's start, and no earlier trainer or student set them)."""
    if not isinstance(guide, PER_SITE + PACKED) or guide.prototype_trace is not None:
        return False
    default = inspect.signature(type(guide).__init__).parameters.get("init_loc_fn")
    return default is not None and _init_loc_fn(guide) is default.default


class NoPosteriorMode(LookupError):
    """The model's log joint is not the posterior's (a latent the guide does not have, a
    minibatch of a plate), so its mode is no start."""


@dataclass
class ModeSearch:
    """What the L-BFGS search found: the log joint (with the log-Jacobian) at the guide's
    start and at the end, the gain L-BFGS still expects from going on, its iterations, and
    the locations (site -> unconstrained value). ``found``: the end is a mode worth starting
    from (finite, above the start, the search stopped by itself with nothing left to gain)."""

    start_value: float
    end_value: float
    expected_gain: float
    num_iter: int
    stalled: bool
    locations: dict

    @property
    def found(self) -> bool:
        return (
            self.stalled
            and math.isfinite(self.end_value)
            and self.end_value > self.start_value
            and all(bool(torch.isfinite(v).all()) for v in self.locations.values())
            and self.expected_gain < GAIN_TOL
        )


def start_at_map(model, guide, args: tuple = (), kwargs: dict | None = None) -> bool:
    """Move a set-up autoguide's locations to the mode of ``model``'s log joint on the
    unconstrained scale; True when it did. Never raises: on anything unexpected (a model
    the conditioned trace cannot run, a mode that is not found) Pyro's start stays."""
    try:
        search = find_mode(model, guide, args, kwargs)
        if search is None or not search.found:
            return False
        _write_locations(guide, search.locations)
        return True
    except Exception:
        return False


def find_mode(model, guide, args: tuple = (), kwargs: dict | None = None) -> ModeSearch | None:
    """Search the mode of ``model``'s log joint for the set-up ``guide``'s latents (None when
    they or the model rule it out: :func:`_latent_sites`, :class:`NoPosteriorMode`). The
    search starts at 0 on the unconstrained scale (AutoNormal's own default start; a median
    of prior draws, the others' default, can put a N(0, 1e4) mean thousands away), or at the
    guide's start where the model gives 0 no density. May raise on a model the conditioned
    trace cannot run."""
    sites = _latent_sites(guide)
    if sites is None:
        return None
    transforms = {name: biject_to(site["fn"].support) for name, site in sites.items()}
    starts = {name: transforms[name].inv(site["value"].detach()) for name, site in sites.items()}
    shapes = {name: start.shape for name, start in starts.items()}
    if sum(shape.numel() for shape in shapes.values()) > MAX_LATENT_DIM:
        return None
    joint = partial(_log_joint, model, args, dict(kwargs or {}), transforms, shapes)
    with warnings.catch_warnings(), torch.enable_grad():
        warnings.simplefilter("ignore")  # the engine's checks report the model's own warnings
        guide_start = torch.cat([start.reshape(-1) for start in starts.values()]).detach()
        try:
            start_value = float(joint(guide_start))
        except NoPosteriorMode:
            return None
        u = torch.zeros_like(guide_start)
        if not math.isfinite(float(joint(u))):
            u = guide_start.clone()
        u.requires_grad_(True)
        options = {"max_iter": MAX_ITER, "max_eval": 2 * MAX_ITER, "line_search_fn": "strong_wolfe"}
        # built as vilab's own optimisers are, without torch's compiler guard: its first call
        # imports the compiler, 1.4 s of a cold Trainer build here
        lbfgs = construct_optimizer(torch.optim.LBFGS, [u], options)
        lbfgs.step(partial(_tamed_loss, joint, u, -float(joint(u))))
        state = lbfgs.state[u]
        end_value, expected_gain = _second_order_check(joint, u.detach())
    return ModeSearch(
        start_value=start_value,
        end_value=end_value,
        expected_gain=expected_gain,
        num_iter=int(state["n_iter"]),
        stalled=state["n_iter"] < MAX_ITER and state["func_evals"] < 2 * MAX_ITER,
        locations=_unflatten(u.detach(), shapes),
    )


def _tamed_loss(joint, u: torch.Tensor, worst: float) -> torch.Tensor:
    """-log joint at ``u``, and its gradient in ``u.grad``, for L-BFGS; above ``worst`` (the
    start's) compressed to ``worst + log(1 + excess)``, and where the model fails or gives no
    finite value, ``worst + 100`` with no gradient. The minimiser is the same, but a line
    search that overshoots into sigma = exp(-24) (-log joint 8e24) or past float32's range
    sees a moderate value and steps back, instead of fitting a cubic to 1e25 and making NaN."""
    try:
        loss = -joint(u)
        (grad,) = torch.autograd.grad(loss, u)
    except Exception:  # e.g. a distribution refusing a NaN or infinite parameter
        loss = grad = None
    if loss is None or not torch.isfinite(loss) or not torch.isfinite(grad).all():
        u.grad = torch.zeros_like(u)
        return u.new_tensor(worst + 100.0)
    excess = float(loss) - worst
    if excess <= 0:
        u.grad = grad
        return loss.detach()
    u.grad = grad / (1 + excess)
    return u.new_tensor(worst + math.log1p(excess))


def _second_order_check(joint, u: torch.Tensor) -> tuple[float, float]:
    """The log joint at ``u`` and half the Newton decrement g' (-H)^-1 g there (how much
    higher the quadratic model puts the mode), from the exact gradient g and Hessian H;
    infinite where -H is not positive definite (a saddle, a valley, a funnel's climb)."""
    u = u.requires_grad_(True)
    value = joint(u)
    (grad,) = torch.autograd.grad(value, u, create_graph=True)
    rows = [torch.autograd.grad(g, u, retain_graph=True)[0] for g in grad]
    curvature = -torch.stack(rows)
    factor, info = torch.linalg.cholesky_ex((curvature + curvature.T) / 2)
    if info != 0 or not torch.isfinite(factor).all():
        return float(value.detach()), math.inf
    step = torch.cholesky_solve(grad.detach().unsqueeze(1), factor).squeeze(1)
    return float(value.detach()), float(grad.detach().dot(step)) / 2


def _latent_sites(guide) -> dict | None:
    """The guide's latent sites (name -> prototype site), or None when the mode would not be
    the posterior's (a subsampled plate) or does not exist (a discrete latent)."""
    trace = guide.prototype_trace
    if trace is None:
        return None
    sites = {}
    for name, site in trace.nodes.items():
        if site["type"] != "sample" or site_is_subsample(site):
            continue
        for frame in site["cond_indep_stack"]:
            if frame.full_size is not None and frame.full_size != frame.size:
                return None
        if site["is_observed"]:
            continue
        if site["fn"].support.is_discrete:
            return None
        sites[name] = site
    return sites or None


def _log_joint(model, args, kwargs, transforms, shapes, flat: torch.Tensor) -> torch.Tensor:
    """log p(data, T(u)) + log |dT/du| for the packed unconstrained vector ``u``."""
    values, log_det = {}, flat.new_zeros(())
    for name, u in _unflatten(flat, shapes).items():
        value = values[name] = transforms[name](u)
        log_det = log_det + transforms[name].log_abs_det_jacobian(u, value).sum()
    trace = poutine.trace(poutine.condition(model, data=values)).get_trace(*args, **kwargs)
    for site in trace.nodes.values():
        if site["type"] != "sample" or site_is_subsample(site):
            continue
        if not site["is_observed"]:
            raise NoPosteriorMode(f"latent {site['name']} is not one of the guide's")
        if any(f.full_size not in (None, f.size) for f in site["cond_indep_stack"]):
            raise NoPosteriorMode(f"site {site['name']} sees a minibatch of its plate")
    return trace.log_prob_sum() + log_det


def _unflatten(flat: torch.Tensor, shapes: dict) -> dict:
    values, pos = {}, 0
    for name, shape in shapes.items():
        size = shape.numel()
        values[name] = flat[pos : pos + size].view(shape)
        pos += size
    return values


def _write_locations(guide, locations: dict) -> None:
    """Copy the mode into the guide's location parameters, in the active parameter store
    (where Pyro's modules read them at their next call)."""
    params = dict(pyro.get_param_store().named_parameters())
    prefix = guide._pyro_name
    with torch.no_grad():
        if isinstance(guide, PER_SITE):
            for name, value in locations.items():
                params[f"{prefix}.locs.{name}"].copy_(value)
        else:
            packed = torch.cat([value.reshape(-1) for value in locations.values()])
            params[f"{prefix}.loc"].copy_(packed)


def _init_loc_fn(guide):
    """The ``init_loc_fn`` the guide was built with: AutoNormal keeps it; the others only
    wrap their model in Pyro's ``InitMessenger`` with it."""
    if hasattr(guide, "init_loc_fn"):
        return guide.init_loc_fn
    wrapped = getattr(guide.model, "func", None)
    messenger = wrapped.args[0] if isinstance(wrapped, partial) and wrapped.args else None
    return messenger.init_fn if isinstance(messenger, InitMessenger) else None

"""Where a distribution lives (its *support*) and whether a guide stays inside the prior's.

A Normal guide on a Gamma latent proposes negative values whose prior density is zero:
the ELBO is -inf (or Pyro refuses the value) as soon as one is drawn. We compare the two
supports as intervals when we can (real, positive, (0, 1), (a, b)...), and otherwise only
flag the clear case of a real-valued guide on a constrained latent.

A guide *narrower* than the prior (a Beta guide on a Normal latent) never fails: it
trains quietly, stuck inside its own set wherever the posterior is; that is a warning.
And a real-valued guide on a bounded latent that puts next to no mass outside the prior's
support (Pyro's Bayesian regression tutorial: Normal(loc, 0.05) on a Uniform(0, 10) sigma)
works until it drifts to the border: a warning that explains the risk, not an error.

Auto guides sample through a ``Delta`` (or a transformed Normal) whose *declared* support
says "real" although the values are transformed into the right set; for those we check
the value actually drawn instead of the declaration, so they never raise a false alarm.
"""

from __future__ import annotations

import math

import torch
import torch.distributions.constraints as tc
from pyro.distributions import Delta, TransformedDistribution
from pyro.distributions.torch_distribution import ExpandedDistribution, MaskedDistribution
from torch.distributions import Independent

from .messages import Diagnostic, describe_site
from .traces import guide_sites, latent_sites


def base_constraint(constraint):
    """``independent(c, n)`` -> ``c``: the event dimensions are the shape check's job; a
    mixture's support is its components' support."""
    wrappers = (tc._IndependentConstraint, getattr(tc, "MixtureSameFamilyConstraint", ()))
    while isinstance(constraint, wrappers):
        constraint = constraint.base_constraint
    return constraint


def is_discrete(constraint) -> bool | None:
    """Whether a constraint is on whole numbers; None for "dependent" ones we cannot tell."""
    try:
        return bool(constraint.is_discrete)
    except (NotImplementedError, AttributeError):
        return None


def _bound(value, pick) -> float:
    if isinstance(value, torch.Tensor):
        return float(pick(value.detach())) if value.numel() else math.nan
    return float(value)


def interval_of(constraint, widest: bool = True) -> tuple[float, float] | None:
    """(lower, upper) closure of a real interval constraint, or None for other kinds.

    Tensor bounds (e.g. ``Uniform(low_vector, high_vector)``) reduce to the widest interval
    (``widest=True``) or the narrowest one.
    """
    c = base_constraint(constraint)
    if is_discrete(c) is not False or isinstance(c, tc._Dependent):
        return None
    lo_pick, hi_pick = (torch.min, torch.max) if widest else (torch.max, torch.min)
    if type(c) is tc._Real:
        return (-math.inf, math.inf)
    if isinstance(c, (tc._GreaterThan, tc._GreaterThanEq)):
        return (_bound(c.lower_bound, lo_pick), math.inf)
    if isinstance(c, tc._LessThan):
        return (-math.inf, _bound(c.upper_bound, hi_pick))
    if isinstance(c, (tc._Interval, tc._HalfOpenInterval)):
        return (_bound(c.lower_bound, lo_pick), _bound(c.upper_bound, hi_pick))
    return None


def within(inner, outer) -> bool | None:
    """Is every value allowed by ``inner`` allowed by ``outer``? None when we cannot tell."""
    a, b = base_constraint(inner), base_constraint(outer)
    a_discrete, b_discrete = is_discrete(a), is_discrete(b)
    if a_discrete is None or b_discrete is None:
        return None
    if a_discrete != b_discrete:
        return False
    if a is b or type(a) is type(b) and interval_of(a) is None:
        return True
    ia, ib = interval_of(a, widest=False), interval_of(b, widest=True)
    if ia is not None and ib is not None:
        if any(math.isnan(x) for x in ia + ib):
            return None
        return ia[0] >= ib[0] and ia[1] <= ib[1]
    if ia == (-math.inf, math.inf):  # a real guide on a simplex, a Cholesky factor...
        return False
    return None


def describe_support(constraint) -> str:
    """The set a distribution lives on, in words."""
    c = base_constraint(constraint)
    if is_discrete(c):
        return f"whole numbers ({c})"
    interval = interval_of(c)
    if interval == (-math.inf, math.inf):
        return "any real number"
    if interval is not None:
        lo, hi = interval
        if hi == math.inf:
            return "positive numbers" if lo == 0 else f"numbers above {lo:g}"
        if lo == -math.inf:
            return f"numbers below {hi:g}"
        return f"numbers between {lo:g} and {hi:g}"
    if isinstance(c, tc._Simplex):
        return "probability vectors (positive, summing to 1)"
    return str(c)


def suggest_guide(constraint) -> str:
    """A guide family living on the same set as the prior."""
    c = base_constraint(constraint)
    interval = interval_of(c)
    if is_discrete(c):
        return (
            "use a discrete guide (dist.Bernoulli / dist.Categorical with learnable probs), "
            "or enumerate the site: infer={'enumerate': 'parallel'} with TraceEnum_ELBO"
        )
    if interval == (-math.inf, math.inf):
        return (
            "use dist.Normal(loc, scale) with constraint=constraints.positive on scale "
            "(or AutoNormal(model))"
        )
    if interval is not None and interval[1] == math.inf:
        return (
            "use a guide on positive numbers, e.g. dist.LogNormal(loc, scale) or "
            "dist.Gamma(alpha_q, beta_q) with constraint=constraints.positive on "
            "alpha_q and beta_q (or AutoNormal, which transforms for you)"
        )
    if interval == (0.0, 1.0):
        return "use dist.Beta(alpha_q, beta_q) with both parameters constrained positive"
    if isinstance(c, tc._Simplex):
        return "use dist.Dirichlet(concentration_q) with constraint=constraints.positive"
    return "use AutoNormal(model), which maps a Normal onto the prior's support for you"


def _unwrap(fn):
    """The distribution behind .to_event / .expand / .mask wrappers."""
    while hasattr(fn, "base_dist") and not isinstance(fn, TransformedDistribution):
        fn = fn.base_dist
    return fn


def family(fn) -> str:
    """The distribution's own name under .to_event / .expand / .mask: "LogNormal", not
    the "Normal" it transforms."""
    while isinstance(fn, (Independent, ExpandedDistribution, MaskedDistribution)):
        fn = fn.base_dist
    return type(fn).__name__


# A real-valued guide whose chance of a draw outside the prior's support is below this
# (per draw, at the initial parameters) gets a warning instead of an error.
RISK_THRESHOLD = 1e-6


def outside_mass(guide_fn, prior_constraint) -> float | None:
    """The guide's largest chance (over its elements) of a draw outside the prior's
    interval, from its cdf; None when the guide has no cdf or the prior is no interval."""
    interval = interval_of(prior_constraint, widest=False)
    fn = guide_fn
    while isinstance(fn, (Independent, ExpandedDistribution, MaskedDistribution)):
        fn = fn.base_dist
    if interval is None or isinstance(fn, TransformedDistribution):
        return None
    lo, hi = interval
    try:
        with torch.no_grad():
            mass = torch.zeros(fn.batch_shape)
            if lo > -math.inf:
                mass = mass + fn.cdf(torch.tensor(lo))
            if hi < math.inf:
                mass = mass + 1 - fn.cdf(torch.tensor(hi))
    except (NotImplementedError, ValueError, RuntimeError, TypeError):
        return None
    return float(mass.max()) if mass.numel() else None


def _value_allowed(model_site) -> bool:
    try:
        allowed = model_site["fn"].support.check(model_site["value"])
    except (NotImplementedError, RuntimeError, TypeError, ValueError):
        return True
    return bool(torch.as_tensor(allowed).all())


def support_mismatch(model_trace, guide_trace) -> list[Diagnostic]:
    """Latent sites where the guide can leave the prior's support (an error, or a warning
    when that is unlikely for now), or cannot reach all of it (a warning)."""
    found = []
    model_sites, guide = model_trace.nodes, guide_sites(guide_trace)
    for name in latent_sites(model_trace):
        if name not in guide:
            continue
        model_fn, guide_fn = model_sites[name]["fn"], guide[name]["fn"]
        try:
            prior, proposal = model_fn.support, guide_fn.support
        except NotImplementedError:
            continue
        declared = within(proposal, prior)
        # Delta and transformed guides declare "real" but draw transformed values.
        trust_declared = not isinstance(_unwrap(guide_fn), (Delta, TransformedDistribution))
        value_allowed = _value_allowed(model_sites[name])
        args = (name, prior, proposal, describe_site(model_sites[name]), guide[name])
        if (declared is False and trust_declared) or not value_allowed:
            mass = outside_mass(guide_fn, prior) if value_allowed else None
            if mass is not None and mass < RISK_THRESHOLD:
                found.append(_risk(*args, mass))
            else:
                found.append(_mismatch(*args))
        elif trust_declared and declared and within(prior, proposal) is False:
            found.append(_narrower(*args))
    return found


def _mismatch(name, prior, proposal, model_text, guide_site) -> Diagnostic:
    return Diagnostic(
        "support-mismatch",
        name,
        f"The prior of {name!r} lives on {describe_support(prior)}, but the guide's "
        f"{family(guide_site['fn'])} proposes {describe_support(proposal)}. Values outside "
        f"the prior's support have zero prior density: the ELBO becomes -inf/NaN, or Pyro "
        f"refuses the value, as soon as the guide draws one.",
        model=model_text + f", support {prior}",
        guide=describe_site(guide_site) + f", support {proposal}",
        fix=suggest_guide(prior) + ".",
    )


def _risk(name, prior, proposal, model_text, guide_site, mass) -> Diagnostic:
    return Diagnostic(
        "support-risk",
        name,
        f"The prior of {name!r} lives on {describe_support(prior)}, but the guide's "
        f"{family(guide_site['fn'])} proposes {describe_support(proposal)}. For now its draws "
        f"stay inside (chance of one outside: {_chance(mass)} per draw), so training can "
        f"run; "
        f"but if its loc drifts towards the border or its scale grows, a draw outside has "
        f"zero prior density and training stops with an error (Pyro's Bayesian regression "
        f"tutorial takes this risk with a small fixed scale).",
        model=model_text + f", support {prior}",
        guide=describe_site(guide_site) + f", support {proposal}",
        fix="to remove the risk, " + suggest_guide(prior) + ".",
    )


def _chance(mass: float) -> str:
    return "below 1e-12" if mass < 1e-12 else f"{mass:.1g}"


def _narrower(name, prior, proposal, model_text, guide_site) -> Diagnostic:
    return Diagnostic(
        "support-narrower",
        name,
        f"The prior of {name!r} lives on {describe_support(prior)}, but the guide's "
        f"{family(guide_site['fn'])} proposes only {describe_support(proposal)}. Training "
        f"runs without error, but the approximate posterior can never leave that set: if "
        f"the data put {name!r} elsewhere, the answer is wrong without any sign.",
        model=model_text + f", support {prior}",
        guide=describe_site(guide_site) + f", support {proposal}",
        fix=f"use a guide on the prior's whole support: {suggest_guide(prior)}.",
    )

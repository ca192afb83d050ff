"""Where a distribution lives (its *support*) and whether a guide stays inside the prior's.

A Normal guide on a Gamma latent proposes negative values whose prior density is zero:
the ELBO is -inf (or Pyro refuses the value) as soon as one is drawn. We compare the two
supports as intervals when we can (real, positive, (0, 1), (a, b)...), and otherwise only
flag the clear case of a real-valued guide on a constrained latent.

Auto guides sample through a ``Delta`` (or a transformed Normal) whose *declared* support
says "real" although the values are transformed into the right set; for those we check
the value actually drawn instead of the declaration, so they never raise a false alarm.
"""

from __future__ import annotations

import math

import torch
import torch.distributions.constraints as tc
from pyro.distributions import Delta, TransformedDistribution

from .messages import Diagnostic, describe_site
from .traces import guide_sites, latent_sites


def base_constraint(constraint):
    """``independent(c, n)`` -> ``c``: the event dimensions are the shape check's job."""
    while isinstance(constraint, tc._IndependentConstraint):
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


def _value_allowed(model_site) -> bool:
    try:
        allowed = model_site["fn"].support.check(model_site["value"])
    except (NotImplementedError, RuntimeError, TypeError, ValueError):
        return True
    return bool(torch.as_tensor(allowed).all())


def support_mismatch(model_trace, guide_trace) -> list[Diagnostic]:
    """Latent sites where the guide can leave the prior's support."""
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
        if (declared is False and trust_declared) or not _value_allowed(model_sites[name]):
            found.append(
                Diagnostic(
                    "support-mismatch",
                    name,
                    f"The prior of {name!r} lives on {describe_support(prior)}, but the "
                    f"guide's {type(_unwrap(guide_fn)).__name__} proposes "
                    f"{describe_support(proposal)}. Values outside the prior's support "
                    f"have zero prior density: the ELBO becomes -inf/NaN, or Pyro refuses "
                    f"the value, as soon as the guide draws one.",
                    model=describe_site(model_sites[name]) + f", support {prior}",
                    guide=describe_site(guide[name]) + f", support {proposal}",
                    fix=suggest_guide(prior) + ".",
                )
            )
    return found

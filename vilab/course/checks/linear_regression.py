"""Answer checks for notebook 03 (Bayesian linear regression, one group at a time): the
likelihood line of the group model and the mean-field guide for one group, the latter
against a short NUTS run.

    from vilab.course.checks import linear_regression as check
    check.model(group_model, args["africa"])
    check.guide(group_guide, args["africa"])
"""

from __future__ import annotations

from ...exercises import linear_regression as exercise
from ...reference import run_nuts
from .guides import check_guide
from .models import check_model

CHECK_STEPS = 600  # the slope is within ~0.02 of NUTS by then (exercise's notes)
# Mean-field cannot show the strong s/b correlation: its sds are much narrower than NUTS's
# (the notebook's lesson), so the check is strict on the means and loose on the sds.
MEAN_TOL, SD_TOL = 0.25, 0.7
NUTS_SHORT = {"num_samples": 150, "warmup_steps": 100, "full_mass": True}
_NUTS: dict[int, tuple] = {}  # id(args) -> (args, moments)


def model(answer, args: tuple) -> object:
    """s ~ N(0, 1), b ~ N(0, 1000), theta ~ Gamma(1, 1); log_gdp_i ~ N(b + s r_i, theta^-1/2)."""
    return check_model("the group model", answer, exercise.group_model, tuple(args))


def _nuts_moments(args: tuple) -> dict:
    if id(args) not in _NUTS or _NUTS[id(args)][0] is not args:
        samples = run_nuts(exercise.group_model, args=tuple(args), seed=0, **NUTS_SHORT)
        moments = {k: (float(v.mean()), float(v.std())) for k, v in samples.items()}
        _NUTS[id(args)] = (args, moments)
    return _NUTS[id(args)][1]


def guide(answer, args: tuple, model=exercise.group_model) -> object:
    """q(s) q(b) q(theta): trained briefly, its means compared with NUTS."""
    return check_guide(
        "the guide for one group",
        answer,
        model,
        tuple(args),
        _nuts_moments(args),
        reference_name="NUTS",
        num_steps=CHECK_STEPS,
        options=exercise.DEFAULT_OPTIONS,
        mean_tol=MEAN_TOL,
        sd_tol=SD_TOL,
    )

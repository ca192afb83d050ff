"""Answer checks for notebook 02 (a Gaussian with unknown mean and precision): the model
and the mean-field guide, the latter against the CAVI optimum.

    from vilab.course.checks import gaussian as check
    check.model(model, x)
    check.guide(guide, x)
"""

from __future__ import annotations

from ...exercises import gaussian as exercise
from .feedback import verdict
from .guides import check_guide
from .models import check_model

# A short, steady run: 128 particles and a slowly decaying lr bring q(gamma)'s sd (the
# slowest part) within ~10% of CAVI in 800 steps (about 2 s).
CHECK_STEPS = 800
CHECK_OPTIONS = {"lr": 0.1, "optim_args": {"lrd": 0.998}, "num_particles": 128}
PARAM_NAMES = ("mu_loc", "mu_scale", "gamma_concentration", "gamma_rate")


def model(answer, x=None) -> object:
    """mu ~ Normal(0, 10000); gamma ~ Gamma(1, 1); x_i ~ Normal(mu, 1/sqrt(gamma))."""
    x = exercise.load_data() if x is None else x
    return check_model("the model of notebook 02", answer, exercise.model, (x,))


def guide(answer, x=None, model=exercise.model) -> object:
    """q(mu) q(gamma) = Normal(mu_loc, mu_scale) Gamma(gamma_concentration, gamma_rate),
    trained briefly and compared with CAVI; the parameter names are those the notebook reads."""
    x = exercise.load_data() if x is None else x
    cavi = exercise.cavi(x).moments()
    options = {**exercise.DEFAULT_OPTIONS, **CHECK_OPTIONS}
    task = "the mean-field guide q(mu) q(gamma)"
    feedback = check_guide(
        task,
        answer,
        model,
        (x,),
        {site: (m["mean"], m["std"]) for site, m in cavi.items()},
        reference_name="CAVI",
        num_steps=CHECK_STEPS,
        options=options,
    )
    if not feedback.done or feedback.problems:
        return feedback
    missing = _missing_params(answer, x)
    if missing:
        return verdict(
            task,
            [
                f"Your guide works, but the cells below read the parameters {list(PARAM_NAMES)};"
                f" yours lack {missing}. Fix: name them so in pyro.param(...)."
            ],
            note=feedback.note,
        )
    return feedback


def _missing_params(answer, x) -> list[str]:
    import pyro.poutine as poutine

    from ...scope import PrivateScope

    with PrivateScope(seed=0):
        trace = poutine.trace(answer).get_trace(x)
    names = {name for name, site in trace.nodes.items() if site["type"] == "param"}
    return [name for name in PARAM_NAMES if name not in names]

"""Answer checks for notebook 06 (probabilistic PCA): the VI guide, q(W) and the local
q(z_n), trained briefly on 1,000 points and compared with the closed-form ML loadings.

    from vilab.course.checks import ppca as check
    check.vi_guide(vi_guide)
"""

from __future__ import annotations

from ...datasets import make_ppca_data
from ...exercises import ppca as exercise
from .feedback import is_blank, not_done, verdict
from .guides import train_briefly

CHECK_POINTS, CHECK_STEPS = 1000, 600
PARAM_NAMES = ("w_loc", "w_scale", "z_loc", "z_scale")
COSINE_MIN, WWT_MAX = 0.99, 0.1  # direction of W, and W W^T within 10% of the closed form


def vi_guide(answer) -> object:
    """q(W) = Normal(w_loc, w_scale) (one event D x K), q(z_n) = Normal(z_loc[n], z_scale[n])."""
    task = "the VI guide q(W) q(z)"
    if is_blank(answer):  # before making the data
        return not_done(task, "guide")
    x = make_ppca_data(CHECK_POINTS, seed=0).x
    kwargs = {
        "latent_dim": exercise.LATENT_DIM,
        "noise_scale": exercise.NOISE_SCALE,
        "w_scale": exercise.W_SCALE,
    }
    trainer, failed = train_briefly(
        task,
        exercise.model,
        answer,
        (x,),
        lambda: exercise.make_trainer(x, answer, seed=0, method="vi", check=False),
        CHECK_STEPS,
        kwargs,
    )
    if failed is not None:
        return failed
    missing = [name for name in PARAM_NAMES if name not in trainer.params()]
    if missing:
        return verdict(
            task,
            [
                f"Your guide trains, but the cells below read the parameters "
                f"{list(PARAM_NAMES)}; yours lack {missing}. Fix: name them so in pyro.param."
            ],
        )
    w_ml = exercise.closed_form_ml(x)
    w = exercise.loadings(trainer)
    cosine = exercise.subspace_cosine(w, w_ml)
    error = exercise.relative_frobenius(w @ w.T, w_ml @ w_ml.T)
    problems = []
    if cosine < COSINE_MIN:
        problems.append(
            f"The direction of q(W)'s mean is off the closed-form W_ML (|cos| = {cosine:.3f}, "
            f"expected > {COSINE_MIN})."
        )
    if error > WWT_MAX:
        problems.append(
            f"W W^T is {100 * error:.0f}% away from the closed form's (expected < "
            f"{100 * WWT_MAX:.0f}% after {CHECK_STEPS} steps)."
        )
    note = (
        f"After {CHECK_STEPS} steps on {CHECK_POINTS} points: |cos| with W_ML = {cosine:.4f}, "
        f"W W^T {100 * error:.1f}% from the closed form."
    )
    return verdict(task, problems, note=note)

"""Answer checks for notebook 07 (factor analysis as a linear VAE): the model's prior of
z_n and its likelihood line, on a few images.

    from vilab.course.checks import factor_analysis as check
    check.model(model, data.x_train)
"""

from __future__ import annotations

from ...exercises import factor_analysis as exercise
from .models import check_model

NUM_IMAGES = 50  # a few images are enough to compare the two models site by site


def model(answer, x) -> object:
    """z_n ~ N(0, I) (one event of size K), x_n ~ N(W z_n + mu, diag(psi)) (one event)."""
    return check_model(
        "the factor analysis model",
        answer,
        exercise.model,
        (x[:NUM_IMAGES],),
        {"latent_dim": exercise.LATENT_DIM},
    )

"""Answer checks for notebook 05 (Bayesian neural network): the weight priors (one site
per weight vector, ``.to_event(1)``) and the learned noise (``sigma ~ HalfNormal(5)``).

    from vilab.course.checks import bnn as check
    check.model(model)            # noise fixed at 1
    check.learned_noise(model)    # noise_scale=None: sigma is a latent variable
"""

from __future__ import annotations

import torch

from ...exercises import bnn_model
from .models import check_model

HIDDEN = 10
X = torch.linspace(-10.0, 10.0, 20)  # a small grid is enough to compare the two models
Y = torch.sin(X)


def model(answer) -> object:
    """w1, b1, w2 ~ Normal(0, 1) as vectors (.to_event(1)), b2 ~ Normal(0, 1), y ~ N(f, 1)."""
    return check_model(
        "the BNN's weight priors",
        answer,
        bnn_model.model,
        (X, Y),
        {"hidden": HIDDEN, "noise_scale": 1.0},
    )


def learned_noise(answer) -> object:
    """With ``noise_scale=None`` the model samples sigma ~ HalfNormal(5) and uses it."""
    return check_model(
        "the learned noise (noise_scale=None)",
        answer,
        bnn_model.model,
        (X, Y),
        {"hidden": HIDDEN, "noise_scale": None},
    )

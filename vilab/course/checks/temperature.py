"""Answer checks for notebook 01 (the temperature and the sensor): the model and the guide.

from vilab.course.checks import temperature as check
check.model(model)
check.guide(guide)
"""

from __future__ import annotations

from ...exercises import temperature as exercise
from .guides import check_guide
from .models import check_model

CHECK_STEPS = 600  # the exercise's options are within ~0.1 of the exact answer by then


def model(answer) -> object:
    """temp ~ Normal(15, 2); sensor ~ Normal(temp, 1), observed."""
    return check_model("the temperature model", answer, exercise.model, (exercise.SENSOR_READING,))


def guide(answer, model=exercise.model) -> object:
    """q(temp) = Normal(a, b), b > 0: trained briefly and compared with the exact posterior."""
    return check_guide(
        "the guide q(temp)",
        answer,
        model,
        (exercise.SENSOR_READING,),
        {"temp": exercise.exact_posterior()},
        reference_name="exact",
        num_steps=CHECK_STEPS,
        options=exercise.DEFAULT_OPTIONS,
    )

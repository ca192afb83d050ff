"""Answer checks of the Day-1 primer: a correct answer, typical wrong answers (messages
pinned) and a blank for each; the blank detector and the reference stand-in."""

from __future__ import annotations

import pyro
import pyro.distributions as dist
import pytest
import torch

from vilab.course.checks import answer_or_reference, is_blank
from vilab.course.checks import primer as check
from vilab.exercises import ice_cream

READINGS = ice_cream.READINGS


def stub_model(sensor):
    mean_temp = pyro.sample("mean_temp", dist.Normal(15.0, 2.0))  # noqa: F841
    # YOUR CODE HERE
    raise NotImplementedError()


def ellipsis_model(sensor):
    rate = ...
    pyro.sample("x", dist.Poisson(rate), obs=sensor)


def slicing_model(sensor):
    pyro.sample("x", dist.Normal(sensor[..., 0], 1.0))


def test_blank_detector():
    assert is_blank(...) and is_blank(stub_model) and is_blank(ellipsis_model)
    assert not is_blank(slicing_model)  # x[..., 0] is code, not a blank
    assert not is_blank(ice_cream.model) and not is_blank(torch.zeros(3))


def test_answer_or_reference_says_when_the_reference_stands_in(capsys):
    assert answer_or_reference(ice_cream.model, None) is ice_cream.model
    assert capsys.readouterr().out == ""
    assert answer_or_reference(stub_model, ice_cream.temperature_model) is (
        ice_cream.temperature_model
    )
    assert capsys.readouterr().out == (
        "Your stub_model is not written yet: the cells below use vilab's temperature_model for "
        "now. Fill it in and run the cells again to train your own.\n"
    )


def test_samples():
    assert check.samples(dist.Normal(20.0, 2.0).sample((1000,))).passed
    feedback = check.samples(dist.Normal(20.0, 4.0).sample((1000, 1)))
    assert feedback.problems == [
        "Your tensor has shape (1000, 1); one call .sample(sample_shape=(1000,)) gives shape "
        "(1000,).",
        f"Their spread is {float(feedback_sd(feedback)):.2f}: you gave the variance 4 as the "
        "scale; Normal takes the standard deviation, 2.",
    ]
    assert check.samples([1.0, 2.0]).problems == [
        "Expected a torch tensor (what .sample(...) returns), got list."
    ]
    assert str(check.samples(...)).startswith(
        "Not done yet: 1000 draws from Normal(20, 2) with sample_shape. Fill in the answer"
    )


def feedback_sd(feedback):
    return float(feedback.problems[1].split()[3].rstrip(":"))


def test_log_prob_total():
    normal = dist.Normal(19.0, 2.0)
    correct = check.log_prob_total(normal.log_prob(READINGS).sum())
    assert str(correct) == (
        "Correct: total log-density of the ten readings under Normal(19, 2). -19.0971, the log "
        "of the product of ten densities."
    )
    assert check.log_prob_total(normal.log_prob(READINGS)).problems == [
        "You have one log-density per reading (shape (10,)): add them up with .sum(), the log "
        "of the product of the densities."
    ]
    variance = dist.Normal(19.0, 4.0).log_prob(READINGS).sum()
    assert check.log_prob_total(variance).problems == [
        "You used the variance 4 as the scale; Normal(19, 2) has standard deviation 2."
    ]
    assert check.log_prob_total(torch.tensor(-3.0)).problems == [
        "Your total is -3.0000; the ten readings under Normal(19, 2) give -19.0971."
    ]
    assert not check.log_prob_total(...).done


def test_event_of_three():
    batch = dist.Normal(torch.tensor([1.0, 2.0, 3.0]), 1.0)
    assert check.event_of_three(batch.to_event(1)).passed
    assert (
        check.event_of_three(batch)
        .problems[0]
        .startswith(
            "Batch shape (3,) and event shape (): three separate distributions. .to_event(1)"
        )
    )
    wrong_means = dist.Normal(torch.zeros(3), 1.0).to_event(1)
    assert check.event_of_three(wrong_means).problems == [
        "Its means are [0.0, 0.0, 0.0]; the task asks for [1, 2, 3]."
    ]
    assert not check.event_of_three(...).done


def plate_model_without_plate(sensor):
    mean_temp = pyro.sample("mean_temp", dist.Normal(15.0, 2.0))
    temp = pyro.sample("temp", dist.Normal(mean_temp, 2.0))
    pyro.sample("sensor", dist.Normal(temp, 1.0), obs=sensor)


def plate_model_with_precision(sensor):
    mean_temp = pyro.sample("mean_temp", dist.Normal(15.0, 0.25))  # 1/2^2: a precision
    with pyro.plate("days", len(sensor)):
        temp = pyro.sample("temp", dist.Normal(mean_temp, 2.0))
        pyro.sample("sensor", dist.Normal(temp, 1.0))  # forgot obs=


def test_temperature_models():
    assert check.temperature_model(ice_cream.temperature_model).passed
    assert check.temperature_model_loop(ice_cream.temperature_model_loop).passed
    assert check.temperature_model(plate_model_without_plate).problems == [
        "'temp' has shape (); the exercise's has (10,). Fix: draw it inside the plate over "
        "the data."
    ]
    assert check.temperature_model(plate_model_with_precision).problems == [
        "'mean_temp': you gave the precision 1/sd^2 = 0.25 as the scale; Normal takes the "
        "standard deviation, 2 (= 1/sqrt(precision)).",
        "'sensor' is data: observe it with obs=... in pyro.sample('sensor', ...).",
    ]
    # the loop model is not the plate model: twenty sites instead of two
    loop_as_plate = check.temperature_model(ice_cream.temperature_model_loop)
    assert loop_as_plate.problems == [
        "'temp' is written as 10 sites 'temp_0' ... 'temp_9': inside pyro.plate one site "
        "'temp' holds them all.",
        "'sensor' is written as 10 sites 'sensor_0' ... 'sensor_9': inside pyro.plate one site "
        "'sensor' holds them all.",
    ]
    assert str(check.temperature_model(stub_model)).startswith(
        "Not done yet: temperature model with pyro.plate. Fill in the model"
    )


def humidity_model_with_mistakes(sensor, sensor_humidity, sales):
    mean_temp = pyro.sample("mean_temp", dist.Normal(15.0, 2.0))
    mean_humidity = pyro.sample("mean_humid", dist.Normal(80.0, 5.0))  # typo in the name
    alpha = pyro.sample("alpha", dist.Normal(0.0, 100.0))
    beta = pyro.sample("beta", dist.Normal(0.0, 100.0))
    pyro.sample("gamma", dist.Normal(0.0, 10.0))  # sqrt of the asked sd
    with pyro.plate("days", len(sensor)):
        temp = pyro.sample("temp", dist.Normal(mean_temp, 2.0))
        pyro.sample("sensor", dist.Normal(temp, 1.0), obs=sensor)
        humidity = pyro.sample("humidity", dist.Normal(mean_humidity, 2.0))
        pyro.sample("sensor_humidity", dist.Normal(humidity, 1.0), obs=sensor_humidity)
        rate = torch.clamp(alpha + beta * temp, min=0.001)  # forgot gamma * humidity
        pyro.sample("sales", dist.Poisson(rate), obs=sales)


def humidity_model_gamma_prior(sensor, sensor_humidity, sales):
    ice_cream.humidity_model(sensor, sensor_humidity, sales)
    pyro.sample("extra", dist.Gamma(2.0, 0.5))


def test_humidity_model():
    assert str(check.humidity_model(ice_cream.humidity_model)) == (
        "Correct: ice-cream shop with humidity. All 10 site names are those of the exercise: "
        "distributions, parameters, shapes and data match too."
    )
    feedback = check.humidity_model(humidity_model_with_mistakes)
    assert feedback.problems[0] == (
        "Your site 'mean_humid' should be named 'mean_humidity': site names must match the "
        "exercise exactly (the guide and the data find variables by name)."
    )
    assert feedback.problems[1] == (
        "'gamma': you gave the scale 10 = sqrt(100); the exercise's 100 is already the "
        "standard deviation."
    )
    assert feedback.problems[2].startswith("'sales': rate is [")
    assert feedback.problems[2].endswith(
        "in the exercise (with the same values of the other variables)."
    )
    assert len(feedback.problems) == 3  # the renamed site is compared under its right name
    assert check.humidity_model(humidity_model_gamma_prior).problems == [
        "Your model has a site 'extra' the exercise does not ask for."
    ]
    assert not check.humidity_model(stub_model).done


def broken_model(sensor, sensor_humidity, sales):
    pyro.sample("mean_temp", dist.Normal(15.0, "two"))


def test_a_crashing_model_is_reported_not_raised():
    feedback = check.humidity_model(broken_model)
    assert feedback.status == "wrong"
    assert feedback.problems[0].startswith("Running your model raised")


def gamma_rate_model(x):
    pyro.sample("precision", dist.Gamma(2.0, 4.0))


def gamma_scale_model(x):
    pyro.sample("precision", dist.Gamma(2.0, 0.25))  # the scale 1/rate


def test_a_scale_where_pyro_wants_the_rate():
    from vilab.course.checks import check_model

    feedback = check_model("gamma prior", gamma_scale_model, gamma_rate_model, (None,))
    assert feedback.problems == [
        "'precision': you gave the scale 1/rate = 0.25; Pyro's Gamma takes the rate, 4."
    ]


@pytest.mark.parametrize("loc, scale, passed", [(19.22, 0.66, True), (18.5, 0.66, False)])
def test_mean_temp_posterior(loc, scale, passed):
    feedback = check.mean_temp_posterior(loc, scale)
    assert feedback.passed is passed
    if not passed:
        assert feedback.problems == [
            "The mean 18.500 is 1.08 posterior sds from the exact 19.222: train longer, or "
            "check the guide reads 'mean_temp'."
        ]

"""Answer checks of notebooks 01-08: a correct answer, typical wrong answers (messages
pinned) and a blank for each; the exercise helpers the notebooks call."""

from __future__ import annotations

import re

import pyro
import pyro.distributions as dist
import torch
from pyro.distributions import constraints

from vilab.course.checks import gaussian as check_gaussian
from vilab.course.checks import temperature as check_temperature
from vilab.exercises import gaussian, temperature


def blank_guide(sensor):
    # YOUR CODE HERE
    raise NotImplementedError()


def guide_with_typo(sensor):
    a = pyro.param("a", torch.tensor(15.0))
    b = pyro.param("b", torch.tensor(1.0), constraint=constraints.positive)
    pyro.sample("tmp", dist.Normal(a, b))


def guide_unconstrained(sensor):
    a = pyro.param("a", torch.tensor(15.0))
    b = pyro.param("b", torch.tensor(1.0))
    pyro.sample("temp", dist.Normal(a, b))


def guide_fixed_scale(sensor):
    a = pyro.param("a", torch.tensor(15.0))
    pyro.sample("temp", dist.Normal(a, 2.0))


def guide_other_names(sensor):
    loc = pyro.param("loc", torch.tensor(15.0))
    scale = pyro.param("scale", torch.tensor(2.0), constraint=constraints.positive)
    pyro.sample("temp", dist.Normal(loc, scale))


def test_temperature_guide_check():
    correct = check_temperature.guide(temperature.guide)
    assert correct.passed and str(correct).startswith(
        "Correct: the guide q(temp). After 600 steps, q(temp) mean 17.4"
    )
    assert check_temperature.guide(guide_other_names).passed  # names of params are free
    assert check_temperature.guide(guide_with_typo).problems == [
        "The guide samples 'tmp', but the model has no site of that name. Fix: rename the "
        "guide's site to 'temp': pyro.sample('temp', ...)."
    ]
    assert check_temperature.guide(guide_unconstrained).problems == [
        "The parameter 'b' is the scale of the Normal at 'temp', which only accept positive "
        "numbers, but 'b' was declared without a constraint. Fix: pyro.param('b', "
        "torch.tensor(1.0), constraint=constraints.positive)  (from pyro.distributions import "
        "constraints)."
    ]
    fixed = check_temperature.guide(guide_fixed_scale)
    assert len(fixed.problems) == 1
    assert re.fullmatch(  # sd 2 where the posterior's is 0.894 (draws: last digits vary)
        r"q\(temp\) has sd (1\.9|2\.0)\d\d; the exact posterior's is 0\.894 \(1[12]\d% away\)\.",
        fixed.problems[0],
    )
    assert str(check_temperature.guide(blank_guide)).startswith(
        "Not done yet: the guide q(temp). Fill in the guide"
    )


def model_with_variance(sensor):
    temp = pyro.sample("temp", dist.Normal(15.0, 4.0))
    pyro.sample("sensor", dist.Normal(temp, 1.0), obs=sensor)


def test_temperature_model_check():
    assert check_temperature.model(temperature.model).passed
    assert check_temperature.model(model_with_variance).problems == [
        "'temp': you gave the variance 4 as the scale; Normal takes the standard deviation, 2."
    ]
    assert not check_temperature.model(blank_guide).done


def test_temperature_helpers_take_the_reading():
    trainer = temperature.make_trainer(data=25.0, guide=guide_other_names, model=temperature.model)
    assert temperature.reading_of(trainer) == 25.0
    trainer.run(600, progress=False)
    mean, sd = temperature.vi_posterior(trainer)  # from draws: this guide has no "a"/"b"
    exact_mean, exact_sd = temperature.exact_posterior(25.0)
    assert exact_mean == 23.0 and abs(mean - exact_mean) < 0.3 and abs(sd - exact_sd) < 0.15
    ax = temperature.plots.plot_posterior(mean, sd, sensor=25.0)
    assert ax.get_title() == "Posterior of the temperature given sensor = 25.0"
    assert any("exact posterior N(23.00" in text.get_text() for text in ax.get_legend().texts)


# -- notebook 02: the simple Gaussian ---------------------------------------------------------


def gaussian_model_variance_and_precision(x):
    mu = pyro.sample("mu", dist.Normal(0.0, 1e-8))  # the prior precision, not its sd
    gamma = pyro.sample("gamma", dist.Gamma(1.0, 1.0))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(mu, 1.0 / gamma), obs=x)  # the variance, not the sd


def gaussian_model_gamma_scale(x):
    mu = pyro.sample("mu", dist.Normal(0.0, 10000.0))
    gamma = pyro.sample("gamma", dist.Gamma(1.0, 0.5))  # a different prior
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(mu, 1.0 / gamma.sqrt()), obs=x)


def gaussian_guide_other_names(x):
    m = pyro.param("m", torch.tensor(0.0))
    s = pyro.param("s", torch.tensor(1.0), constraint=constraints.positive)
    c = pyro.param("c", torch.tensor(1.0), constraint=constraints.positive)
    r = pyro.param("r", torch.tensor(1.0), constraint=constraints.positive)
    pyro.sample("mu", dist.Normal(m, s))
    pyro.sample("gamma", dist.Gamma(c, r))


def gaussian_guide_normal_on_gamma(x):
    m = pyro.param("mu_loc", torch.tensor(0.0))
    s = pyro.param("mu_scale", torch.tensor(1.0), constraint=constraints.positive)
    pyro.sample("mu", dist.Normal(m, s))
    pyro.sample("gamma", dist.Normal(1.0, 0.5))


def test_gaussian_model_check():
    assert check_gaussian.model(gaussian.model).passed
    assert check_gaussian.model(gaussian_model_variance_and_precision).problems == [
        "'mu': you gave the precision 1/sd^2 = 1e-08 as the scale; Normal takes the standard "
        "deviation, 1e+04 (= 1/sqrt(precision)).",
        "'x': you gave the variance 2.2 as the scale; Normal takes the standard deviation, 1.483.",
    ]
    assert check_gaussian.model(gaussian_model_gamma_scale).problems == [
        "'gamma' ~ Gamma: its rate is 0.5; the exercise asks for 1."
    ]
    assert not check_gaussian.model(blank_guide).done


def test_gaussian_guide_check():
    correct = check_gaussian.guide(gaussian.guide)
    assert correct.passed, str(correct)
    assert "(CAVI: 5.037, 0.103)" in str(correct)
    assert check_gaussian.guide(gaussian_guide_other_names).problems == [
        "Your guide works, but the cells below read the parameters ['mu_loc', 'mu_scale', "
        "'gamma_concentration', 'gamma_rate']; yours lack ['mu_loc', 'mu_scale', "
        "'gamma_concentration', 'gamma_rate']. Fix: name them so in pyro.param(...)."
    ]
    assert (
        check_gaussian.guide(gaussian_guide_normal_on_gamma)
        .problems[0]
        .startswith("The prior of 'gamma' ")
    )
    assert not check_gaussian.guide(blank_guide).done


# -- notebook 04: logistic regression (real data) ---------------------------------------------


def logistic_model_mistakes(x, y=None):
    intercept = pyro.sample("intercept", dist.Normal(0.0, 1000.0))  # the 2021 course's prior
    w_rugged = pyro.sample("w_rugged", dist.Normal(0.0, 2.5))
    w_gdp = pyro.sample("w_gdp", dist.Normal(0.0, 2.5))
    logits = intercept + w_rugged * x[:, 0] + w_gdp * x[:, 1]
    with pyro.plate("countries", len(x)):
        pyro.sample("africa", dist.Bernoulli(torch.sigmoid(logits)), obs=y)  # probs: fine


def logistic_model_no_obs(x, y=None):
    intercept = pyro.sample("intercept", dist.Normal(0.0, 2.5))
    w_rugged = pyro.sample("w_rugged", dist.Normal(0.0, 2.5))
    w_gdp = pyro.sample("w_gdp", dist.Normal(0.0, 2.5))
    with pyro.plate("countries", len(x)):
        logits = intercept + w_rugged * x[:, 0] + w_gdp * x[:, 1]
        pyro.sample("africa", dist.Bernoulli(logits=logits))


def logistic_guide_one_site_missing(x, y=None):
    for name in ["intercept", "w_rugged"]:
        loc = pyro.param(f"{name}_loc", torch.tensor(0.0))
        scale = pyro.param(f"{name}_scale", torch.tensor(0.1), constraint=constraints.positive)
        pyro.sample(name, dist.Normal(loc, scale))


def test_logistic_checks(shared_data):
    from vilab.course.checks import logistic_regression as check
    from vilab.exercises import logistic_regression

    data = logistic_regression.make_data()
    assert check.model(logistic_regression.model, data).passed
    assert check.model(logistic_model_mistakes, data).problems == [
        "'intercept' ~ Normal: its scale is 1000; the exercise asks for 2.5."
    ]
    assert check.model(logistic_model_no_obs, data).problems == [
        "'africa' is data: observe it with obs=... in pyro.sample('africa', ...)."
    ]
    assert not check.model(blank_guide, data).done
    correct = check.guide(logistic_regression.guide, data)
    assert correct.passed and "(NUTS: " in str(correct)
    assert check.guide(logistic_guide_one_site_missing, data).problems == [
        "The model samples 'w_gdp' but the guide does not. Fix: add pyro.sample('w_gdp', ...) "
        "to the guide, spelt exactly as in the model."
    ]
    assert not check.guide(blank_guide, data).done


# -- notebook 03: linear regression, one group (real data) -------------------------------------


def group_model_variance(rugged, log_gdp=None):
    s = pyro.sample("s", dist.Normal(0.0, 1.0))
    b = pyro.sample("b", dist.Normal(0.0, 1000.0))
    theta = pyro.sample("theta", dist.Gamma(1.0, 1.0))
    with pyro.plate("data", rugged.shape[0]):
        pyro.sample("obs", dist.Normal(b + s * rugged, 1 / theta), obs=log_gdp)


def group_guide_normal_theta(rugged, log_gdp=None):
    for name in ("s", "b", "theta"):
        loc = pyro.param(f"{name}_loc", torch.tensor(1.0))
        scale = pyro.param(f"{name}_scale", torch.tensor(0.1), constraint=constraints.positive)
        pyro.sample(name, dist.Normal(loc, scale))


def test_linear_regression_checks(shared_data):
    from vilab.course.checks import linear_regression as check
    from vilab.datasets import load_rugged
    from vilab.exercises import linear_regression

    args = linear_regression.model_args("africa", load_rugged())
    assert check.model(linear_regression.group_model, args).passed
    problems = check.model(group_model_variance, args).problems
    assert len(problems) == 1 and problems[0].startswith("'obs': you gave the variance ")
    assert problems[0].endswith("as the scale; Normal takes the standard deviation, 0.8956.")
    correct = check.guide(linear_regression.group_guide, args)
    assert correct.passed and "(NUTS: " in str(correct)
    assert (
        check.guide(group_guide_normal_theta, args).problems[0].startswith("The prior of 'theta' ")
    )
    assert not check.guide(blank_guide, args).done
    assert not check.model(blank_guide, args).done


# -- notebook 05: the BNN's priors and learned noise -------------------------------------------


def bnn_model_mistakes(x, y=None, hidden=50, noise_scale=1.0):
    from vilab.exercises.bnn_model import mean_function

    w1 = pyro.sample("w1", dist.Normal(0.0, 1.0).expand([hidden]))  # no .to_event(1)
    b1 = pyro.sample("b1", dist.Normal(0.0, 1.0).expand([hidden]).to_event(1))
    w2 = pyro.sample("w2", dist.Normal(0.0, 1.0).expand([hidden]).to_event(1))
    b2 = pyro.sample("b2", dist.Normal(0.0, 1.0))
    if noise_scale is None:
        pyro.sample("sigma", dist.HalfNormal(5.0))  # learned, then forgotten below
    f = pyro.deterministic("f", mean_function(x, w1, b1, w2, b2))
    with pyro.plate("data", x.shape[0]):
        pyro.sample("y", dist.Normal(f, 1.0), obs=y)  # sigma learned but not used


def test_bnn_checks():
    from vilab.course.checks import bnn as check
    from vilab.exercises import bnn_model

    assert check.model(bnn_model.model).passed and check.learned_noise(bnn_model.model).passed
    assert check.model(bnn_model_mistakes).problems == [
        "'w1' has batch shape (10,) and event shape (); the exercise has batch (), event (10,). "
        "Fix: .to_event(1) makes the last 1 dims one event."
    ]
    problems = check.learned_noise(bnn_model_mistakes).problems
    assert problems[1].startswith("'y': scale is 1 in your model, ")
    assert not check.model(blank_guide).done and not check.learned_noise(blank_guide).done


# -- notebook 06: the PPCA VI guide ---------------------------------------------------------


def ppca_guide(x, latent_dim=1, noise_scale=0.5, w_scale=2.0, z_event_dims=1, w_event_dims=2):
    num_points, data_dim = x.shape
    w_loc = pyro.param("w_loc", lambda: 0.1 * torch.randn(data_dim, latent_dim))
    w_sd = pyro.param(
        "w_scale",
        lambda: torch.full((data_dim, latent_dim), 0.1),
        constraint=constraints.positive,
    )
    w_q = dist.Normal(w_loc, w_sd)
    pyro.sample("w", w_q.to_event(w_event_dims) if w_event_dims else w_q)
    z_loc = pyro.param("z_loc", lambda: 0.1 * torch.randn(num_points, latent_dim))
    z_sd = pyro.param(
        "z_scale",
        lambda: torch.full((num_points, latent_dim), 0.5),
        constraint=constraints.positive,
    )
    if z_event_dims == 2:  # forgot the plate: the points are one event
        pyro.sample("z", dist.Normal(z_loc, z_sd).to_event(2))
        return
    with pyro.plate("data", num_points):
        pyro.sample("z", dist.Normal(z_loc, z_sd).to_event(1))


def test_ppca_guide_check():
    import functools

    from vilab.course.checks import ppca as check

    correct = check.vi_guide(ppca_guide)
    assert correct.passed and "|cos| with W_ML = 1.0000" in str(correct)
    assert check.vi_guide(functools.partial(ppca_guide, z_event_dims=2)).problems == [
        "'z' has the right total shape (1000, 1), but the guide groups 1 more dimension(s) into "
        "one event than the model does. Fix: use the same .to_event(...) as the model, or put "
        "the guide's site in the same pyro.plate as the model's."
    ]
    no_event = check.vi_guide(functools.partial(ppca_guide, w_event_dims=0)).problems
    assert no_event[0].startswith("'w' has the right total shape (2, 1), but the model treats")
    assert not check.vi_guide(blank_guide).done


# -- notebook 07: the factor analysis model (real data) -------------------------------------


def fa_model(x, latent_dim=2, event=True, sd=True):
    num_points, data_dim = x.shape
    w = pyro.param("w", lambda: 0.01 * torch.randn(data_dim, latent_dim))
    mu = pyro.param("mu", lambda: x.mean(0))
    psi = pyro.param(
        "psi", lambda: x.var(0).clamp(min=1e-3), constraint=constraints.greater_than(1e-4)
    )
    with pyro.plate("data", num_points):
        z = pyro.sample("z", dist.Normal(0.0, 1.0).expand([latent_dim]).to_event(1))
        likelihood = dist.Normal(z @ w.T + mu, psi.sqrt() if sd else psi)
        pyro.sample("x", likelihood.to_event(1) if event else likelihood, obs=x)


def test_factor_analysis_checks(shared_data):
    import functools

    from vilab.course.checks import factor_analysis as check
    from vilab.exercises import factor_analysis as fa

    x = fa.load_data(smoke=True).x_train
    assert check.model(fa.model, x).passed and check.model(fa_model, x).passed
    variance = check.model(functools.partial(fa_model, sd=False), x).problems
    assert len(variance) == 1
    assert variance[0].startswith("'x': you gave the variance [")
    assert check.model(functools.partial(fa_model, event=False), x).problems == [
        "Running your model raised ValueError: Shape mismatch inside plate('data') at site x "
        "dim -1, 50 vs 784. A site holding a vector per data point needs .to_event(1) inside "
        "the plate (otherwise Pyro reads the vector's entries as more data points)."
    ]
    assert not check.model(blank_guide, x).done


# -- notebook 08: a better encoder and decoder -----------------------------------------------


class TwoLayerEncoder(torch.nn.Module):
    def __init__(self, z_dim=2, positive=True):
        super().__init__()
        self.hidden = torch.nn.Sequential(
            torch.nn.Linear(784, 32), torch.nn.ReLU(), torch.nn.Linear(32, 16), torch.nn.ReLU()
        )
        self.loc, self.scale, self.positive = (
            torch.nn.Linear(16, z_dim),
            torch.nn.Linear(16, z_dim),
            positive,
        )

    def forward(self, x):
        hidden = self.hidden(x)
        scale = self.scale(hidden)
        return self.loc(hidden), torch.nn.functional.softplus(scale) if self.positive else scale


class TwoLayerDecoder(torch.nn.Module):
    def __init__(self, z_dim=2, sigmoid=False):
        super().__init__()
        self.sigmoid = sigmoid
        self.layers = torch.nn.Sequential(
            torch.nn.Linear(z_dim, 16),
            torch.nn.ReLU(),
            torch.nn.Linear(16, 32),
            torch.nn.ReLU(),
            torch.nn.Linear(32, 784),
        )

    def forward(self, z):
        logits = self.layers(z)
        return torch.sigmoid(logits) if self.sigmoid else logits


class BlankDecoder(torch.nn.Module):
    def __init__(self, z_dim=2):
        super().__init__()
        # YOUR CODE HERE
        raise NotImplementedError()


def test_vae_network_checks():
    from vilab.course.checks import vae as check
    from vilab.exercises.vae_networks import Decoder, Encoder

    assert check.encoder(TwoLayerEncoder).passed and check.decoder(TwoLayerDecoder).passed
    assert check.encoder(Encoder).problems == [
        "Your encoder has 1 hidden layer(s); the task asks for at least 2 (e.g. 784 -> 256 -> "
        "64, then the loc and scale heads)."
    ]
    assert (
        check.encoder(TwoLayerEncoder(positive=False))
        .problems[0]
        .startswith("Some scales are <= 0: a standard deviation must be positive.")
    )
    assert check.decoder(TwoLayerDecoder(sigmoid=True)).problems == [
        "All outputs lie in [0, 1]: these look like probabilities (a final sigmoid). The model "
        "uses Bernoulli(logits=decoder(z)): return the logits, without the sigmoid."
    ]
    assert check.decoder(Decoder).problems[0].startswith("Your decoder has 1 hidden layer(s)")
    assert not check.decoder(BlankDecoder).done and not check.encoder(...).done

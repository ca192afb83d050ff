"""The catalogue of classic student mistakes, one broken model/guide per diagnostic, and
the correct course models, which must pass without a single diagnostic.

Each broken case pins the code, the site and the fix hint of its message, both from
``vilab.checks.check`` (plain Pyro) and from the Trainer (raise or warn).
"""

from __future__ import annotations

import re
import warnings

import pyro
import pyro.distributions as dist
import pytest
import torch
import torch.nn as nn
from pyro.distributions import constraints
from pyro.infer import config_enumerate
from pyro.infer.autoguide import AutoDelta, AutoDiagonalNormal, AutoMultivariateNormal, AutoNormal

from vilab import ModelGuideMismatch, Trainer
from vilab.checks import DivergenceWatch, VilabWarning, check, diagnose
from vilab.exercises import temperature

N = 100
X = torch.randn(N, generator=torch.Generator().manual_seed(1)) * 2 + 3
COIN = torch.tensor([1.0, 0.0, 1.0, 1.0, 0.0, 1.0])
# the tutorial's data shape: continent flag, ruggedness, log GDP (synthetic here)
RA = (torch.arange(40) % 2).float()
RR = torch.linspace(0.0, 4.0, 40)
RY = (
    9.0
    - 0.2 * RR
    + RA * (0.4 * RR - 1.0)
    + 0.1 * torch.randn(40, generator=torch.Generator().manual_seed(4))
)


# -- the simple Gaussian of the course, right ------------------------------------------------


def gauss_model(x):
    """mu ~ N(0, 10000), gamma ~ Gamma(1, 1), x_i ~ N(mu, 1/sqrt(gamma))."""
    mu = pyro.sample("mu", dist.Normal(0.0, 10000.0))
    gamma = pyro.sample("gamma", dist.Gamma(1.0, 1.0))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(mu, 1 / gamma.sqrt()), obs=x)


def gauss_guide(x):
    loc = pyro.param("loc", torch.tensor(0.0))
    scale = pyro.param("scale", torch.tensor(1.0), constraint=constraints.positive)
    pyro.sample("mu", dist.Normal(loc, scale))
    alpha = pyro.param("alpha", torch.tensor(1.0), constraint=constraints.positive)
    beta = pyro.param("beta", torch.tensor(1.0), constraint=constraints.positive)
    pyro.sample("gamma", dist.Gamma(alpha, beta))


# -- and broken, one mistake at a time -----------------------------------------------------------


def guide_without_gamma(x):
    loc = pyro.param("loc", torch.tensor(0.0))
    scale = pyro.param("scale", torch.tensor(1.0), constraint=constraints.positive)
    pyro.sample("mu", dist.Normal(loc, scale))


def guide_with_typo(x):
    guide_without_gamma(x)
    alpha = pyro.param("alpha", torch.tensor(1.0), constraint=constraints.positive)
    pyro.sample("gama", dist.Gamma(alpha, alpha))


def guide_sampling_data(x):
    gauss_guide(x)
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(0.0, 1.0))


def guide_without_args():
    gauss_guide(None)


def guide_normal_on_precision(x):
    guide_without_gamma(x)
    a = pyro.param("gamma_loc", torch.tensor(1.0))
    b = pyro.param("gamma_scale", torch.tensor(0.1), constraint=constraints.positive)
    pyro.sample("gamma", dist.Normal(a, b))


def guide_normal_wide_on_precision(x):
    guide_without_gamma(x)
    a = pyro.param("gamma_loc", torch.tensor(0.5))
    b = pyro.param("gamma_scale", torch.tensor(1.0), constraint=constraints.positive)
    pyro.sample("gamma", dist.Normal(a, b))  # a third of its mass is negative


def guide_beta_on_mean(x):
    alpha = pyro.param("mu_alpha", torch.tensor(2.0), constraint=constraints.positive)
    beta = pyro.param("mu_beta", torch.tensor(2.0), constraint=constraints.positive)
    pyro.sample("mu", dist.Beta(alpha, beta))  # mu's posterior mean is about 3
    conc = pyro.param("alpha", torch.tensor(1.0), constraint=constraints.positive)
    pyro.sample("gamma", dist.Gamma(conc, conc))


def coin_model(flips):
    p = pyro.sample("p", dist.Beta(2.0, 2.0))
    with pyro.plate("flips", len(flips)):
        pyro.sample("flip", dist.Bernoulli(p), obs=flips)


def coin_guide_lognormal(flips):
    loc = pyro.param("p_loc", torch.tensor(-1.0))
    pyro.sample("p", dist.LogNormal(loc, 1.0))


def tutorial_model(is_cont_africa, ruggedness, log_gdp):
    """Pyro's Bayesian regression tutorial (part I), with its Uniform(0, 10) sigma."""
    a = pyro.sample("a", dist.Normal(0.0, 10.0))
    b_a = pyro.sample("bA", dist.Normal(0.0, 1.0))
    b_r = pyro.sample("bR", dist.Normal(0.0, 1.0))
    b_ar = pyro.sample("bAR", dist.Normal(0.0, 1.0))
    sigma = pyro.sample("sigma", dist.Uniform(0.0, 10.0))
    mean = a + b_a * is_cont_africa + b_r * ruggedness + b_ar * is_cont_africa * ruggedness
    with pyro.plate("data", len(ruggedness)):
        pyro.sample("obs", dist.Normal(mean, sigma), obs=log_gdp)


def tutorial_guide(is_cont_africa, ruggedness, log_gdp):
    """The tutorial's own guide: a Normal with a fixed scale 0.05 on sigma."""
    a_loc = pyro.param("a_loc", torch.tensor(0.0))
    a_scale = pyro.param("a_scale", torch.tensor(1.0), constraint=constraints.positive)
    sigma_loc = pyro.param("sigma_loc", torch.tensor(1.0), constraint=constraints.positive)
    weights_loc = pyro.param("weights_loc", torch.zeros(3))
    weights_scale = pyro.param("weights_scale", torch.ones(3), constraint=constraints.positive)
    pyro.sample("a", dist.Normal(a_loc, a_scale))
    pyro.sample("bA", dist.Normal(weights_loc[0], weights_scale[0]))
    pyro.sample("bR", dist.Normal(weights_loc[1], weights_scale[1]))
    pyro.sample("bAR", dist.Normal(weights_loc[2], weights_scale[2]))
    pyro.sample("sigma", dist.Normal(sigma_loc, torch.tensor(0.05)))


def empty_model(x): ...


def empty_guide(x): ...


def guide_without_params(x):
    pyro.sample("mu", dist.Normal(0.0, 1.0))
    pyro.sample("gamma", dist.Gamma(1.0, 1.0))


def guide_unconstrained_scale(x):
    loc = pyro.param("loc", torch.tensor(0.0))
    scale = pyro.param("scale", torch.tensor(1.0))  # no constraint
    pyro.sample("mu", dist.Normal(loc, scale))
    alpha = pyro.param("alpha", torch.tensor(1.0), constraint=constraints.positive)
    pyro.sample("gamma", dist.Gamma(alpha, alpha))


def model_without_plate(x):
    mu = pyro.sample("mu", dist.Normal(0.0, 10000.0))
    gamma = pyro.sample("gamma", dist.Gamma(1.0, 1.0))
    pyro.sample("x", dist.Normal(mu, 1 / gamma.sqrt()), obs=x)


def model_plate_fixed_size(x):
    mu = pyro.sample("mu", dist.Normal(0.0, 10000.0))
    gamma = pyro.sample("gamma", dist.Gamma(1.0, 1.0))
    with pyro.plate("data", 50):  # the data have 100 points
        pyro.sample("x", dist.Normal(mu, 1 / gamma.sqrt()), obs=x)


def model_subsample_not_indexed(x):
    mu = pyro.sample("mu", dist.Normal(0.0, 10000.0))
    gamma = pyro.sample("gamma", dist.Gamma(1.0, 1.0))
    with pyro.plate("data", len(x), subsample_size=10):
        pyro.sample("x", dist.Normal(mu, 1 / gamma.sqrt()), obs=x)  # should be x[idx]


def vector_model(x):
    w = pyro.sample("w", dist.Normal(torch.zeros(3), 1.0).to_event(1))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(w.sum(-1), 1.0), obs=x)


def vector_guide_without_to_event(x):
    loc = pyro.param("w_loc", torch.zeros(3))
    scale = pyro.param("w_scale", torch.ones(3), constraint=constraints.positive)
    pyro.sample("w", dist.Normal(loc, scale))  # missing .to_event(1)


def local_model(x):
    with pyro.plate("data", len(x)):
        z = pyro.sample("z", dist.Normal(0.0, 1.0))
        pyro.sample("x", dist.Normal(z, 1.0), obs=x)


def local_guide_outside_plate(x):
    loc = pyro.param("z_loc", torch.tensor(0.0))
    pyro.sample("z", dist.Normal(loc, 1.0))  # one z for all points, outside the plate


BROKEN = {
    # id: (model, guide, args, expected codes, regex on the diagnostic of the first code)
    "1-missing-latent": (
        gauss_model,
        guide_without_gamma,
        (X,),
        ["missing-guide-site"],
        r"at 'gamma'.*silently draws 'gamma' from its prior.*fix: *add pyro.sample\('gamma'",
    ),
    "2-typo": (
        gauss_model,
        guide_with_typo,
        (X,),
        ["unknown-guide-site", "missing-guide-site"],
        r"at 'gama'.*Did you mean 'gamma'.*rename the guide's site to 'gamma'",
    ),
    "3-guide-samples-data": (
        gauss_model,
        guide_sampling_data,
        (X,),
        ["guide-samples-observed"],
        r"at 'x'.*observed data.*remove pyro.sample\('x', \.\.\.\) from the guide",
    ),
    "4-signature": (
        gauss_model,
        guide_without_args,
        (X,),
        ["signature-mismatch"],
        r"same arguments.*model: def model\(x\).*guide:  *def guide\(\)",
    ),
    "5-missing-to-event": (
        vector_model,
        vector_guide_without_to_event,
        (X,),
        ["shape-mismatch"],
        r"at 'w'.*\(3,\).*fix:.*pyro.sample\('w', dist.Normal\(loc, scale\).to_event\(1\)\)",
    ),
    "5-local-outside-plate": (
        local_model,
        local_guide_outside_plate,
        (X,),
        ["shape-mismatch"],
        r"at 'z'.*shape \(100,\) but the guide's has \(\).*same pyro.plate",
    ),
    "6-normal-on-precision": (
        gauss_model,
        guide_normal_wide_on_precision,
        (X,),
        ["support-mismatch"],
        r"at 'gamma'.*positive numbers.*Normal proposes any real number.*dist.LogNormal",
    ),
    "6-normal-on-precision-narrow": (
        gauss_model,
        guide_normal_on_precision,
        (X,),
        ["support-risk"],
        r"at 'gamma'.*positive numbers.*Normal proposes any real number.*draws stay inside "
        r"\(chance of one outside: below 1e-12.*training stops.*remove the risk.*dist.LogNormal",
    ),
    "6-tutorial-regression-sigma": (
        tutorial_model,
        tutorial_guide,
        (RA, RR, RY),
        ["support-risk"],
        r"at 'sigma'.*between 0 and 10.*Normal proposes any real number.*Bayesian regression "
        r"tutorial.*fix: *to remove the risk, use AutoNormal",
    ),
    "6-beta-on-normal": (
        gauss_model,
        guide_beta_on_mean,
        (X,),
        ["support-narrower"],
        r"at 'mu'.*any real number.*Beta proposes only numbers between 0 and 1.*can never leave"
        r".*fix: *.*dist.Normal\(loc, scale\) with constraint=constraints.positive on scale",
    ),
    "6-lognormal-on-probability": (
        coin_model,
        coin_guide_lognormal,
        (COIN,),
        ["support-mismatch"],
        r"at 'p'.*between 0 and 1, but the guide's LogNormal proposes positive numbers"
        r".*dist.Beta",
    ),
    "13-empty-bodies": (
        empty_model,
        empty_guide,
        (X,),
        ["empty-model"],
        r"The model samples nothing.*still be `\.\.\.`.*guide samples nothing"
        r".*fix: *write the model",
    ),
    "13-nothing-to-train": (
        gauss_model,
        guide_without_params,
        (X,),
        ["nothing-to-train"],
        r"Neither the guide nor the model declares a parameter.*pyro.param\('loc'",
    ),
    "7-unconstrained-scale": (
        gauss_model,
        guide_unconstrained_scale,
        (X,),
        ["unconstrained-scale"],
        r"at 'scale'.*scale of the Normal at 'mu'.*"
        r"pyro.param\('scale', torch.tensor\(1.0\), constraint=constraints.positive\)",
    ),
    "8-missing-plate": (
        model_without_plate,
        gauss_guide,
        (X,),
        ["missing-plate"],
        r"at 'x'.*100 data points.*no pyro.plate.*with pyro.plate\(\"data\", 100\)",
    ),
    "8-plate-size": (
        model_plate_fixed_size,
        gauss_guide,
        (X,),
        ["plate-size-mismatch"],
        r"at 'x'.*declares 50 points.*have 100.*pyro.plate\('data', len\(x\)\)",
    ),
    "8-column-vector-data": (
        gauss_model,
        gauss_guide,
        (X.unsqueeze(-1),),
        ["data-broadcast"],
        r"at 'x'.*\(100, 1\).*broadcasts them to \(100, 100\).*y = y.reshape\(-1\)",
    ),
    "9-subsample-not-indexed": (
        model_subsample_not_indexed,
        gauss_guide,
        (X,),
        ["subsample-not-indexed"],
        r"at 'x'.*subsamples 10 of 100.*obs=x\[idx\]",
    ),
    "12-int-data": (
        gauss_model,
        gauss_guide,
        (torch.arange(N),),
        ["data-dtype"],
        r"at 'x'.*whole numbers \(torch.int64\).*obs=y.to\(torch.float32\)",
    ),
    "12-float64-data": (
        gauss_model,
        gauss_guide,
        (X.double(),),
        ["data-dtype"],
        r"at 'args\[0\]'.*torch.float64.*x = x.to\(torch.float32\)",
    ),
}


def _codes(found):
    return sorted(d.code for d in found)


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_check_names_the_mistake(case):
    model, guide, args, codes, pattern = BROKEN[case]
    found = check(model, guide, *args)
    assert _codes(found) == sorted(codes), str(found)
    first = next(d for d in found if d.code == codes[0])
    assert first.severity in ("error", "warning")
    assert first.number == int(case.split("-")[0])
    assert re.search(pattern, str(first), flags=re.S), str(first)


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_trainer_raises_or_warns(case):
    model, guide, args, codes, pattern = BROKEN[case]
    if any(d.severity == "error" for d in check(model, guide, *args)):
        with pytest.raises(ModelGuideMismatch, match=f"(?s){pattern}"):
            Trainer(model, guide, args=args)
    else:
        with pytest.warns(VilabWarning, match=f"(?s){pattern}"):
            Trainer(model, guide, args=args)


def test_warning_points_at_the_students_line():
    with pytest.warns(VilabWarning) as record:
        Trainer(model_without_plate, gauss_guide, args=(X,))
    assert record[0].filename == __file__


def test_nan_data_is_an_error():
    bad = X.clone()
    bad[7] = float("nan")
    found = check(gauss_model, gauss_guide, bad)
    assert _codes(found) == ["data-nan"]
    assert "args[0]" in str(found[0]) and "index (7,)" in str(found[0])
    with pytest.raises(ValueError, match=r"1 NaN/inf value\(s\) \(first at index \(7,\)\)"):
        Trainer(gauss_model, gauss_guide, args=(bad,))


def test_nan_in_a_minibatch_is_an_error():
    bad = X.clone()
    bad[3] = float("inf")
    with pytest.raises(ValueError, match=r"(?s)args\[0\].*NaN/inf.*drop or impute"):
        Trainer(gauss_model, gauss_guide, batch_fn=lambda step: (bad[:10],))


# -- 9: a minibatch plate sized like the batch, when the data set is bigger ---------------------


def batch_model(x, idx):
    mu = pyro.sample("mu", dist.Normal(0.0, 10.0))
    # wrong: sized like the batch; right: pyro.plate("data", N, subsample=idx)
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(mu, 1.0), obs=x)


def batch_model_scaled(x, idx):
    mu = pyro.sample("mu", dist.Normal(0.0, 10.0))
    with pyro.plate("data", N, subsample=idx):
        pyro.sample("x", dist.Normal(mu, 1.0), obs=x)


def batch_guide(x, idx):
    loc = pyro.param("loc", torch.tensor(0.0))
    scale = pyro.param("scale", torch.tensor(1.0), constraint=constraints.positive)
    pyro.sample("mu", dist.Normal(loc, scale))


def _batch(step, size=10):
    idx = torch.arange(step * size, (step + 1) * size) % N
    return X[idx], idx


def test_minibatch_without_scaling_is_flagged():
    found = diagnose(batch_model, batch_guide, _batch(0), num_data=N)
    assert _codes(found) == ["minibatch-unscaled"]
    pattern = r"(?s)at 'x'.*100 data points.*declares 10.*off by a factor 10.*subsample=idx"
    assert re.search(pattern, str(found[0]))
    with pytest.warns(VilabWarning, match=pattern):
        Trainer(batch_model, batch_guide, batch_fn=_batch, num_data=N)


def test_minibatch_with_scaling_passes():
    assert diagnose(batch_model_scaled, batch_guide, _batch(0), num_data=N) == []
    with warnings.catch_warnings():
        warnings.simplefilter("error", VilabWarning)
        Trainer(batch_model_scaled, batch_guide, batch_fn=_batch, num_data=N)


# -- 10: parameters left in Pyro's global store by an earlier run ---------------------------------


def test_stale_param_of_another_shape_is_an_error():
    pyro.param("loc", torch.zeros(3))  # an earlier cell made "loc" a vector
    found = check(gauss_model, gauss_guide, X)
    assert _codes(found) == ["stale-param-shape"]
    assert "'loc'" in str(found[0]) and "pyro.clear_param_store()" in str(found[0])
    assert found[0].severity == "error"


def test_stale_param_value_warns_you_are_continuing():
    pyro.param("loc", torch.tensor(5.0))
    found = check(gauss_model, gauss_guide, X)
    assert _codes(found) == ["stale-param-value"]
    assert "continuing from an earlier run" in str(found[0])
    assert "pyro.clear_param_store() to start fresh" in str(found[0])


def test_check_leaves_the_global_store_and_rng_alone():
    before = torch.get_rng_state()
    check(gauss_model, gauss_guide, X)
    assert list(pyro.get_param_store().keys()) == []
    assert torch.equal(torch.get_rng_state(), before)


def test_trainer_ignores_a_stale_global_param():
    pyro.param("loc", torch.zeros(3))
    with warnings.catch_warnings():
        warnings.simplefilter("error", VilabWarning)
        trainer = Trainer(gauss_model, gauss_guide, args=(X,))
    assert trainer.param("loc").shape == ()
    assert pyro.param("loc").shape == (3,)


# -- correct course models: no diagnostic at all ---------------------------------------------


def regression_model(x, y):
    w = pyro.sample("w", dist.Normal(torch.zeros(x.shape[1]), 10.0).to_event(1))
    b = pyro.sample("b", dist.Normal(0.0, 10.0))
    sigma = pyro.sample("sigma", dist.HalfCauchy(1.0))
    with pyro.plate("data", len(y)):
        pyro.sample("y", dist.Normal(x @ w + b, sigma), obs=y)


def subsample_model(x):
    mu = pyro.sample("mu", dist.Normal(0.0, 10.0))
    with pyro.plate("data", len(x), subsample_size=20) as idx:
        pyro.sample("x", dist.Normal(mu, 1.0), obs=x[idx])


def subsample_guide(x):
    loc = pyro.param("loc", torch.tensor(0.0))
    scale = pyro.param("scale", torch.tensor(1.0), constraint=constraints.positive)
    pyro.sample("mu", dist.Normal(loc, scale))


class Coder(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.linear = nn.Linear(d_in, d_out)

    def forward(self, v):
        return self.linear(v)


ENCODER, DECODER = Coder(8, 4), Coder(2, 8)


def vae_model(x):
    """p(z) p(x|z), z in R^2 per point, a linear decoder."""
    pyro.module("decoder", DECODER)
    with pyro.plate("data", len(x)):
        z = pyro.sample("z", dist.Normal(torch.zeros(2), 1.0).to_event(1))
        pyro.sample("x", dist.Normal(DECODER(z), 1.0).to_event(1), obs=x)


def vae_guide(x):
    """q(z|x) from a linear encoder."""
    pyro.module("encoder", ENCODER)
    with pyro.plate("data", len(x)):
        h = ENCODER(x)
        pyro.sample("z", dist.Normal(h[:, :2], torch.exp(h[:, 2:])).to_event(1))


def constrained_model(x):
    """Latents on every common support, for the auto guides."""
    p = pyro.sample("p", dist.Beta(2.0, 2.0))
    u = pyro.sample("u", dist.Uniform(-1.0, 5.0))
    w = pyro.sample("w", dist.Dirichlet(torch.ones(3)))
    sigma = pyro.sample("sigma", dist.LogNormal(0.0, 1.0))
    pyro.deterministic("mean", u + p * w[0])
    pyro.factor("soft_constraint", -0.1 * u**2)
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(u + p * w[0], sigma), obs=x)


@config_enumerate
def mixture_model(x):
    weights = pyro.sample("weights", dist.Dirichlet(torch.ones(2)))
    locs = pyro.sample("locs", dist.Normal(torch.zeros(2), 10.0).to_event(1))
    with pyro.plate("data", len(x)):
        k = pyro.sample("k", dist.Categorical(weights))
        pyro.sample("x", dist.Normal(locs[k], 1.0), obs=x)


XR = torch.randn(50, 3, generator=torch.Generator().manual_seed(2))
YR = XR @ torch.tensor([1.0, -2.0, 0.5]) + 0.3 * torch.randn(50)
XV = torch.randn(30, 8, generator=torch.Generator().manual_seed(3))

CORRECT = {
    "temperature": (temperature.model, temperature.guide, (temperature.SENSOR_READING,)),
    "simple-gaussian": (gauss_model, gauss_guide, (X,)),
    "regression-autonormal": (regression_model, AutoNormal(regression_model), (XR, YR)),
    "regression-autodiagonal": (regression_model, AutoDiagonalNormal(regression_model), (XR, YR)),
    "subsample": (subsample_model, subsample_guide, (X,)),
    "vae": (vae_model, vae_guide, (XV,)),
    "constrained-autonormal": (constrained_model, AutoNormal(constrained_model), (X,)),
    "constrained-automvn": (constrained_model, AutoMultivariateNormal(constrained_model), (X,)),
    "constrained-autodelta": (constrained_model, AutoDelta(constrained_model), (X,)),
    "mixture-enumerated": (
        mixture_model,
        AutoDelta(pyro.poutine.block(mixture_model, expose=["weights", "locs"])),
        (X,),
    ),
}


@pytest.mark.parametrize("case", sorted(CORRECT))
def test_correct_models_pass_check(case):
    model, guide, args = CORRECT[case]
    assert check(model, guide, *args) == [], str(check(model, guide, *args))


@pytest.mark.parametrize("case", sorted(set(CORRECT) - {"mixture-enumerated"}))
def test_correct_models_build_a_trainer_without_warning(case):
    model, guide, args = CORRECT[case]
    with warnings.catch_warnings():
        warnings.simplefilter("error", VilabWarning)
        Trainer(model, guide, args=args, lr=0.01, seed=0)


@pytest.mark.parametrize("case", ["simple-gaussian", "regression-autonormal", "vae"])
def test_correct_models_train_without_warning(case):
    model, guide, args = CORRECT[case]
    with warnings.catch_warnings():
        warnings.simplefilter("error", VilabWarning)
        trainer = Trainer(model, guide, args=args, lr=0.05, seed=0)
        trainer.run(150, progress=False)  # the learning-rate watch judges steps 50-150
    assert [cb.warned for cb in trainer.callbacks if isinstance(cb, DivergenceWatch)] == [False]

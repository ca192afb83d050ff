"""The ice-cream shop of the course (Day 1) in the compact API: the same numbers as the
same model in plain Pyro trained by vilab's Trainer, and close to NUTS."""

from __future__ import annotations

import numpy as np
import pyro
import pyro.distributions as dist
import torch
from pyro.infer.autoguide import AutoNormal

import vilab
import vilab.inf as inf
from vilab.inf.guide import AUTO_INIT
from vilab.reference import run_nuts

SENSOR = [18, 18.7, 19.2, 17.8, 20.3, 22.4, 20.3, 21.2, 19.5, 20.1]
SALES = [46, 47, 49, 44, 50, 54, 51, 52, 49, 53]
MEAN_SENSOR = float(np.mean(SENSOR))


@inf.probmodel
def icecream():
    mean_temp = inf.Normal(15.0, 2.0, name="mean_temp")
    alpha = inf.Normal(0.0, 100.0, name="alpha")
    beta = inf.Normal(0.0, 100.0, name="beta")
    with inf.datamodel():
        temp = inf.Normal(mean_temp, 2.0, name="temp")
        inf.Normal(temp, 1.0, name="sensor")
        inf.Poisson(torch.clamp(alpha + beta * temp, min=0.001), name="sales")


def icecream_pyro(sensor, sales):
    """The same model in plain Pyro."""
    mean_temp = pyro.sample("mean_temp", dist.Normal(15.0, 2.0))
    alpha = pyro.sample("alpha", dist.Normal(0.0, 100.0))
    beta = pyro.sample("beta", dist.Normal(0.0, 100.0))
    with pyro.plate("data", len(sensor)):
        temp = pyro.sample("temp", dist.Normal(mean_temp, 2.0))
        pyro.sample("sensor", dist.Normal(temp, 1.0), obs=sensor)
        rate = torch.clamp(alpha + beta * temp, min=0.001)
        pyro.sample("sales", dist.Poisson(rate), obs=sales)


DATA = (torch.tensor(SENSOR), torch.tensor(SALES, dtype=torch.float32))


def fit_compact(epochs):
    p = icecream()
    p.fit(
        {"sensor": SENSOR, "sales": SALES},
        inf.inference.VI("auto", epochs=epochs, lr=0.1, progress=False),
    )
    return p


def test_compact_api_and_plain_pyro_give_the_same_training_run():
    p = fit_compact(200)
    guide = AutoNormal(icecream_pyro, init_loc_fn=AUTO_INIT)
    plain = vilab.Trainer(
        icecream_pyro, guide, args=DATA, lr=0.1, seed=0, optim="adam", elbo="trace"
    )  # vilab.inf trains InferPy's way: plain Adam on Trace_ELBO
    plain.run(200, progress=False)
    # Same seed, same model, same guide family: the same loss at every step...
    np.testing.assert_allclose(p.inference.losses, plain.history.loss, rtol=1e-6)
    # ...and the same posterior.
    post = p.posterior(["mean_temp", "alpha", "beta"]).parameters()
    for name in ("mean_temp", "alpha", "beta"):
        assert np.isclose(
            post[name]["loc"], plain.param(f"AutoNormal.locs.{name}").item(), rtol=1e-5
        )
        assert np.isclose(
            post[name]["scale"], plain.param(f"AutoNormal.scales.{name}").item(), rtol=1e-5
        )


def test_compact_api_agrees_with_nuts():
    p = fit_compact(1500)
    post = p.posterior(["mean_temp", "alpha", "beta"]).sample(1000)
    # A short NUTS run (trees of depth <= 4): alpha and beta lie on a long ridge that NUTS
    # explores slowly, but the quantities the data pin down are estimated well enough.
    nuts = run_nuts(icecream_pyro, DATA, num_samples=100, warmup_steps=100, max_tree_depth=4)
    # mean temperature: within 2 posterior sd of NUTS (NUTS: 19.11 +- 0.63 in a long run)
    assert (
        abs(post["mean_temp"].mean() - nuts["mean_temp"].mean().item())
        < 2 * nuts["mean_temp"].std().item()
    )
    assert 18.5 < post["mean_temp"].mean() < 20.0
    # expected sales at the average reading: within 5% of NUTS (long run: 50.2)
    vi_rate = np.mean(post["alpha"] + post["beta"] * MEAN_SENSOR)
    nuts_rate = (nuts["alpha"] + nuts["beta"] * MEAN_SENSOR).mean().item()
    assert abs(vi_rate - nuts_rate) < 0.05 * nuts_rate

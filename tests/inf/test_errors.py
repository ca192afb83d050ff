"""Teaching errors of vilab.inf, each with a pinned message."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import vilab.inf as inf
from vilab.errors import ModelGuideMismatch
from vilab.inf import InfError


@inf.probmodel
def gauss():
    mu = inf.Normal(0.0, 10.0, name="mu")
    with inf.datamodel():
        z = inf.Normal(mu, 1.0, name="z")
        inf.Normal(z, 0.5, name="x")


@inf.probmodel
def q_per_row():
    """One (loc, scale) pair per training row for z: not amortised."""
    inf.Normal(
        inf.Parameter(0.0, name="qmu_loc"), F.softplus(inf.Parameter(0.0, name="qmu_s")), name="mu"
    )
    with inf.datamodel():
        loc, s = inf.Parameter(0.0, name="qz_loc"), inf.Parameter(-1.0, name="qz_s")
        inf.Normal(loc, F.softplus(s), name="z")


@inf.probmodel
def q_misspelt():
    inf.Normal(inf.Parameter(0.0, name="qmu_loc"), 1.0, name="mu")
    with inf.datamodel():
        inf.Normal(inf.Parameter(0.0, name="qz_loc"), 1.0, name="zz")


X = torch.linspace(-2.0, 4.0, 20)


def test_misspelt_q_name_lists_both_name_sets():
    expected = (
        "The Q-model has 'zz', which the P-model does not have. Did you mean 'z'?\n"
        "The P-model's latent variables ['z'] have no Q variable, so they would be drawn from "
        "the prior at every step and the posterior would be wrong.\n"
        "  P-model latent variables: ['mu', 'z']\n"
        "  P-model observed variables: ['x']\n"
        "  Q-model variables: ['mu', 'zz']\n"
        "Fix: give each Q variable the name= of the P latent it approximates"
    )
    with pytest.raises(ModelGuideMismatch, match=re.escape(expected)):
        gauss().fit({"x": X}, inf.inference.VI(q_misspelt(), epochs=1, progress=False))


def test_missing_name_names_the_users_line():
    @inf.probmodel
    def unnamed():
        inf.Normal(0.0, 1.0)  # the line the error must show

    with pytest.raises(InfError) as error:
        unnamed().prior().sample()
    message = str(error.value)
    assert message.startswith(
        "Expected a name for this random variable, got none at test_errors.py, line "
    )
    assert "inf.Normal(0.0, 1.0)  # the line the error must show" in message
    assert 'Fix: add name=..., e.g. inf.Normal(0., 1., name="z").' in message


def test_posterior_of_an_observed_variable_points_to_posterior_predictive():
    p = gauss()
    p.fit({"x": X}, inf.inference.VI(q_per_row(), epochs=2, progress=False))
    with pytest.raises(InfError, match=re.escape(
        "Expected unobserved variables for posterior(), got ['x'], which were observed in fit: "
        "they have no posterior. Fix: posterior_predictive('x') draws them given the posterior."
    )):  # fmt: skip
        p.posterior("x")


def test_new_data_queries_need_an_amortised_q():
    p = gauss()
    p.fit(
        {"x": X}, inf.inference.SVI(q_per_row(), epochs=300, batch_size=5, lr=0.05, progress=False)
    )
    expected = (
        "Expected a Q-model that computes ['z'] from the data (an encoder), got one with one "
        "parameter per training row (['qz_loc', 'qz_s']): its posterior exists only for the "
        "training rows."
    )
    with pytest.raises(InfError, match=re.escape(expected)):
        p.posterior("z", data={"x": X[:5]})
    with pytest.raises(InfError, match=re.escape(expected)):
        p.predict("x", data={"x": X[:7]})
    # Without new data the per-row posterior is there, one row per training point, and the
    # per-row parameters were trained through minibatches (pyro.param slices them): each
    # z_i sits between mu and x_i, as the exact posterior does.
    z = p.posterior("z").parameters()["loc"]
    assert z.shape == (20,) and np.corrcoef(z, X.numpy())[0, 1] > 0.99
    mu = float(p.posterior("mu").parameters()["loc"])
    exact_z = (mu + 4 * X.numpy()) / 5  # prior N(mu, 1), likelihood N(z, 0.5^2)
    assert np.abs(z - exact_z).max() < 0.3


def test_data_of_inconsistent_sizes():
    @inf.probmodel
    def regression():
        w = inf.Normal(0.0, 1.0, name="w")
        with inf.datamodel():
            x = inf.Normal(0.0, 1.0, name="x")
            inf.Normal(w * x, 1.0, name="y")

    with pytest.raises(InfError, match=re.escape(
        "Expected every variable of the datamodel to have the same number of rows in the "
        "training data, got x: 10 rows, y: 9 rows."
    )):  # fmt: skip
        regression().fit({"x": torch.zeros(10), "y": torch.zeros(9)}, inf.inference.VI(epochs=1))


def test_uncovered_latent_without_auto_and_unknown_data_names():
    @inf.probmodel
    def q_mu_only():
        inf.Normal(inf.Parameter(0.0, name="m"), 1.0, name="mu")

    with pytest.raises(ModelGuideMismatch, match=re.escape(
        "The P-model's latent variables ['z'] have no Q variable"
    )):  # fmt: skip
        gauss().fit({"x": X}, inf.inference.VI(q_mu_only(), epochs=1, progress=False))
    with pytest.raises(InfError, match=re.escape(
        "Expected the training data to name variables of the model, got ['xx']. The model's "
        "variables: ['mu', 'x', 'z']."
    )):  # fmt: skip
        gauss().fit({"xx": X}, inf.inference.VI(epochs=1))


def test_misuse_outside_a_builder_and_after_fit():
    with pytest.raises(
        InfError,
        match=re.escape(
            "inf.Normal can only be used inside a function decorated with @inf.probmodel"
        ),
    ):
        inf.Normal(0.0, 1.0, name="z")
    with pytest.raises(
        InfError,
        match=re.escape("Expected a fitted model for posterior(), got one not fitted yet."),
    ):
        gauss().posterior("mu")
    with pytest.raises(
        InfError, match=re.escape("Expected batch_size <= the number of data points (20), got 50.")
    ):
        gauss().fit({"x": X}, inf.inference.SVI(epochs=1, batch_size=50))
    with pytest.raises(
        InfError, match=re.escape("Expected continuous latent variables, got the discrete ['c']")
    ):

        @inf.probmodel
        def mixture():
            with inf.datamodel():
                c = inf.Categorical(logits=torch.zeros(2), name="c")
                inf.Normal(c.float(), 1.0, name="x")

        mixture().fit({"x": X}, inf.inference.VI(epochs=1))

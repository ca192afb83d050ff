"""A Bayesian neural network with q="auto" (InferPy's "empty Q-model"): trained on 400
points, it predicts 200 held-out points, a test set of another size."""

from __future__ import annotations

import numpy as np
import torch

import vilab.inf as inf
from vilab.datasets import make_bnn_data


@inf.probmodel
def bnn(hidden=20):
    w1 = inf.Normal(torch.zeros(1, hidden), 1.0, name="w1")
    b1 = inf.Normal(torch.zeros(hidden), 1.0, name="b1")
    w2 = inf.Normal(torch.zeros(hidden, 1), 1.0, name="w2")
    b2 = inf.Normal(torch.zeros(1), 1.0, name="b2")
    with inf.datamodel():
        x = inf.Normal(0.0, 10.0, name="x")
        f = torch.tanh(x[:, None] / 5 @ w1 + b1) @ w2 + b2
        inf.Normal(5 * f[:, 0], 3.0, name="y")


def test_auto_q_predicts_a_test_set_of_another_size():
    x, y = make_bnn_data(num_points=600, seed=0)
    order = torch.randperm(600, generator=torch.Generator().manual_seed(0))
    train, test = order[:400], order[400:]
    p = bnn()
    p.fit(
        {"x": x[train], "y": y[train]},
        inf.inference.VI("auto", epochs=800, lr=0.05, progress=False),
    )
    assert set(p.inference.guide.auto_names) == {"w1", "b1", "w2", "b2"}

    draws = p.posterior_predictive("y", data={"x": x[test]}).sample(300)
    assert draws.shape == (300, 200)
    y_test = y[test].numpy()
    rmse = np.sqrt(np.mean((draws.mean(0) - y_test) ** 2))
    low, high = np.quantile(draws, [0.025, 0.975], axis=0)
    coverage = np.mean((y_test >= low) & (y_test <= high))
    # noise sd is 3: the best possible RMSE is ~3, predicting the mean gives ~y's sd (~6)
    assert rmse < 4.0 and rmse < 0.7 * y_test.std(), (rmse, y_test.std())
    assert 0.85 <= coverage <= 1.0, coverage

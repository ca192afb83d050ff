"""The paper's digit classifier (InferPy's nl_digit_classifier) on MNIST digits 0, 1, 2:
fit with SVI, then predict held-out labels through the encoder and the classifier."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import vilab.inf as inf
from vilab.datasets import DataSourceNotice, load_mnist


@inf.probmodel
def digit_classifier(k=2, d0=100, dx=784, dy=3):
    dec = inf.layers.Sequential("dec", nn.Linear(k, d0), nn.ReLU(), nn.Linear(d0, dx))
    cls = inf.layers.Sequential("cls", nn.Linear(k, dy))
    with inf.datamodel():
        z = inf.Normal(torch.full((k,), 0.1), 1.0, name="z")
        inf.Normal(dec(z), 1.0, name="x")
        inf.Categorical(logits=cls(z), name="y")


@inf.probmodel
def qmodel(k=2, d0=100, dx=784):
    enc = inf.layers.Sequential("enc", nn.Linear(dx, d0), nn.ReLU(), nn.Linear(d0, 2 * k))
    with inf.datamodel():
        out = enc(inf.observed("x"))
        inf.Normal(out[:, :k], F.softplus(out[:, k:]) + 0.01, name="z")


def split_digits(data_dir, seed=0):
    """MNIST test-split digits 0/1/2, pixels in [0, 1]: a seeded 2/3 to train, 1/3 held out."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataSourceNotice)
        data = load_mnist("test", digits=[0, 1, 2], data_dir=data_dir, progress=False)
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))
    train, test = order[: 2 * len(data) // 3], order[2 * len(data) // 3 :]
    return data.x[train], data.y[train], data.x[test], data.y[test]


@pytest.fixture(scope="module")
def fitted(shared_data_dir):
    x, y, x_test, y_test = split_digits(shared_data_dir)
    p = digit_classifier()
    p.fit({"x": x, "y": y}, inf.inference.SVI(qmodel(), epochs=40, batch_size=100, progress=False))
    return p, x_test, y_test.numpy()


def test_held_out_accuracy_is_at_least_85_percent(fitted):
    p, x_test, y_test = fitted
    z = p.posterior("z", data={"x": x_test}).sample()  # every held-out row in one call
    assert z.shape == (len(x_test), 2)
    query = p.posterior_predictive("y", data={"z": z})
    sampled = (query.sample() == y_test).mean()  # one draw of y per image, as InferPy did
    argmax = (query.parameters()["logits"].argmax(-1) == y_test).mean()
    assert sampled >= 0.85 and argmax >= 0.85, (sampled, argmax)
    predicted = (p.predict("y", data={"x": x_test}).sample() == y_test).mean()
    assert predicted >= 0.85


def test_svi_uses_every_row_each_epoch(fitted):
    p, *_ = fitted
    batches_per_epoch = int(np.ceil(p.train_size / 100))  # the last, smaller batch is kept
    assert len(p.inference.losses) == 40 * batches_per_epoch
    assert p.trainer.history.num_data == p.train_size
    # the -ELBO per image fell by > 10 nats from the first epoch to the last, and stays above
    # what x ~ N(dec(z), 1) can reach: -log N(x | x, 1) = 784/2 log(2 pi) = 720.4 nats
    losses = np.asarray(p.inference.losses) / p.train_size
    first, last = losses[:batches_per_epoch].mean(), losses[-batches_per_epoch:].mean()
    assert last < first - 10 and last > 392 * np.log(2 * np.pi)

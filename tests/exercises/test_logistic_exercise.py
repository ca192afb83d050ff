"""The logistic regression exercise: VI against NUTS, held-out accuracy and calibration,
the reliability curve on synthetic data of known calibration, and data mistakes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from vilab.exercises import logistic_regression
from vilab.plots.calibration import plot_reliability_curve, reliability_curve
from vilab.plots.probability_map import plot_probability_map

SVI_STEPS = 600  # enough here: the means settle within ~0.1 of NUTS by step 400
_CACHE: dict = {}  # the split and the NUTS run are computed once per test session


@pytest.fixture
def split(shared_data):
    if "split" not in _CACHE:
        _CACHE["split"] = logistic_regression.make_data()
    return _CACHE["split"]


@pytest.fixture
def nuts(split):
    if "nuts" not in _CACHE:  # the reference: 300 warmup + 400 draws
        _CACHE["nuts"] = logistic_regression.nuts_samples(split, seed=0, smoke=False)
    return _CACHE["nuts"]


def _trained(split, guide_choice):
    key = f"trainer-{guide_choice}"
    if key not in _CACHE:
        trainer = logistic_regression.make_trainer(split, guide=guide_choice, seed=0)
        trainer.run(SVI_STEPS, progress=False)
        _CACHE[key] = trainer
    return _CACHE[key]


# -- VI against NUTS, on the real data -------------------------------------------------------


@pytest.mark.parametrize("guide_choice", ["manual", "auto"])
def test_vi_coefficient_means_are_within_0_15_of_nuts(split, nuts, guide_choice):
    vi = logistic_regression.vi_samples(_trained(split, guide_choice), 4000)
    for name in logistic_regression.SITES:
        vi_mean, nuts_mean = float(vi[name].mean()), float(nuts[name].mean())
        assert abs(vi_mean - nuts_mean) < 0.15, f"{name}: VI {vi_mean:.3f}, NUTS {nuts_mean:.3f}"


def test_held_out_accuracy_beats_the_majority_class(split):
    vi = logistic_regression.vi_samples(_trained(split, "manual"))
    prob = logistic_regression.predict_proba(vi, split.x_test)
    assert prob.shape == split.y_test.shape
    assert logistic_regression.accuracy(prob, split.y_test) > logistic_regression.majority_rate(
        split.y_train, split.y_test
    )


def test_reliability_curve_of_the_model_has_sane_bins(split):
    prob = logistic_regression.predict_proba(
        logistic_regression.vi_samples(_trained(split, "manual")), split.x_test
    ).numpy()
    curve = reliability_curve(prob, split.y_test.numpy(), num_bins=5)
    used = curve.counts > 0
    assert curve.counts.sum() == len(split.y_test)
    assert np.all((curve.observed[used] >= 0) & (curve.observed[used] <= 1))
    low, high = curve.bin_edges[:-1][used], curve.bin_edges[1:][used]
    assert np.all((curve.mean_predicted[used] >= low) & (curve.mean_predicted[used] <= high))
    assert 0 <= curve.expected_calibration_error < 0.25


def test_split_is_seeded_and_standardised_with_the_training_countries(split):
    assert len(split.y_train) + len(split.y_test) == 170 and len(split.y_test) == 51
    again, other = logistic_regression.make_data(seed=0), logistic_regression.make_data(seed=1)
    assert torch.equal(again.x_test, split.x_test)
    assert not torch.equal(other.y_test, split.y_test) or not torch.equal(
        other.x_test, split.x_test
    )
    assert torch.allclose(split.x_train.mean(0), torch.zeros(2), atol=1e-5)
    assert torch.allclose(split.x_train.std(0), torch.ones(2), atol=1e-5)
    assert torch.allclose(
        split.raw(split.standardise(torch.tensor([[1.0, 8.0]]))),
        torch.tensor([[1.0, 8.0]]),
        atol=1e-5,
    )


def test_train_reports_json_ready_summary_and_figures(shared_data):
    report = logistic_regression.train(num_steps=200, seed=0, smoke=True, progress=False)
    json.dumps(report.summary, allow_nan=False)
    assert report.figures == {}  # train() computes; plots.figures(report) draws
    figures = logistic_regression.plots.figures(report)
    assert set(figures) == {"probability_map", "reliability", "coefficients"}
    assert set(report.summary["coefficients"]) == set(logistic_regression.SITES)
    assert 0 <= report.summary["test_accuracy"] <= 1
    nuts_means = {k: np.mean(v) for k, v in report.summary["nuts_draws"].items()}
    for name, entry in report.summary["coefficients"].items():
        assert nuts_means[name] == pytest.approx(entry["nuts_mean"], rel=1e-5)
    for figure in figures.values():
        for ax in figure.axes:
            if ax.get_label() != "<colorbar>":
                assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()


def test_live_plot_redraws_in_place_without_colorbars(split):
    import matplotlib.pyplot as plt

    figure, (ax, other) = plt.subplots(1, 2)
    for _ in range(2):
        logistic_regression.plots.live_plot(_trained(split, "manual"), ax)
    labels = [axes.get_label() for axes in figure.axes]
    # a colorbar re-created at every redraw would squeeze the panel's live figure
    assert labels.count("<colorbar>") == 0 and other in figure.axes
    assert len(ax.collections) > 0  # the filled probability map is drawn
    assert ax.get_xlabel() == logistic_regression.FEATURES[0]


def test_live_plot_draws_the_trainers_own_split_not_the_default_one(shared_data):
    import types

    import matplotlib.pyplot as plt

    from vilab.datasets import load_rugged

    table = load_rugged(download=False)
    african = table.cont_africa == 1
    keep = torch.cat([african.nonzero()[:10, 0], (~african).nonzero()[:14, 0]])
    columns = {k: getattr(table, k)[keep] for k in ("rugged", "log_gdp", "cont_africa")}
    small = logistic_regression.make_data(types.SimpleNamespace(**columns), seed=3)
    trainer = logistic_regression.make_trainer(small, seed=0)
    assert trainer.context is small
    trainer.step(2)
    figure, ax = plt.subplots()
    logistic_regression.plots.live_plot(trainer, ax)
    # the scatters of the 24 countries it trains and tests on (not the course's 170)
    classes = ("not African", "African")
    drawn = [c.get_offsets() for c in ax.collections if c.get_label() in classes]
    assert sum(len(points) for points in drawn) == 24
    x_raw = small.raw(torch.cat([small.x_train, small.x_test])).numpy()
    assert np.allclose(np.sort(np.concatenate(drawn)[:, 0]), np.sort(x_raw[:, 0]), atol=1e-4)
    plt.close(figure)


def test_live_plot_refuses_a_trainer_without_its_data(split):
    import matplotlib.pyplot as plt

    from vilab import Trainer

    bare = Trainer(
        logistic_regression.model, logistic_regression.guide, args=(split.x_train, split.y_train)
    )
    figure, ax = plt.subplots()
    with pytest.raises(ValueError, match=r"trainer.context.*got NoneType. Fix: .*context=data"):
        logistic_regression.plots.live_plot(bare, ax)
    plt.close(figure)


# -- the reliability curve on synthetic data of known calibration --------------------------------


def _synthetic(power: float, num: int = 20000):
    generator = np.random.default_rng(0)
    prob = generator.uniform(size=num)
    return prob, (generator.uniform(size=num) < prob**power).astype(float)


def test_reliability_curve_of_calibrated_predictions_follows_the_diagonal():
    prob, y = _synthetic(power=1.0)
    curve = reliability_curve(prob, y, num_bins=10)
    assert curve.counts.sum() == len(prob)
    assert np.allclose(curve.mean_predicted, np.arange(10) / 10 + 0.05, atol=0.01)
    assert np.allclose(curve.observed, curve.mean_predicted, atol=0.04)
    assert curve.expected_calibration_error < 0.02


def test_reliability_curve_exposes_overconfident_predictions():
    prob, y = _synthetic(power=3.0)  # the truth is prob**3: the model says too much
    curve = reliability_curve(prob, y, num_bins=10)
    assert np.all(curve.observed[2:] < curve.mean_predicted[2:])
    assert curve.expected_calibration_error > 0.15


def test_reliability_curve_empty_bins_and_the_edges():
    curve = reliability_curve([0.0, 0.1, 1.0], [0, 0, 1], num_bins=4)
    assert curve.counts.tolist() == [2, 0, 0, 1]
    assert np.isnan(curve.observed[1]) and np.isnan(curve.mean_predicted[2])
    assert curve.observed[3] == 1.0
    ax = plot_reliability_curve(curve.mean_predicted, curve.observed, curve.counts)
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_legend() is not None


@pytest.mark.parametrize(
    "prob, y, match",
    [([0.2, 1.7], [0, 1], "logits"), ([0.2, 0.7], [0, 2], "0 or 1"), ([0.2], [0, 1], "1-D")],
    ids=["logits", "labels", "lengths"],
)
def test_reliability_curve_refuses_bad_input(prob, y, match):
    with pytest.raises(ValueError, match=match):
        reliability_curve(prob, y)


# -- plots and the mistakes students make --------------------------------------------------------


def test_probability_map_draws_the_decision_boundary_and_checks_shapes():
    grid = np.linspace(-2, 2, 5)
    prob = 1 / (1 + np.exp(-(grid[:, None] + grid[None, :])))
    x, y = np.array([[0.0, 1.0], [1.0, -1.0]]), np.array([0, 1])
    ax = plot_probability_map(grid, grid, prob, x, y, xlabel="a", ylabel="b")
    assert ax.get_xlabel() == "a" and ax.get_legend() is not None
    with pytest.raises(ValueError, match="prob of shape"):
        plot_probability_map(grid, grid, prob.T[:3], x, y)


def _x(num=6, cols=2):
    return torch.randn(num, cols)


@pytest.mark.parametrize(
    "x, y, error, match",
    [
        (_x(), torch.tensor([0.0, 1.0, 2.0, 0.0, 1.0, 0.0]), ValueError, "0 or 1"),
        (_x(), torch.tensor([0, 1, 1, 0, 1, 0]), TypeError, r"y\.float\(\)"),
        (_x(), torch.zeros(5), ValueError, r"shape \(6,\)"),
        (_x(cols=3), torch.zeros(6), ValueError, r"shape \(N, 2\)"),
        (torch.randn(6), torch.zeros(6), ValueError, r"shape \(N, 2\)"),
        (np.zeros((6, 2)), torch.zeros(6), TypeError, "torch.Tensor"),
    ],
    ids=["label-2", "int-labels", "lengths", "three-columns", "1-D-x", "numpy-x"],
)
def test_bad_data_gets_a_message_with_the_fix(x, y, error, match):
    with pytest.raises(error, match=match):
        logistic_regression.model(x, y)

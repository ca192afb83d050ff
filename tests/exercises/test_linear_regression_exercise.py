"""The ruggedness regression: least squares, VI against NUTS, the paper's conclusion, bad input.

NUTS and the VI fits are expensive, so each is computed once per module (cached helpers,
called from tests that requested ``shared_data``) and shared by the tests that need it.
"""

import functools
import json

import numpy as np
import pytest
import torch

from vilab.datasets import load_rugged
from vilab.exercises import linear_regression

VI_STEPS = 500  # measured: the slope locs stay within ~0.05 of NUTS after < 350 steps
GROUP_PARAMS = (
    ("africa", "manual"),
    ("africa", "auto"),
    ("non_africa", "manual"),
    ("non_africa", "auto"),
)


@functools.cache
def nuts_draws(group):
    """NUTS reference of one group; 200 warmup + 400 draws (class: 300 + 500) keep the file
    fast, with a Monte Carlo error of the slope's mean still below 0.01."""
    data = load_rugged(download=False)
    return linear_regression.nuts_reference(
        group, data=data, seed=0, num_samples=400, warmup_steps=200
    )


@functools.cache
def vi_draws(group, guide):
    trainer = linear_regression.make_trainer(
        load_rugged(download=False), guide, seed=0, group=group
    )
    trainer.run(VI_STEPS, progress=False)
    return linear_regression.posterior_samples(trainer, num_samples=4000)


# -- least squares ---------------------------------------------------------------------------


def test_least_squares_recovers_an_exact_line():
    x = np.array([0.0, 1.0, 2.0, 3.0])
    intercept, slope = linear_regression.least_squares(x, 2.0 - 0.5 * x)
    assert intercept == pytest.approx(2.0) and slope == pytest.approx(-0.5)


def test_interaction_least_squares_reproduces_the_separate_lines(shared_data):
    # with all four terms the interaction model is the two separate lines, reparametrised
    data = load_rugged(download=False)
    africa_line = linear_regression.least_squares(*linear_regression.model_args("africa", data))
    other_line = linear_regression.least_squares(*linear_regression.model_args("non_africa", data))
    coef = linear_regression.least_squares_interaction(
        *linear_regression.model_args("interaction", data)
    )
    assert coef["a"] == pytest.approx(other_line[0], abs=1e-6)
    assert coef["bR"] == pytest.approx(other_line[1], abs=1e-6)
    assert coef["a"] + coef["bA"] == pytest.approx(africa_line[0], abs=1e-6)
    assert coef["bR"] + coef["bAR"] == pytest.approx(africa_line[1], abs=1e-6)
    assert africa_line[1] > 0 > other_line[1]  # the paper's sign flip, classically


# -- VI against NUTS ---------------------------------------------------------------------------


@pytest.mark.parametrize("group, guide", GROUP_PARAMS)
def test_vi_slope_mean_matches_nuts(shared_data, group, guide):
    vi_slope = vi_draws(group, guide)["s"].mean()
    nuts_slope = nuts_draws(group)["s"].mean()
    assert abs(vi_slope - nuts_slope) < 0.1, (group, guide, vi_slope, nuts_slope)


@pytest.mark.parametrize("guide", ["manual", "auto"])
def test_posterior_says_what_the_paper_says(shared_data, guide):
    # NUTS (checked with 2 x 2000 draws): P(slope > 0) ~ 0.97 in Africa, ~ 0.005 elsewhere
    for draws in (nuts_draws("africa"), vi_draws("africa", guide)):
        assert linear_regression.prob_positive(draws["s"]) > 0.9
    for draws in (nuts_draws("non_africa"), vi_draws("non_africa", guide)):
        assert linear_regression.prob_positive(draws["s"]) < 0.1


@pytest.mark.parametrize("guide", ["manual", "auto"])
def test_interaction_model_vi_matches_least_squares(shared_data, guide):
    # Normal(0, 10) priors are nearly flat on this scale: posterior means ~ least squares
    data = load_rugged(download=False)
    trainer = linear_regression.make_trainer(data, guide, seed=0, group="interaction")
    trainer.run(VI_STEPS, progress=False)
    summary = linear_regression.summarize_lines(
        linear_regression.posterior_samples(trainer), "interaction"
    )
    ols = linear_regression.least_squares_interaction(
        *linear_regression.model_args("interaction", data)
    )
    assert summary["africa"]["slope"]["mean"] == pytest.approx(ols["bR"] + ols["bAR"], abs=0.05)
    assert summary["non_africa"]["slope"]["mean"] == pytest.approx(ols["bR"], abs=0.05)
    assert summary["africa"]["p_slope_positive"] > 0.9
    assert summary["non_africa"]["p_slope_positive"] < 0.1


def test_same_seed_same_result(shared_data):
    def short_run(seed):
        trainer = linear_regression.make_trainer(guide="auto", seed=seed)
        trainer.run(20, progress=False)
        return trainer.params()

    first, again, other = short_run(0), short_run(0), short_run(1)
    assert all(torch.equal(first[name], again[name]) for name in first)
    assert not torch.equal(first["AutoNormal.locs.s"], other["AutoNormal.locs.s"])


def test_both_guides_start_from_the_mean_log_gdp(shared_data):
    args = linear_regression.model_args("africa")
    for guide in ("manual", "auto"):
        draws = linear_regression.posterior_samples(
            linear_regression.make_trainer(args, guide), 2000
        )
        assert draws["b"].mean() == pytest.approx(float(args[1].mean()), abs=0.02)


# -- predictive bands and plots --------------------------------------------------------------------


def test_predictive_bands_match_the_normal_quantiles_for_a_known_line():
    n = 20000
    lines = {"intercept": np.full(n, 1.0), "slope": np.full(n, 2.0), "sigma": np.full(n, 0.5)}
    bands = linear_regression.predictive_bands(lines, [0.0, 1.0], seed=0)
    np.testing.assert_allclose(bands["mean"], [1.0, 3.0])
    np.testing.assert_allclose(bands["mean_band"], [[1.0, 3.0], [1.0, 3.0]])  # no uncertainty
    np.testing.assert_allclose(
        bands["y_band"], [[1 - 0.98, 3 - 0.98], [1 + 0.98, 3 + 0.98]], atol=0.03
    )  # +- 1.96 sigma


def test_live_plot_draws_the_current_posterior(shared_data):
    import matplotlib.pyplot as plt

    trainer = linear_regression.make_trainer(group="interaction")
    trainer.step(3)
    ax = linear_regression.plots.live_plot(trainer, plt.subplots()[1])
    assert len(ax.lines) == 2 and len(ax.collections) == 6  # 2 lines, 2 x (2 bands + data)
    assert "3 steps" in ax.get_title() and ax.get_xlabel() == linear_regression.plots.XLABEL


def test_live_plot_draws_the_trainers_own_countries_and_names_its_group(shared_data):
    import matplotlib.pyplot as plt

    rugged, log_gdp = linear_regression.model_args("non_africa")
    trainer = linear_regression.make_trainer((rugged[:12], log_gdp[:12]), group="non_africa")
    assert trainer.context.group == "non_africa" and trainer.context.args[0].shape == (12,)
    ax = linear_regression.plots.live_plot(trainer, plt.subplots()[1])
    points = ax.collections[-1].get_offsets()  # the scatter of the countries, drawn last
    assert len(points) == 12 and np.allclose(points[:, 0], rugged[:12].numpy())
    assert ax.get_legend().get_texts()[0].get_text() == "other nations"


def test_train_smoke_gives_a_json_ready_report(shared_data, monkeypatch):
    # a few rough NUTS draws, only to exercise the comparison code of the full-mode report
    monkeypatch.setattr(
        linear_regression,
        "NUTS_OPTIONS",
        {"num_samples": 10, "warmup_steps": 10, "max_tree_depth": 3},
    )
    report = linear_regression.train(num_steps=5, smoke=True, progress=False, nuts=True)
    assert set(report.trainers) == {
        f"{g} ({q})" for g in linear_regression.GROUPS for q in linear_regression.GUIDES
    }
    summary = json.loads(json.dumps(report.summary))
    assert 0 <= summary["africa (manual)"]["africa"]["p_slope_positive"] <= 1
    assert set(summary["interaction (auto)"]) == {"africa", "non_africa"}
    differences = summary["slope_mean_vi_minus_nuts"]
    assert set(differences["interaction (manual)"]) == {"africa", "non_africa"}
    assert differences["africa (auto)"]["africa"] == pytest.approx(
        summary["africa (auto)"]["africa"]["slope"]["mean"]
        - summary["africa (NUTS)"]["africa"]["slope"]["mean"]
    )
    assert report.figures == {}  # train() computes; plots.figures(report) draws
    assert len(summary["nuts_slope_draws"]["africa"]) == 10  # the NUTS density's draws
    figures = linear_regression.plots.figures(report)
    assert {"predictive_africa", "slopes_non_africa", "interaction"} <= set(figures)
    legend = [t.get_text() for t in figures["slopes_africa"].axes[0].get_legend().get_texts()]
    assert legend == ["VI (manual guide)", "VI (auto guide)", "NUTS"]


# -- bad input ------------------------------------------------------------------------------------


def good_columns(n=5):
    return torch.linspace(0, 2, n), torch.linspace(6, 10, n)


@pytest.mark.parametrize(
    "group, args, error, match",
    [
        ("africa", (torch.zeros(5), torch.zeros(6)), ValueError, r"same number.*'rugged': 5"),
        (
            "africa",
            (torch.zeros(5, dtype=torch.float64), torch.zeros(5)),
            TypeError,
            r"rugged must have dtype torch.float32.*got torch.float64.*rugged.float\(\)",
        ),
        (
            "interaction",
            (torch.ones(5, dtype=torch.int64), *good_columns()),
            TypeError,
            r"africa .*int64.*labels must be floats",
        ),
        (
            "interaction",
            (torch.full((5,), 2.0), *good_columns()),
            ValueError,
            r"africa must hold 1.0 .* or 0.0",
        ),
        ("africa", (torch.zeros(5, 2), torch.zeros(5)), ValueError, r"shape \(N,\).*\(5, 2\)"),
        (
            "africa",
            (np.zeros(5, dtype=np.float32), torch.zeros(5)),
            TypeError,
            r"torch.Tensor, got ndarray.*torch.as_tensor",
        ),
        ("non_africa", good_columns()[:1], ValueError, r"takes 2 tensors"),
    ],
)
def test_bad_data_gets_a_readable_error(group, args, error, match):
    with pytest.raises(error, match=match):
        linear_regression.make_trainer(args, group=group)


def test_bad_choices_and_least_squares_lengths_are_explained():
    with pytest.raises(
        ValueError, match=r"group must be one of 'africa', .*got 'europe'. Fix: .*group=\"africa\""
    ):
        linear_regression.make_trainer(good_columns(), group="europe")
    with pytest.raises(ValueError, match=r"guide must be one of 'manual', 'auto' .*got 'delta'"):
        linear_regression.make_trainer(good_columns(), guide="delta")
    with pytest.raises(ValueError, match=r"same length.*'x': 3, 'y': 4"):
        linear_regression.least_squares([1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0])

"""The first exercise: VI must land on the exact conjugate posterior N(17.4, sqrt(0.8))."""

import math

import pytest

from vilab.exercises import temperature


def test_exact_posterior_is_the_conjugate_update():
    mean, std = temperature.exact_posterior()
    assert mean == pytest.approx(17.4)
    assert std == pytest.approx(math.sqrt(0.8))


@pytest.mark.parametrize("seed", [0, 1])
def test_vi_matches_the_exact_posterior(seed):
    trainer = temperature.make_trainer(seed=seed)
    trainer.run(temperature.FULL_STEPS, progress=False)
    vi_mean, vi_std = temperature.vi_posterior(trainer)
    mean, std = temperature.exact_posterior()
    assert abs(vi_mean - mean) < 0.05
    assert abs(vi_std - std) < 0.05


def test_train_reports_the_comparison_and_a_labelled_figure():
    report = temperature.train(num_steps=30, progress=False)
    post = report.summary["posterior"]["temp"]
    assert post["exact_mean"] == pytest.approx(17.4)
    assert report.trainers["VI"].num_steps_done == 30
    ax = report.figures["posterior"].axes[0]
    assert ax.get_xlabel() == "temperature" and ax.get_ylabel() == "density"
    assert len(ax.get_legend().get_texts()) == 2

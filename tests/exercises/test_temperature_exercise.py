"""The first exercise: VI must land on the exact conjugate posterior N(17.4, sqrt(0.8))."""

import math

import pytest

from vilab.engine import Trainer
from vilab.exercises import temperature


def test_exact_posterior_is_the_conjugate_update():
    mean, std = temperature.exact_posterior()
    assert mean == pytest.approx(17.4)
    assert std == pytest.approx(math.sqrt(0.8))
    assert temperature.reference() == {"temp": {"mean": mean, "std": std}}
    assert temperature.reference(25.0)["temp"]["mean"] == pytest.approx(23.0)


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
    ax = temperature.plots.figures(report)["posterior"].axes[0]
    assert ax.get_xlabel() == "temperature" and ax.get_ylabel() == "density"
    assert len(ax.get_legend().get_texts()) == 2


def test_the_trainer_keeps_its_reading_and_the_guides_are_chosen_by_name():
    trainer = temperature.make_trainer(data=25.0)
    assert temperature.reading_of(trainer) == 25.0 and float(trainer.args[0]) == 25.0
    assert temperature.make_trainer().guide is temperature.guide  # the course's, by default
    auto = temperature.make_trainer(guide="auto_normal", seed=0)
    auto.run(temperature.FULL_STEPS, progress=False)  # slower start than a/b
    mean, std = temperature.vi_posterior(auto)  # from draws: AutoNormal has no "a"/"b"
    assert abs(mean - 17.4) < 0.1 and abs(std - math.sqrt(0.8)) < 0.1


def test_bad_choices_are_refused_with_the_fix():
    with pytest.raises(ValueError, match=r"data must be a finite number, got 'warm'\. Fix: pass"):
        temperature.make_trainer(data="warm")
    with pytest.raises(ValueError, match=r"guide must be one of 'normal', 'auto_normal'"):
        temperature.make_trainer(guide="gaussian")
    by_hand = Trainer(temperature.model, temperature.guide, args=(temperature.SENSOR_READING,))
    with pytest.raises(ValueError, match=r"keeps its sensor reading in trainer.context"):
        temperature.reading_of(by_hand)

"""Every registered exercise has the one shape of vilab.exercises.base, checked by running it:
the pieces exist, make_trainer trains, the live plot draws from the trainer's own data, and
the figures come from a report of numbers."""

from __future__ import annotations

import json
import math
import types

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from vilab.engine import Trainer  # noqa: E402
from vilab.exercises import EXERCISES, get_exercise  # noqa: E402
from vilab.exercises.base import contract_problems, figures_module  # noqa: E402


@pytest.fixture(params=sorted(EXERCISES))
def exercise(request, shared_data):
    return get_exercise(request.param)


def test_has_every_piece(exercise):
    assert contract_problems(exercise) == []


def test_make_trainer_trains_and_keeps_its_data(exercise):
    data = exercise.load_data(smoke=True)
    trainer = exercise.make_trainer(data=data, seed=0)
    assert isinstance(trainer, Trainer)
    assert trainer.context is not None, "make_trainer must keep its data in trainer.context"
    assert math.isfinite(trainer.step(3))
    assert exercise.make_trainer(data=data, guide=trainer.guide, seed=0).guide is trainer.guide


def test_live_plot_draws_from_the_trainers_own_data(exercise, monkeypatch):
    trainer = exercise.make_trainer(data=exercise.load_data(smoke=True), seed=0)
    trainer.step(2)

    def no_global_data(*args, **kwargs):
        raise AssertionError("live_plot loaded the default data instead of the trainer's")

    monkeypatch.setattr(exercise, "load_data", no_global_data)
    figure, ax = plt.subplots()
    try:
        exercise.plots.live_plot(trainer, ax)
        assert ax.has_data() or ax.images or ax.texts, "live_plot drew nothing"
    finally:
        plt.close(figure)


def test_report_holds_numbers_and_the_figures_module_draws_it(exercise):
    report = exercise.train(num_steps=2, seed=0, smoke=True, progress=False)
    assert report.name == exercise.NAME
    assert report.figures == {}, "train() returns numbers; plots.figures(report) draws"
    json.dumps(report.summary)  # JSON-ready
    figures = exercise.plots.figures(report)
    try:
        assert figures and all(isinstance(f, matplotlib.figure.Figure) for f in figures.values())
    finally:
        for figure in figures.values():
            plt.close(figure)


def test_a_missing_piece_is_named_in_plain_words():
    template = get_exercise("temperature")
    fake = types.ModuleType("vilab.exercises.fake_exercise")
    for name in ("NAME", "TITLE", "FULL_STEPS", "SMOKE_STEPS", "DEFAULT_OPTIONS", "GUIDES"):
        setattr(fake, name, getattr(template, name))
    fake.NAME = "fake_exercise"
    fake.load_data, fake.model, fake.guide = template.load_data, template.model, template.guide
    fake.train = template.train

    def make_trainer(seed=0, **options):  # no data=, no guide=
        return None

    fake.make_trainer = make_trainer
    problems = contract_problems(fake)
    assert (
        "exercise 'fake_exercise' has no reference: add a function reference(data=None) "
        "returning the exact or published answer." in problems
    )
    assert any(
        "make_trainer lacks the parameter(s) data, guide" in p
        and "make_trainer(data=None, guide=..., seed=0, **options)" in p
        for p in problems
    )
    assert any("has no figures module" in p and "fake_exercise_figures.py" in p for p in problems)
    assert len(problems) == 3, problems


def test_figures_module_is_found_beside_the_exercise():
    temperature = get_exercise("temperature")
    assert figures_module(temperature).__name__ == "vilab.exercises.temperature_figures"
    assert temperature.plots is figures_module(temperature)

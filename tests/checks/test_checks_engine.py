"""The checks inside the Trainer: once at construction, cheap, watching the first steps,
explaining a stop, and silent on every course exercise."""

from __future__ import annotations

import importlib
import inspect
import warnings

import pyro
import pyro.distributions as dist
import pytest
import torch
from pyro.distributions import constraints

from vilab import ModelGuideMismatch, Trainer, TrainingDiverged
from vilab.checks import DivergenceWatch, VilabWarning, explain
from vilab.datasets.download import DatasetUnavailable
from vilab.exercises import EXERCISES

X = torch.randn(100, generator=torch.Generator().manual_seed(1)) + 3


def model(x):
    mu = pyro.sample("mu", dist.Normal(0.0, 10.0))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(mu, 1.0), obs=x)


def guide(x):
    loc = pyro.param("loc", torch.tensor(0.0))
    scale = pyro.param("scale", torch.tensor(0.5), constraint=constraints.positive)
    pyro.sample("mu", dist.Normal(loc, scale))


def guide_unconstrained(x):
    loc = pyro.param("loc", torch.tensor(0.0))
    scale = pyro.param("scale", torch.tensor(0.5))
    pyro.sample("mu", dist.Normal(loc, scale))


def point_guide(x):
    pyro.sample("mu", dist.Delta(pyro.param("loc", torch.tensor(0.0))))


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VilabWarning)
        return fn(*args, **kwargs)


# -- 11: a learning rate that makes the loss climb --------------------------------------------


def test_too_large_learning_rate_warns_once_with_a_smaller_one():
    # SGD on a quadratic loss of curvature ~100 diverges slowly (x1.05 per step) at lr=0.0205
    trainer = Trainer(model, point_guide, args=(X,), optim="sgd", lr=0.0205)
    with pytest.warns(VilabWarning, match=r"(?s)lr-too-large.*lr=0.0205.*lr=0.00205") as record:
        trainer.run(150, progress=False)
    assert sum(isinstance(r.message, VilabWarning) for r in record) == 1
    assert trainer.history.loss[-1] > 100 * trainer.history.loss[0]  # it did climb


def test_stable_learning_rate_does_not_warn():
    trainer = Trainer(model, point_guide, args=(X,), optim="sgd", lr=0.005)
    with warnings.catch_warnings():
        warnings.simplefilter("error", VilabWarning)
        trainer.run(150, progress=False)
    assert trainer.history.loss[-1] < trainer.history.loss[0]


def simple_gaussian_trainer(lr):
    """The course's simple Gaussian (unknown mean and precision) with plain Adam."""
    from .test_checks_catalogue import X as X100
    from .test_checks_catalogue import gauss_guide, gauss_model

    return Trainer(gauss_model, gauss_guide, args=(X100,), lr=lr, seed=0, elbo="trace")


def test_parameters_jumping_warn_even_while_the_loss_falls():
    """Adam with lr=2: the loss falls, so the climb test stays silent, but each step
    multiplies the scales by e or more and the posterior's spread collapses."""
    trainer = simple_gaussian_trainer(lr=2.0)
    with pytest.warns(
        VilabWarning,
        match=r"(?s)V11 lr-too-large.*at 'scale'.*moved by 1.4 on "
        r"its unconstrained scale.*a factor 3.9.*lr=2 .*spread can collapse"
        r".*fix: *.*lr=0.2",
    ) as record:
        trainer.run(150, progress=False)
    assert sum(isinstance(r.message, VilabWarning) for r in record) == 1
    assert trainer.num_steps_done == 150 and trainer.history.loss[-1] < trainer.history.loss[0]
    assert float(trainer.param("scale")) < 0.05  # exact sd of the mean: about 0.2


@pytest.mark.parametrize("lr", [0.5, 1.0])
def test_a_large_but_workable_learning_rate_does_not_warn(lr):
    trainer = simple_gaussian_trainer(lr)
    with warnings.catch_warnings():
        warnings.simplefilter("error", VilabWarning)
        trainer.run(150, progress=False)


# -- 7 during training: the stop explained ---------------------------------------------------


@pytest.mark.parametrize("how", ["run", "step"])
def test_negative_scale_stop_names_the_parameter(how):
    trainer = _quiet(Trainer, model, guide_unconstrained, args=(X,), lr=0.1)
    with pytest.raises(TrainingDiverged) as info:
        trainer.run(300, progress=False) if how == "run" else trainer.step(300)
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "'scale' is the scale of the Normal at site 'mu'" in notes
    assert "constraint=constraints.positive" in notes
    assert float(trainer.param("scale")) <= 0.05  # it was on its way below zero


def test_constrained_scale_trains_through():
    trainer = Trainer(model, guide, args=(X,), lr=0.1)
    trainer.run(300, progress=False)
    assert abs(float(trainer.param("loc")) - float(X.mean())) < 0.1


# -- the engine's use of the checks ---------------------------------------------------------------


def test_check_false_skips_everything():
    trainer = Trainer(model, guide_unconstrained, args=(X,), check=False)
    assert not any(isinstance(cb, DivergenceWatch) for cb in trainer.callbacks)


def test_checks_run_once_not_on_reset():
    with pytest.warns(VilabWarning, match="unconstrained-scale"):
        trainer = Trainer(model, guide_unconstrained, args=(X,))
    with warnings.catch_warnings():
        warnings.simplefilter("error", VilabWarning)
        trainer.reset()


def test_check_costs_no_extra_model_or_guide_call():
    calls = {"model": 0, "guide": 0}

    def counted_model(x):
        calls["model"] += 1
        model(x)

    def counted_guide(x):
        calls["guide"] += 1
        guide(x)

    Trainer(counted_model, counted_guide, args=(X,), check=True, jit=False)  # no compiling
    assert calls == {"model": 1, "guide": 1}


def test_same_seed_same_loss_with_or_without_check():
    losses = []
    for check in (True, False):
        trainer = Trainer(model, guide, args=(X,), seed=3, check=check)
        trainer.run(20, progress=False)
        losses.append(list(trainer.history.loss))
    assert losses[0] == losses[1]


def wide_model(x):
    w = pyro.sample("w", dist.Normal(torch.zeros(3), 1.0).to_event(1))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(x.new_ones(len(x), 3) @ w, 1.0), obs=x)


def scalar_guide(x):
    pyro.sample("w", dist.Normal(pyro.param("w_loc", torch.tensor([0.0, 0.0])), 1.0).to_event(1))


def test_model_crash_on_guide_values_is_explained():
    with pytest.raises(
        ModelGuideMismatch, match=r"(?s)model failed.*at 'w'.*\(3,\).*\(2,\)"
    ) as info:
        Trainer(wide_model, scalar_guide, args=(X,))
    assert isinstance(info.value.__cause__, RuntimeError)


# -- explain(): a mistake shown in a notebook, which keeps running --------------------------------


def guide_without_mu(x):
    pass


def test_explain_prints_an_error_and_returns_it(capsys):
    error = explain(Trainer, model, guide_without_mu, args=(X,))
    assert isinstance(error, ModelGuideMismatch)
    assert [d.code for d in error.diagnostics] == ["missing-guide-site"]
    out = capsys.readouterr().out
    assert out.startswith("ModelGuideMismatch: vilab found a problem")
    assert "add pyro.sample('mu', ...)" in out


def test_explain_prints_warnings_and_returns_their_diagnostics(capsys):
    found = explain(Trainer, model, guide_unconstrained, args=(X,))
    assert [d.code for d in found] == ["unconstrained-scale"]
    assert "VilabWarning: [V7 unconstrained-scale]" in capsys.readouterr().out


def test_explain_on_good_code(capsys):
    assert explain(Trainer, model, guide, args=(X,)) == []
    assert capsys.readouterr().out == "vilab found no problem.\n"


# -- every course exercise is clean ----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_exercise_trainers_raise_no_diagnostic(name, request):
    try:  # real data for the exercises that need it; the others run without
        request.getfixturevalue("shared_data")
    except pytest.skip.Exception:
        pass
    module = importlib.import_module(EXERCISES[name])
    if not hasattr(module, "make_trainer"):
        pytest.skip(f"{name} has no make_trainer")
    required = [
        p.name
        for p in inspect.signature(module.make_trainer).parameters.values()
        if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if required:
        pytest.skip(f"{name}.make_trainer needs arguments {required}; cannot build it alone")
    with warnings.catch_warnings():
        warnings.simplefilter("error", VilabWarning)
        try:
            made = module.make_trainer(seed=0)
        except DatasetUnavailable as exc:
            pytest.skip(f"{name} needs data that is not available here: {exc}")
        trainers = (
            made.values()
            if isinstance(made, dict)
            else (made if isinstance(made, (list, tuple)) else [made])
        )
        for trainer in trainers:  # the construction ran the checks; a few steps run the watch
            trainer.run(5, progress=False)


def test_watch_rearms_after_reset_and_ignores_a_caught_error():
    trainer = Trainer(model, point_guide, args=(X,), optim="sgd", lr=0.0205)
    with pytest.warns(VilabWarning, match="lr-too-large"):
        trainer.run(100, progress=False)
    try:
        raise TrainingDiverged("an earlier failure the student caught", step=1)
    except TrainingDiverged:
        trainer.reset()  # still too large: the watch must judge the new run, not skip it
        with pytest.warns(VilabWarning, match="lr-too-large"):
            trainer.run(100, progress=False)

"""Fault injection: whatever goes wrong, nothing is lost and nothing passes in silence.

Each test trains a little, takes a snapshot of everything a run is made of (parameters,
gradients, optimiser state, history, random stream, step count, lr), injects one fault
(Ctrl-C at each point of a step, a failing callback, a refused or damaged checkpoint, bad
data or arguments), and asserts that the state is exactly the snapshot (or exactly the
state after the step, when the fault came once the update was done), then that resuming
gives, bit for bit, the run that never met the fault. docs/faults.md lists every case.
"""

from __future__ import annotations

import os
import signal
import warnings
from pathlib import Path

import numpy as np
import pyro
import pyro.distributions as dist
import pytest
import torch
from pyro.distributions import constraints

from vilab import CheckpointError, Trainer, TrainingDiverged
from vilab.checkpoint import VERSION
from vilab.exercises import temperature

DATA = torch.tensor([4.8, 5.3, 5.1, 4.6, 5.9, 5.2])
BEFORE, TOTAL = 5, 12  # steps before the fault, steps of the uninterrupted run


def gaussian_model(x):
    mu = pyro.sample("mu", dist.Normal(0.0, 10.0))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(mu, 1.0), obs=x)


def gaussian_guide(x):
    loc = pyro.param("loc", torch.tensor(0.0))
    scale = pyro.param("scale", torch.tensor(1.0), constraint=constraints.positive)
    pyro.sample("mu", dist.Normal(loc, scale))


def make(kind: str) -> Trainer:
    """Two set-ups: the temperature exercise (ClippedAdam with lr decay, 10 vectorised
    particles, analytic KL) and a plain Adam Gaussian."""
    if kind == "temperature":
        return temperature.make_trainer(seed=3)
    return Trainer(gaussian_model, gaussian_guide, args=(DATA,), lr=0.05, seed=3)


# -- snapshots ----------------------------------------------------------------------------------


def _copy(value):
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_copy(v) for v in value)
    if isinstance(value, np.ndarray):
        return value.copy()
    return value


def snapshot(trainer: Trainer) -> dict:
    """Everything a run is made of, copied."""
    with trainer.scope:
        store = pyro.get_param_store()
        params = {name: p.detach().clone() for name, p in store.named_parameters()}
        grads = {name: p.grad for name, p in store.named_parameters()}
        optim = _copy(trainer.optim.get_state())
        groups = [
            {k: v for k, v in g.items() if k != "params"}
            for g in getattr(trainer.optim, "param_groups", [])
        ]
    return {
        "params": params,
        "grads": grads,
        "optim": optim,
        "optim_groups": _copy(groups),
        "history": {k: v for k, v in trainer.history.to_dict().items() if k != "time"},
        "rng": _copy(trainer.scope.rng_state),
        "num_steps_done": trainer.num_steps_done,
        "lr": trainer.lr,
    }


def assert_same(a, b, where="state"):
    """Exact equality, tensors bit for bit."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        assert isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor), where
        assert a.shape == b.shape and a.dtype == b.dtype and torch.equal(a, b), where
    elif isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert np.array_equal(a, b), where
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), f"{where}: {a.keys()} {b.keys()}"
        for key in a:
            assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def no_grads(trainer: Trainer) -> bool:
    with trainer.scope:
        return all(p.grad is None for _, p in pyro.get_param_store().named_parameters())


def uninterrupted(kind: str, steps: int = TOTAL) -> Trainer:
    trainer = make(kind)
    trainer.run(steps, progress=False)
    return trainer


def assert_resumes_exactly(trainer: Trainer, kind: str, total: int = TOTAL) -> None:
    """Finish the run: the losses and parameters equal those of a run never interrupted."""
    trainer.run(total - trainer.num_steps_done, progress=False)
    reference = uninterrupted(kind, total)
    assert trainer.history.loss == reference.history.loss
    assert trainer.history.step == reference.history.step
    for name, value in reference.params().items():
        assert torch.equal(trainer.params()[name], value), name


# -- interrupts at each point of a step --------------------------------------------------------


def _fail_on_next_call(fn, exc=KeyboardInterrupt):
    calls = {"armed": True}

    def wrapper(*args, **kwargs):
        if calls["armed"]:
            calls["armed"] = False
            raise exc()
        return fn(*args, **kwargs)

    return wrapper


def _interrupt_before_model(trainer, monkeypatch):
    """Ctrl-C as the model starts (the guide has already drawn its samples)."""
    monkeypatch.setattr(trainer, "model", _fail_on_next_call(trainer.model))


def _interrupt_in_guide(trainer, monkeypatch):
    """Ctrl-C as the guide starts: nothing drawn yet."""
    monkeypatch.setattr(trainer, "guide", _fail_on_next_call(trainer.guide))


def _interrupt_after_backward(trainer, monkeypatch):
    """Ctrl-C after backward(): every parameter holds a gradient, nothing is updated."""
    import vilab.engine

    monkeypatch.setattr(vilab.engine, "_grads_finite", _fail_on_next_call(lambda p: True))


def _interrupt_as_update_starts(trainer, monkeypatch):
    """A KeyboardInterrupt raised by the optimiser before it changes anything."""
    cls = type(trainer.optim.optimizer)
    monkeypatch.setattr(cls, "step", _fail_on_next_call(cls.step))


PRE_UPDATE_FAULTS = {
    "before-model": _interrupt_before_model,
    "in-guide": _interrupt_in_guide,
    "after-backward": _interrupt_after_backward,
    "as-update-starts": _interrupt_as_update_starts,
}


@pytest.mark.parametrize("kind", ["temperature", "adam"])
@pytest.mark.parametrize("point", sorted(PRE_UPDATE_FAULTS))
def test_an_interrupt_before_the_update_leaves_the_state_as_before_the_step(
    point, kind, monkeypatch
):
    trainer = make(kind)
    trainer.run(BEFORE, progress=False)
    before = snapshot(trainer)
    PRE_UPDATE_FAULTS[point](trainer, monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        trainer.run(5, progress=False)
    assert no_grads(trainer)
    assert_same(snapshot(trainer), before)
    monkeypatch.undo()
    assert_resumes_exactly(trainer, kind)


@pytest.mark.parametrize("when", ["mid-update", "after-update"])
@pytest.mark.parametrize("kind", ["temperature", "adam"])
def test_ctrl_c_during_the_update_waits_for_it_and_counts_the_step(kind, when, monkeypatch):
    """A real SIGINT sent from inside the optimiser: the update finishes, the step is
    recorded, then KeyboardInterrupt; the state is exactly that after the step."""
    trainer = make(kind)
    trainer.run(BEFORE, progress=False)
    cls = type(trainer.optim.optimizer)
    original = cls.step
    sent = []

    def step_with_sigint(self, *args, **kwargs):
        if not sent and when == "mid-update":
            sent.append(os.kill(os.getpid(), signal.SIGINT))  # delivered right away
        result = original(self, *args, **kwargs)
        if not sent:
            sent.append(os.kill(os.getpid(), signal.SIGINT))
        return result

    monkeypatch.setattr(cls, "step", step_with_sigint)
    with pytest.raises(KeyboardInterrupt):
        trainer.run(5, progress=False)
    monkeypatch.undo()
    assert sent and trainer.num_steps_done == BEFORE + 1
    assert no_grads(trainer)
    after_one_step = uninterrupted(kind, BEFORE + 1)
    assert_same(snapshot(trainer), snapshot(after_one_step))
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert_resumes_exactly(trainer, kind)


@pytest.mark.parametrize("kind", ["temperature", "adam"])
def test_an_interrupt_inside_a_callback_keeps_the_finished_step(kind):
    trainer = make(kind)
    trainer.run(BEFORE, progress=False)

    def impatient(t):
        if t.num_steps_done == BEFORE + 2:
            raise KeyboardInterrupt

    callback = trainer.add_callback(impatient)
    with pytest.raises(KeyboardInterrupt):
        trainer.run(5, progress=False)
    trainer.remove_callback(callback)
    assert no_grads(trainer)
    assert_same(snapshot(trainer), snapshot(uninterrupted(kind, BEFORE + 2)))
    assert_resumes_exactly(trainer, kind)


def test_a_diverged_step_rewinds_the_random_stream_and_keeps_the_last_parameters(monkeypatch):
    trainer = make("adam")
    trainer.run(BEFORE, progress=False)
    before = snapshot(trainer)
    model = trainer.model
    calls = {"n": 0}

    def model_once_nan(x):
        calls["n"] += 1
        model(x)
        if calls["n"] == 1:
            pyro.factor("boom", torch.tensor(float("nan")))

    monkeypatch.setattr(trainer, "model", model_once_nan)
    with pytest.raises(TrainingDiverged, match=f"step {BEFORE + 1}"):
        trainer.run(5, progress=False)
    assert no_grads(trainer)
    assert_same(snapshot(trainer), before)
    monkeypatch.undo()
    assert_resumes_exactly(trainer, "adam")


def test_an_interrupt_before_an_earlier_fix_would_have_added_stale_gradients(monkeypatch):
    """The issue's case: Ctrl-C between backward() and the update used to leave the
    gradients, and the next step added them to its own. Now the next step equals the
    step of a run never interrupted."""
    trainer = make("adam")
    trainer.run(BEFORE, progress=False)
    _interrupt_after_backward(trainer, monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        trainer.step()
    monkeypatch.undo()
    trainer.step()
    reference = uninterrupted("adam", BEFORE + 1)
    assert_same(trainer.params(), reference.params())


# -- checkpoints: refused, damaged, from another model or optimiser ----------------------------


@pytest.fixture
def trained(tmp_path):
    """A trained temperature trainer, its checkpoint, and its snapshot."""
    trainer = make("temperature")
    trainer.run(30, progress=False)
    path = tmp_path / "run.pt"
    trainer.save(path)
    trainer.run(4, progress=False)  # the trainer has moved on since the save
    return trainer, path, snapshot(trainer)


def _refused(trainer, path, before, match):
    with pytest.raises(CheckpointError, match=match) as info:
        trainer.load(path)
    assert "weights_only=False" not in str(info.value)
    assert_same(snapshot(trainer), before)
    return info.value


def test_a_checkpoint_of_other_parameter_names_leaves_the_trainer_intact(trained):
    trainer, path, _ = trained

    def other_guide(sensor):
        pyro.sample("temp", dist.Normal(pyro.param("mean", torch.tensor(15.0)), 1.0))

    other = Trainer(temperature.model, other_guide, args=(temperature.SENSOR_READING,))
    other.run(20, progress=False)
    _refused(other, path, snapshot(other), r"only in the checkpoint: \['a', 'b'\]")


def test_a_checkpoint_of_other_shapes_leaves_the_trainer_intact(trained):
    _, path, _ = trained

    def wide_guide(sensor):
        a = pyro.param("a", torch.full((2,), 15.0))
        b = pyro.param("b", torch.ones(2), constraint=constraints.positive)
        pyro.sample("temp", dist.Normal(a, b).to_event(1))

    def wide_model(sensor):
        temp = pyro.sample("temp", dist.Normal(15.0, 2.0).expand([2]).to_event(1))
        pyro.sample("sensor", dist.Normal(temp.sum(), 1.0), obs=sensor)

    other = Trainer(wide_model, wide_guide, args=(temperature.SENSOR_READING,))
    other.run(20, progress=False)
    _refused(other, path, snapshot(other), r"'a' has shape \(\) in the checkpoint but \(2,\)")


def log_scale_guide(sensor):
    """The same parameter names as the temperature guide, but 'b' is a log-scale."""
    a = pyro.param("a", torch.tensor(15.0))
    b = pyro.param("b", torch.tensor(0.0))
    pyro.sample("temp", dist.Normal(a, b.exp()))


def test_another_model_sharing_parameter_names_is_refused_not_corrupted(tmp_path):
    """The issue's case: 'b' saved unconstrained, loaded as a positive parameter, became
    exp(17.4) = 35,789,244 and the next step crashed."""
    source = Trainer(temperature.model, log_scale_guide, args=(temperature.SENSOR_READING,))
    source.run(30, progress=False)
    source.save(tmp_path / "log.pt")
    target = make("temperature")
    target.run(10, progress=False)
    error = _refused(
        target, tmp_path / "log.pt", snapshot(target), "written by another model/guide"
    )
    assert "parameter 'b': checkpoint shape (), constraint Real(); this trainer shape (), " in (
        str(error)
    )
    assert "constraint GreaterThan(lower_bound=0.0)" in str(error)
    assert_resumes_exactly(target, "temperature")


def test_a_clipped_adam_checkpoint_into_an_adam_trainer_is_refused(trained):
    _, path, _ = trained
    adam = temperature.make_trainer(seed=3, optim="adam", optim_args={})
    adam.run(10, progress=False)
    _refused(
        adam,
        path,
        snapshot(adam),
        r"trained with the optimiser ClippedAdam, this trainer uses Adam",
    )


def test_a_version_1_clipped_adam_checkpoint_is_recognised_too(trained, tmp_path):
    _, path, _ = trained
    state = torch.load(path, weights_only=True)
    for key in ("identity", "optim_kind"):
        del state[key]
    state["version"] = 1
    torch.save(state, tmp_path / "v1.pt")
    adam = temperature.make_trainer(seed=3, optim="adam", optim_args={})
    _refused(adam, tmp_path / "v1.pt", snapshot(adam), "ClippedAdam, this trainer uses Adam")


def test_a_version_1_checkpoint_still_loads_and_resumes_exactly(tmp_path):
    first = make("temperature")
    first.run(BEFORE, progress=False)
    first.save(tmp_path / "run.pt")
    state = torch.load(tmp_path / "run.pt", weights_only=True)
    assert state["version"] == VERSION == 2
    for key in ("identity", "optim_kind"):
        del state[key]
    state["version"] = 1
    torch.save(state, tmp_path / "v1.pt")
    resumed = make("temperature")
    resumed.run(3, progress=False)
    resumed.load(tmp_path / "v1.pt")
    assert_same(snapshot(resumed)["params"], snapshot(first)["params"])
    assert_resumes_exactly(resumed, "temperature")


def _write_damaged(kind: str, source: str, target) -> None:
    if kind == "truncated":
        data = Path(source).read_bytes()
        target.write_bytes(data[: len(data) // 2])
    elif kind == "random-bytes":
        target.write_bytes(np.random.default_rng(0).bytes(4096))
    elif kind == "empty":
        target.write_bytes(b"")
    elif kind == "code":  # a pickle holding an object: weights_only refuses it
        torch.save({"format": "vilab-checkpoint", "payload": np.dtype}, target)


@pytest.mark.parametrize(
    "kind, match",
    [
        ("truncated", "damaged \\(cut short\\?\\) or not a checkpoint"),
        ("random-bytes", "damaged \\(cut short\\?\\) or not a checkpoint"),
        ("empty", "damaged \\(cut short\\?\\) or not a checkpoint"),
        ("code", "holds Python objects other than tensors.*could run code"),
    ],
)
def test_damaged_files_are_refused_without_unsafe_advice(trained, tmp_path, kind, match):
    trainer, path, before = trained
    _write_damaged(kind, path, tmp_path / "bad.pt")
    _refused(trainer, tmp_path / "bad.pt", before, match)


def _edited(path, tmp_path, edit):
    state = torch.load(path, weights_only=True)
    edit(state)
    torch.save(state, tmp_path / "edited.pt")
    return tmp_path / "edited.pt"


EDITS = {
    "newer-version": (lambda s: s.update(version=99), "format version 99.*update vilab"),
    "no-params": (lambda s: s.pop("params"), "incomplete vilab checkpoint.*'params'"),
    "bad-rng": (lambda s: s["rng"].update(torch=torch.zeros(3, dtype=torch.uint8)), "damaged"),
    "short-history": (lambda s: s["history"]["loss"].pop(), "damaged"),
    "nan-param": (lambda s: s["params"]["a"].fill_(float("nan")), "'a' holds NaN/inf"),
    "optim-shape": (
        lambda s: s["optim"]["a"]["state"][0].update(exp_avg=torch.zeros(3)),
        r"optimiser state 'exp_avg' of 'a' has shape \(3,\)",
    ),
    "bad-lr": (lambda s: s.update(lr=-1.0), "damaged.*learning rate must be a positive"),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_wrong_contents_are_refused_before_anything_changes(trained, tmp_path, edit):
    trainer, path, before = trained
    change, match = EDITS[edit]
    _refused(trainer, _edited(path, tmp_path, change), before, f"(?s){match}")


def test_a_refused_load_then_a_good_one_resumes_exactly(trained, tmp_path):
    trainer, path, _ = trained
    with pytest.raises(CheckpointError):
        trainer.load(_edited(path, tmp_path, lambda s: s.update(version=99)))
    trainer.load(path)
    assert trainer.num_steps_done == 30
    assert_resumes_exactly(trainer, "temperature", total=36)


def test_the_checkpoints_lr_wins_with_a_warning(tmp_path):
    first = make("adam")
    first.run(BEFORE, progress=False)
    first.save(tmp_path / "run.pt")
    other = Trainer(gaussian_model, gaussian_guide, args=(DATA,), lr=0.01, seed=3)
    with pytest.warns(UserWarning, match=r"trained with lr=0.05.*built with lr=0.01.*"):
        other.load(tmp_path / "run.pt")
    assert other.lr == 0.05
    assert_resumes_exactly(other, "adam")


def test_a_checkpoint_that_cannot_be_written_leaves_nothing_behind(tmp_path):
    trainer = make("adam")
    trainer.run(BEFORE, progress=False)
    before = snapshot(trainer)
    target = tmp_path / "missing-folder" / "run.pt"
    with pytest.raises(OSError, match="Could not save the checkpoint to .*Fix: save into a folder"):
        trainer.save(target)
    assert not target.parent.exists()
    assert_same(snapshot(trainer), before)


# -- bad data, bad sizes, bad arguments ------------------------------------------------------


def sequential_model(x):
    """No plate: one site per data point, in a Python loop."""
    mu = pyro.sample("mu", dist.Normal(0.0, 10.0))
    for i in range(len(x)):
        pyro.sample(f"x_{i}", dist.Normal(mu, 1.0), obs=x[i])


@pytest.mark.parametrize(
    "model, data, match",
    [
        (gaussian_model, DATA.tolist(), r"observed at 'x' are a Python list.*torch.tensor\(data"),
        (gaussian_model, DATA.numpy(), r"observed at 'x' are a numpy float32 array"),
        (gaussian_model, torch.tensor([]), r"args\[0\] are empty \(shape \(0,\)\).*prior"),
        (sequential_model, torch.tensor([]), r"args\[0\] are empty"),
        (gaussian_model, [], r"args\[0\] are empty"),
    ],
    ids=["list", "numpy", "empty-plate", "empty-no-plate", "empty-list"],
)
def test_bad_data_gets_a_teaching_error(model, data, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy data also warns about its type
        with pytest.raises(ValueError, match=f"(?s){match}"):
            Trainer(model, gaussian_guide, args=(data,))


def test_empty_data_is_refused_even_without_checks():
    with pytest.raises(ValueError, match="are empty"):
        Trainer(gaussian_model, gaussian_guide, args=(torch.tensor([]),), check=False)


@pytest.mark.parametrize(
    "num_steps", [np.int64(4), torch.tensor(4), 4.0, np.float64(4.0)], ids=repr
)
def test_whole_numbers_of_any_type_are_step_counts(num_steps):
    trainer = make("adam")
    trainer.run(num_steps, progress=False)
    trainer.step(num_steps)
    assert trainer.num_steps_done == 8
    assert type(trainer.num_steps_done) is int


@pytest.mark.parametrize(
    "num_steps, hint",
    [
        (2.5, "Fix: round it, e.g. num_steps=2"),
        (0, "Fix: pass a count"),
        ("100", "Fix: pass a count"),
        (torch.tensor([1, 2]), "Fix: pass a count"),
        (float("inf"), "Fix: pass a count"),
    ],
    ids=["2.5", "0", "str", "vector", "inf"],
)
def test_bad_step_counts_are_refused_and_change_nothing(num_steps, hint):
    trainer = make("adam")
    trainer.run(BEFORE, progress=False)
    before = snapshot(trainer)
    with pytest.raises(ValueError, match=f"num_steps must be a whole number >= 1.*{hint}"):
        trainer.run(num_steps, progress=False)
    assert_same(snapshot(trainer), before)


def test_a_refused_learning_rate_changes_nothing():
    trainer = make("adam")
    trainer.run(BEFORE, progress=False)
    before = snapshot(trainer)
    with pytest.raises(ValueError, match="learning rate must be a positive number"):
        trainer.lr = -1
    assert_same(snapshot(trainer), before)
    assert_resumes_exactly(trainer, "adam")

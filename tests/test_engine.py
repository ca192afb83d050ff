"""The headless engine: steps, history, observers, loss choices, NaN stop, bad input."""

from __future__ import annotations

import math
import warnings

import pyro
import pyro.distributions as dist
import pytest
import torch
from pyro.distributions import constraints

from vilab import Callback, ModelGuideMismatch, Trainer, TrainingDiverged
from vilab.exercises import temperature

DATA = torch.tensor([4.8, 5.3, 5.1, 4.6, 5.9, 5.2])


def gaussian_model(x):
    loc = pyro.sample("loc", dist.Normal(0.0, 10.0))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(loc, 1.0), obs=x)


def gaussian_guide(x):
    loc = pyro.param("loc_loc", torch.tensor(0.0))
    scale = pyro.param("loc_scale", torch.tensor(1.0), constraint=constraints.positive)
    pyro.sample("loc", dist.Normal(loc, scale))


def same_params(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def make(**options):
    return Trainer(gaussian_model, gaussian_guide, args=(DATA,), **options)


def test_step_and_run_record_one_history_entry_per_step():
    trainer = make(lr=0.05)
    trainer.step(3)
    trainer.run(7, progress=False)
    history = trainer.history
    assert history.step == list(range(1, 11))
    assert len(history.loss) == len(history.time) == 10
    assert all(b >= a for a, b in zip(history.time, history.time[1:]))
    assert trainer.num_steps_done == 10
    # ELBO per data point is the negative loss divided by the 6 observed points
    assert history.num_data == 6
    assert history.elbo_per_point[-1] == pytest.approx(-history.loss[-1] / 6)


def test_training_moves_towards_the_conjugate_posterior():
    trainer = make(lr=0.05, elbo="meanfield", num_particles=4, vectorize_particles=True)
    trainer.run(1500, progress=False)
    # prior N(0, 10^2), unit noise, 6 points: posterior precision 6.01, mean sum(x)/6.01
    post_mean = float(DATA.sum()) / (6 + 0.01)
    assert float(trainer.param("loc_loc")) == pytest.approx(post_mean, abs=0.1)
    assert float(trainer.param("loc_scale")) == pytest.approx(1 / math.sqrt(6.01), abs=0.08)
    assert trainer.history.loss[-1] < trainer.history.loss[0]


class Recorder(Callback):
    def __init__(self, every):
        self.every = every
        self.events = []

    def on_run_start(self, trainer, num_steps):
        self.events.append(("start", num_steps))

    def on_steps(self, trainer):
        self.events.append(("steps", trainer.num_steps_done))

    def on_run_end(self, trainer, error):
        self.events.append(("end", error))


def test_observers_hear_every_k_steps_and_the_end_of_each_run():
    trainer = make()
    recorder = trainer.add_callback(Recorder(every=4))
    seen = []
    trainer.add_callback(lambda t: seen.append(t.num_steps_done), every=5)
    trainer.run(10, progress=False)
    assert recorder.events == [
        ("start", 10),
        ("steps", 4),
        ("steps", 8),
        ("steps", 10),
        ("end", None),
    ]
    assert seen == [5, 10]
    trainer.step(3)  # steps 11-13, a quiet block: no start/end, no end-of-block call
    assert recorder.events[-1] == ("steps", 12) and seen == [5, 10]
    for _ in range(12):  # steps 14-25: a loop of step(1) keeps each observer's pace
        trainer.step(1)
    assert recorder.events[-3:] == [("steps", 16), ("steps", 20), ("steps", 24)]
    assert seen == [5, 10, 15, 20, 25]


def test_a_run_in_chunks_notifies_like_one_run():
    chunked, whole = make(), make()
    chunked_events = chunked.add_callback(Recorder(every=4)).events
    whole_events = whole.add_callback(Recorder(every=4)).events
    with chunked.running(10) as run:
        while run.remaining:
            assert run.step(3) <= 3
    whole.run(10, progress=False)
    assert chunked_events == whole_events  # start, 4, 8, 10 (the end), end
    assert chunked.history.loss == whole.history.loss


def test_callback_arguments_are_validated():
    trainer = make()
    with pytest.raises(TypeError, match="callable"):
        trainer.add_callback(42)
    with pytest.raises(ValueError, match="every"):
        trainer.add_callback(print, every=0)


def test_progress_bar_prints_to_the_terminal_and_can_be_turned_off(capsys):
    trainer = make()
    trainer.run(20, progress=True)
    err = capsys.readouterr().err
    assert "SVI" in err and "20/20" in err and "ELBO/point" in err
    trainer.run(20, progress=False)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("elbo", ["trace", "meanfield"])
@pytest.mark.parametrize("jit", [False, True])
def test_every_loss_choice_trains(elbo, jit):
    trainer = make(lr=0.05, elbo=elbo, jit=jit, num_particles=3)
    trainer.run(200, progress=False)
    assert all(math.isfinite(v) for v in trainer.history.loss)
    assert sum(trainer.history.loss[-20:]) < sum(trainer.history.loss[:20])


def test_compiling_survives_warnings_as_errors():
    """torch 2.13 deprecates torch.jit.trace under Pyro's compiled ELBOs; the notice is about
    vilab's choice to compile (the VAE exercise's default), so ``-W error`` must not stop it."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        trainer = make(lr=0.05, elbo="meanfield", jit=True)
        trainer.run(5, progress=False)
    assert trainer.jit_active and all(math.isfinite(v) for v in trainer.history.loss)


def test_unknown_choices_are_explained():
    with pytest.raises(ValueError, match="Unknown elbo 'tracee'.*meanfield"):
        make(elbo="tracee")
    with pytest.raises(ValueError, match="Unknown optimiser 'adamw'.*clipped_adam"):
        make(optim="adamw")
    with pytest.raises(ValueError, match="num_particles"):
        make(num_particles=0)


def test_two_trainers_never_share_parameters():
    alone = make(seed=1)
    alone.run(50, progress=False)

    first, second = make(seed=1), make(seed=2, lr=0.5)
    pyro.param("loc_loc", torch.tensor(123.0))  # a stale global parameter of the same name
    for _ in range(5):
        first.step(10)
        second.step(10)
    assert first.history.loss == alone.history.loss
    assert torch.equal(first.param("loc_loc"), alone.param("loc_loc"))
    assert not torch.equal(first.param("loc_loc"), second.param("loc_loc"))
    # the global store and random stream belong to the user, untouched by training
    assert pyro.param("loc_loc").item() == 123.0
    assert set(pyro.get_param_store().keys()) == {"loc_loc"}


def test_training_does_not_advance_the_global_random_stream():
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    make().run(20, progress=False)
    assert torch.equal(torch.rand(3), expected)


def test_same_seed_gives_the_same_loss_trace_and_another_seed_does_not():
    runs = [make(seed=seed) for seed in (3, 3, 4)]
    for trainer in runs:
        trainer.run(100, progress=False)
    assert runs[0].history.loss == runs[1].history.loss
    assert runs[0].history.loss != runs[2].history.loss


def test_pause_and_resume_equals_one_long_run():
    whole = temperature.make_trainer(seed=5)
    whole.run(500, progress=False)
    split = temperature.make_trainer(seed=5)
    split.run(300, progress=False)
    split.run(200, progress=False)
    assert split.history.loss == whole.history.loss
    assert same_params(split.params(), whole.params())


def test_request_stop_pauses_after_the_current_step():
    trainer = make()
    trainer.add_callback(lambda t: t.request_stop(), every=25)
    trainer.run(1000, progress=False)
    assert trainer.num_steps_done == 25
    trainer.run(10, progress=False)  # a new run is not blocked by the old request
    assert trainer.num_steps_done == 35


def test_learning_rate_change_takes_effect_on_the_next_step():
    trainer = make(optim="sgd", lr=0.01)
    trainer.step(1)
    trainer.lr = 0.002
    before = trainer.param("loc_loc").clone()
    trainer.step(1)
    assert trainer.optim.param_groups[0]["lr"] == 0.002
    assert trainer.lr == 0.002
    assert not torch.equal(before, trainer.param("loc_loc"))


def test_reset_restores_the_initial_parameters_and_clears_history():
    trainer = make(seed=9)
    initial = trainer.params()
    trainer.run(30, progress=False)
    assert trainer.params()["loc_loc"] != initial["loc_loc"]
    first_trace = list(trainer.history.loss)
    trainer.reset()
    assert same_params(trainer.params(), initial)
    assert len(trainer.history) == 0 and trainer.num_steps_done == 0
    trainer.run(30, progress=False)
    assert trainer.history.loss == first_trace


class InfiniteAfter:
    """A model whose log density becomes infinite from call ``n + 1`` on (1 trace per step)."""

    def __init__(self, n):
        self.calls, self.n = 0, n

    def __call__(self, x):
        self.calls += 1
        gaussian_model(x)
        if self.calls > self.n:
            pyro.factor("broken", torch.tensor(float("inf")))


@pytest.mark.filterwarnings("ignore:Encountered \\+inf")
def test_nan_loss_stops_training_and_keeps_the_last_finite_parameters():
    model = InfiniteAfter(n=1 + 5)  # one trace when the trainer is built, then 5 good steps
    # jit=False: the model counts its calls in Python, which a compiled ELBO would freeze
    trainer = Trainer(model, gaussian_guide, args=(DATA,), lr=0.1, jit=False)
    snapshots = []
    trainer.add_callback(lambda t: snapshots.append(t.params()), every=1)
    with pytest.raises(TrainingDiverged, match="step 6: the loss became -inf") as info:
        trainer.run(100, progress=False)
    assert info.value.step == 6
    message = str(info.value)
    assert "learning rate" in message and "constraints.positive" in message and "data" in message
    assert len(trainer.history) == 5
    assert same_params(trainer.params(), snapshots[4])
    assert all(math.isfinite(float(v)) for v in trainer.params().values())


def test_a_nan_gradient_under_a_finite_loss_stops_training_before_the_update():
    class NanGradientAfter(InfiniteAfter):
        """sqrt(-loc) is NaN but masked out of the loss, so the loss stays finite while the
        gradient of loc_loc becomes 0 * NaN = NaN."""

        def __call__(self, x):
            self.calls += 1
            loc = pyro.sample("loc", dist.Normal(0.0, 10.0))
            with pyro.plate("data", len(x)):
                pyro.sample("x", dist.Normal(loc, 1.0), obs=x)
            if self.calls > self.n:
                masked = torch.where(loc > 1e9, torch.sqrt(-loc.abs() - 1.0), torch.zeros(()))
                pyro.factor("masked", masked)

    trainer = Trainer(NanGradientAfter(n=1 + 4), gaussian_guide, args=(DATA,), lr=0.1, jit=False)
    snapshots = []
    trainer.add_callback(lambda t: snapshots.append(t.params()), every=1)
    with pytest.raises(TrainingDiverged, match="step 5: a gradient became NaN/inf"):
        trainer.run(50, progress=False)
    assert len(trainer.history) == 4 and math.isfinite(trainer.history.loss[-1])
    assert same_params(trainer.params(), snapshots[3])


def test_invalid_distribution_parameters_are_reported_as_divergence():
    def bad_guide(x):
        loc = pyro.param("loc_loc", torch.tensor(0.0))
        scale = pyro.param("loc_scale", torch.tensor(0.05))  # no positivity constraint
        pyro.sample("loc", dist.Normal(loc, scale))

    trainer = Trainer(gaussian_model, bad_guide, args=(DATA,), lr=1.0, optim="sgd", check=False)
    with pytest.raises(TrainingDiverged, match="invalid parameters.*scale") as info:
        trainer.run(200, progress=False)
    assert "constraints.positive" in str(info.value)
    # the failing step changed nothing: the history and parameters end at the step before
    assert len(trainer.history) == info.value.step - 1
    assert math.isfinite(float(trainer.param("loc_scale")))


def test_pyro_checks_arguments_on_the_first_steps_and_every_validate_every_th():
    checked_at = []

    def watched_guide(x):
        checked_at.append(pyro.distributions.is_validation_enabled())
        gaussian_guide(x)

    trainer = Trainer(gaussian_model, watched_guide, args=(DATA,), check=False)
    checked_at.clear()  # the set-up's calls
    trainer.run(60, progress=False)
    # the path-derivative ELBO calls the guide twice a step
    per_step = [all(flags) for flags in zip(checked_at[::2], checked_at[1::2])]
    assert [step for step, on in enumerate(per_step) if on] == [*range(25), 25, 50]
    every = Trainer(gaussian_model, watched_guide, args=(DATA,), check=False, validate_every=1)
    checked_at.clear()
    every.run(30, progress=False)
    assert all(checked_at)
    assert pyro.distributions.is_validation_enabled()  # the global switch is as it was


@pytest.mark.filterwarnings("ignore:Encountered NaN")  # Pyro's, from the unchecked step
@pytest.mark.parametrize("validate_every", [1, 25])
def test_an_argument_that_turns_invalid_between_checks_is_still_named(validate_every):
    """Step 31 runs without Pyro's checks; the scale turned negative fails it, and the replay
    with the checks names the argument, as checking every step does."""

    def unconstrained_guide(x):
        loc = pyro.param("loc_loc", torch.tensor(0.0))
        scale = pyro.param("loc_scale", torch.tensor(0.5))  # no positivity constraint
        pyro.sample("loc", dist.Normal(loc, scale))

    trainer = Trainer(
        gaussian_model,
        unconstrained_guide,
        args=(DATA,),
        lr=0.001,
        check=False,
        validate_every=validate_every,
    )
    trainer.run(30, progress=False)
    with trainer.activated(), torch.no_grad():
        pyro.param("loc_scale").fill_(-0.5)
    with pytest.raises(
        TrainingDiverged, match=r"step 31: a distribution got invalid param"
    ) as info:
        trainer.step(1)
    assert "scale" in str(info.value) and "constraints.positive" in str(info.value)
    assert len(trainer.history) == 30


@pytest.mark.parametrize("validate_every", [0, -1, 2.5, True])
def test_validate_every_must_be_a_count(validate_every):
    with pytest.raises(ValueError, match="validate_every must be a whole number"):
        make(validate_every=validate_every)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"model": "model"}, TypeError, "model must be a function"),
        ({"guide": None}, TypeError, "guide must be a function"),
        ({"lr": 0}, ValueError, "learning rate must be a positive number"),
        ({"lr": -0.1}, ValueError, "learning rate must be a positive number"),
        ({"lr": float("nan")}, ValueError, "learning rate"),
        ({"args": DATA}, TypeError, r"args=\(data,\)"),
        (
            {"args": (torch.tensor([1.0, float("nan")]),)},
            ValueError,
            r"args\[0\] contain 1 NaN/inf value.*index \(1,\)",
        ),
    ],
)
def test_bad_input_gets_a_clear_error(kwargs, error, match):
    options = {"model": gaussian_model, "guide": gaussian_guide, "args": (DATA,), **kwargs}
    with pytest.raises(error, match=match):
        Trainer(options.pop("model"), options.pop("guide"), **options)


@pytest.mark.parametrize("num_steps", [0, -5, 2.5, True, "10"])
def test_num_steps_must_be_a_positive_whole_number(num_steps):
    trainer = make()
    with pytest.raises(ValueError, match="num_steps must be a whole number >= 1"):
        trainer.run(num_steps, progress=False)
    with pytest.raises(ValueError, match="num_steps"):
        trainer.step(num_steps)


def test_a_guide_missing_a_latent_site_is_named():
    def model(x):
        loc = pyro.sample("loc", dist.Normal(0.0, 10.0))
        noise = pyro.sample("noise", dist.HalfNormal(1.0))
        with pyro.plate("data", len(x)):
            pyro.sample("x", dist.Normal(loc, noise), obs=x)

    with pytest.raises(ModelGuideMismatch, match="(?s)'noise'.*pyro.sample\\('noise'"):
        Trainer(model, gaussian_guide, args=(DATA,))


def test_sample_posterior_uses_the_trainers_parameters():
    trainer = temperature.make_trainer()
    trainer.run(400, progress=False)
    for parallel in (False, True):
        samples = trainer.sample_posterior(2000, parallel=parallel)
        assert samples["temp"].shape == (2000,)
        assert float(samples["temp"].mean()) == pytest.approx(float(trainer.param("a")), abs=0.1)


def test_reset_also_restores_networks_registered_with_pyro_module():
    net = torch.nn.Linear(1, 1)

    def model(x):
        pyro.module("net", net)
        loc = pyro.sample("loc", dist.Normal(0.0, 10.0))
        with pyro.plate("data", len(x)):
            pyro.sample("x", dist.Normal(loc + net(x.unsqueeze(-1)).squeeze(-1), 1.0), obs=x)

    trainer = Trainer(model, gaussian_guide, args=(DATA,), lr=0.1)
    initial = trainer.params()
    trainer.run(20, progress=False)
    assert not torch.equal(net.weight, initial["net$$$weight"])
    trainer.reset()
    assert same_params(trainer.params(), initial)
    assert torch.equal(net.weight.detach(), initial["net$$$weight"])

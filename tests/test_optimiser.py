"""The shared optimiser: the same updates as pyro.optim, bit for bit, from one torch optimiser;
state in pyro.optim's format; the engine's one-call gradient check."""

from __future__ import annotations

import json
import subprocess
import sys

import pyro
import pyro.distributions as dist
import pyro.optim
import pytest
import torch
from pyro.distributions import constraints
from pyro.infer import SVI, Trace_ELBO

import vilab.optimiser
from vilab import Trainer
from vilab.engine import _grads_finite
from vilab.optimiser import SharedOptimiser

X = torch.linspace(-1.0, 1.0, 8)
Y = 0.5 + 2.0 * X + 0.1 * torch.tensor([1.0, -2.0, 0.5, 0.3, -0.7, 1.1, -0.2, 0.4])


def regression_model(x, y):
    weight = pyro.sample("weight", dist.Normal(0.0, 5.0))
    bias = pyro.sample("bias", dist.Normal(0.0, 5.0))
    with pyro.plate("data", len(x)):
        pyro.sample("y", dist.Normal(bias + weight * x, 0.3), obs=y)


def regression_guide(x, y):
    for site in ("weight", "bias"):
        loc = pyro.param(f"{site}_loc", torch.tensor(0.0))
        scale = pyro.param(f"{site}_scale", torch.tensor(1.0), constraint=constraints.positive)
        pyro.sample(site, dist.Normal(loc, scale))


PYRO_EQUIVALENT = {  # vilab's choice -> the pyro.optim object a student would write by hand
    "adam": lambda lr, extra: pyro.optim.Adam({"lr": lr, **extra}),
    "clipped_adam": lambda lr, extra: pyro.optim.ClippedAdam({"lr": lr, **extra}),
    "sgd": lambda lr, extra: pyro.optim.SGD({"lr": lr, **extra}),
}


def hand_written_run(model, guide, args, num_steps, optim, lr, optim_args, seed=0):
    """Pyro's own SVI loop, in the parameter store and random stream a fresh Trainer with the
    same seed starts from: the reference the engine must reproduce exactly."""
    twin = Trainer(
        model, guide, args=args, lr=lr, optim=optim, optim_args=optim_args, seed=seed, elbo="trace"
    )
    with twin.scope:
        pyro_optim = PYRO_EQUIVALENT[optim](lr, optim_args)
        svi = SVI(model, guide, pyro_optim, Trace_ELBO())
        losses = [svi.step(*args) for _ in range(num_steps)]
        state = pyro_optim.get_state()
    return losses, twin.params(), state


@pytest.mark.parametrize(
    "optim, lr, optim_args",
    [("adam", 0.02, {}), ("clipped_adam", 0.02, {"lrd": 0.99}), ("sgd", 1e-4, {"momentum": 0.9})],
)
def test_the_engine_reproduces_a_hand_written_svi_loop_bit_for_bit(optim, lr, optim_args):
    args = (X, Y)
    trainer = Trainer(
        regression_model,
        regression_guide,
        args=args,
        lr=lr,
        optim=optim,
        optim_args=optim_args,
        elbo="trace",
    )
    trainer.run(60, progress=False)
    losses, params, _ = hand_written_run(
        regression_model, regression_guide, args, 60, optim, lr, optim_args
    )
    assert trainer.history.loss == losses
    assert trainer.params().keys() == params.keys()
    for name, value in params.items():
        assert torch.equal(trainer.param(name), value), name


def test_saved_state_has_pyro_optims_format_and_values():
    args = (X, Y)
    trainer = Trainer(
        regression_model,
        regression_guide,
        args=args,
        elbo="trace",
        lr=0.05,
        optim="clipped_adam",
        optim_args={"lrd": 0.95},
    )
    trainer.run(25, progress=False)
    with trainer.scope:
        ours = trainer.optim.get_state()
    _, _, theirs = hand_written_run(
        regression_model, regression_guide, args, 25, "clipped_adam", 0.05, {"lrd": 0.95}
    )
    assert ours.keys() == theirs.keys() == {"weight_loc", "weight_scale", "bias_loc", "bias_scale"}
    for name in ours:
        assert ours[name]["param_groups"] == theirs[name]["param_groups"]  # decayed lr included
        assert ours[name]["state"].keys() == theirs[name]["state"].keys() == {0}
        for key, value in theirs[name]["state"][0].items():
            mine = ours[name]["state"][0][key]
            assert torch.equal(mine, value) if torch.is_tensor(value) else mine == value


class SometimesExtra:
    """A guide with a parameter that only every third step uses: like pyro.optim, the
    optimiser must leave it (and its Adam moments) alone on the other steps."""

    def __init__(self):
        self.calls = 0

    def __call__(self, x, y):
        self.calls += 1
        regression_guide(x, y)
        if self.calls % 3 == 0:
            shift = pyro.param("shift", torch.tensor(0.5))
            pyro.factor("shift_penalty", -((shift - 1.0) ** 2), has_rsample=True)


def test_parameters_a_step_does_not_use_are_not_moved_by_it():
    args = (X, Y)
    trainer = Trainer(
        regression_model,
        SometimesExtra(),
        args=args,
        elbo="trace",
        optim="adam",
        lr=0.05,
        check=False,
    )
    trainer.run(30, progress=False)
    losses, params, _ = hand_written_run(
        regression_model, SometimesExtra(), args, 30, "adam", 0.05, {}
    )
    assert trainer.history.loss == losses
    assert torch.equal(trainer.param("shift"), params["shift"])
    assert float(trainer.param("shift")) != 0.5


def test_a_checkpoint_saved_right_after_loading_keeps_the_optimiser_state(tmp_path):
    def make():
        return Trainer(regression_model, regression_guide, args=(X, Y), lr=0.05, seed=3)

    whole = make()
    whole.run(50, progress=False)
    first = make()
    first.run(30, progress=False)
    first.save(tmp_path / "a.pt")
    middle = make()
    middle.load(tmp_path / "a.pt")
    middle.save(tmp_path / "b.pt")  # no step in between: the Adam moments must survive
    last = make()
    last.load(tmp_path / "b.pt")
    last.run(20, progress=False)
    assert last.history.loss == whole.history.loss


def test_a_learning_rate_change_reaches_parameters_first_seen_after_it():
    trainer = Trainer(
        regression_model, SometimesExtra(), args=(X, Y), elbo="trace", lr=0.05, check=False
    )
    trainer.step(1)  # the guide's first call was at construction: "shift" comes at step 2
    trainer.lr = 0.001
    trainer.step(2)
    assert trainer.optim.param_groups[0]["lr"] == 0.001
    assert len(trainer.optim.optimizer.state) == 5


def test_options_the_optimiser_does_not_have_are_named():
    with pytest.raises(ValueError, match=r"\['lrd'\] are not options of 'adam'.*clipped_adam"):
        Trainer(
            regression_model, regression_guide, args=(X, Y), optim="adam", optim_args={"lrd": 0.9}
        )
    with pytest.raises(ValueError, match=r"\['momentun'\].*'sgd'; it accepts .*momentum"):
        Trainer(
            regression_model,
            regression_guide,
            args=(X, Y),
            optim="sgd",
            optim_args={"momentun": 0.9},
        )


def with_grads(*grads):
    params = []
    for grad in grads:
        param = torch.zeros_like(grad, requires_grad=True)
        param.grad = grad
        params.append(param)
    return params


def test_the_gradient_check_finds_any_nan_or_inf_and_changes_no_gradient():
    finite = with_grads(torch.tensor([-0.0, 1e-45, 3e38, 3e38]), torch.ones(3, dtype=torch.float64))
    before = [p.grad.clone() for p in finite]
    assert _grads_finite(finite)  # huge values whose sum overflows are still finite
    for p, grad in zip(finite, before):
        assert torch.equal(p.grad, grad) and torch.equal(p.grad.signbit(), grad.signbit())
    for bad in (float("nan"), float("inf"), -float("inf")):
        params = with_grads(torch.ones(4), torch.tensor([[1.0, bad], [0.0, 2.0]]))
        assert not _grads_finite(params)
    assert _grads_finite(with_grads()) and _grads_finite([torch.zeros(2, requires_grad=True)])


def test_the_gradient_check_handles_gradients_the_fused_kernel_refuses():
    sparse = torch.sparse_coo_tensor([[0, 2]], [1.0, 2.0], (4,), check_invariants=True)
    assert _grads_finite(with_grads(sparse, torch.ones(2)))
    broken = torch.sparse_coo_tensor([[0, 2]], [1.0, float("nan")], (4,), check_invariants=True)
    assert not _grads_finite(with_grads(broken, torch.ones(2)))


def test_the_jit_mode_takes_the_fused_kernel_and_still_resumes_exactly(tmp_path):
    def make():
        return Trainer(regression_model, regression_guide, args=(X, Y), lr=0.02, jit=True, seed=1)

    whole = make()
    whole.run(40, progress=False)
    assert whole.optim.optimizer.defaults["fused"] is True
    first = make()
    first.run(25, progress=False)
    first.save(tmp_path / "jit.pt")
    resumed = make()
    resumed.load(tmp_path / "jit.pt")
    resumed.run(15, progress=False)
    assert resumed.history.loss == whole.history.loss


def test_parameters_the_fused_kernel_cannot_take_fall_back_to_the_plain_one():
    class FussyAdam(torch.optim.Adam):
        def __init__(self, params, fused=None, **options):
            if fused:
                raise RuntimeError("`fused=True` requires all the params to be floating point")
            super().__init__(params, fused=fused, **options)

    optim = SharedOptimiser(FussyAdam, {"lr": 0.1, "fused": True})
    (param,) = with_grads(torch.ones(3))
    optim([param])
    assert optim.optimizer.defaults["fused"] is False
    torch.testing.assert_close(param.detach(), torch.full((3,), -0.1))  # Adam's first step


def test_a_pyro_optim_object_is_used_as_it_is_and_matches_the_named_choice():
    def make(optim):
        return Trainer(regression_model, regression_guide, args=(X, Y), lr=0.05, optim=optim)

    named, own = make("adam"), make(pyro.optim.Adam({"lr": 0.05}))
    assert isinstance(own.optim, pyro.optim.PyroOptim) and not isinstance(
        own.optim, SharedOptimiser
    )
    named.run(30, progress=False)
    own.run(30, progress=False)
    assert own.history.loss == named.history.loss
    own.lr = 0.01  # reaches the per-parameter optimisers Pyro made
    assert all(opt.param_groups[0]["lr"] == 0.01 for opt in own.optim.optim_objs.values())


# -- the step without torch's compiler guards -------------------------------------------------


@pytest.mark.parametrize(
    "optim, lr, optim_args",
    [
        ("adam", 0.02, {}),
        ("adam", 0.02, {"fused": True}),  # the VAE's choice
        ("clipped_adam", 0.02, {"lrd": 0.99}),  # Pyro's, a step without torch's guards
        ("sgd", 1e-4, {"momentum": 0.9}),
    ],
)
def test_without_the_compiler_loaded_the_step_skips_its_guards_bit_for_bit(
    monkeypatch, optim, lr, optim_args
):
    """In a test process the compiler may already be loaded (then torch's guarded step
    runs): here the engine is made to believe it is not, and must still give exactly what
    Pyro's own loop (through torch's guarded step) gives."""
    monkeypatch.setattr(vilab.optimiser, "_compiler_loaded", lambda: False)
    args = (X, Y)
    trainer = Trainer(
        regression_model,
        regression_guide,
        args=args,
        lr=lr,
        optim=optim,
        optim_args=optim_args,
        elbo="trace",
    )
    trainer.run(40, progress=False)
    assert trainer.optim._step.__name__ == "unguarded"
    monkeypatch.undo()
    losses, params, _ = hand_written_run(
        regression_model, regression_guide, args, 40, optim, lr, optim_args
    )
    assert trainer.history.loss == losses
    for name, value in params.items():
        assert torch.equal(trainer.param(name), value), name


def test_step_hooks_still_run_when_the_guards_are_skipped(monkeypatch):
    monkeypatch.setattr(vilab.optimiser, "_compiler_loaded", lambda: False)
    trainer = Trainer(regression_model, regression_guide, args=(X, Y), elbo="trace")
    trainer.step(1)
    calls = []
    handle = trainer.optim.optimizer.register_step_post_hook(lambda *a: calls.append(a))
    trainer.step(2)
    handle.remove()
    trainer.step(1)
    assert len(calls) == 2


FIRST_STEPS = """
import json, sys
import pyro, pyro.distributions as dist, torch, vilab

def model(y):
    loc = pyro.sample("loc", dist.Normal(0.0, 5.0))
    with pyro.plate("data", len(y)):
        pyro.sample("y", dist.Normal(loc, 1.0), obs=y)

def guide(y):
    pyro.sample("loc", dist.Normal(pyro.param("q_loc", torch.tensor(0.0)), 1.0))

for optim in ("auto", "clipped_adam", "sgd"):
    trainer = vilab.Trainer(model, guide, args=(torch.ones(3),), optim=optim, lr=0.01)
    trainer.step(1)
unneeded = [name for name in ("torch._dynamo", "sympy") if name in sys.modules]
print(json.dumps({"imported": unneeded, "steps": trainer.num_steps_done}))
"""


def test_the_first_steps_of_a_fresh_process_import_neither_the_compiler_nor_sympy():
    """torch's optimiser guards import torch._dynamo (0.65-0.85 s) at their first call, and
    torch.broadcast_shapes (once in the checks) sympy (~0.45 s): a cold start needs neither."""
    done = subprocess.run(
        [sys.executable, "-c", FIRST_STEPS], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"imported": [], "steps": 1}


def _adam_betas(trainer):
    with trainer.scope:
        state = trainer.optim.get_state()
    return {tuple(group["betas"]) for s in state.values() for group in s["param_groups"]}


def test_the_default_optimiser_remembers_gradient_sizes_for_about_fifty_steps():
    """optim="auto" is Adam with a second-moment decay of 0.98 (vilab.defaults says why); an
    explicit betas wins, and optim="adam" is torch's Adam as it comes."""
    default = Trainer(regression_model, regression_guide, args=(X, Y), check=False)
    default.step(1)
    assert _adam_betas(default) == {(0.9, 0.98)}
    chosen = Trainer(
        regression_model,
        regression_guide,
        args=(X, Y),
        optim_args={"betas": (0.8, 0.999)},
        check=False,
    )
    chosen.step(1)
    assert _adam_betas(chosen) == {(0.8, 0.999)}
    plain = Trainer(regression_model, regression_guide, args=(X, Y), optim="adam", check=False)
    plain.step(1)
    assert _adam_betas(plain) == {(0.9, 0.999)}

"""Engine overhead: vilab's Trainer against a hand-written ``svi.step`` loop, side by side.

Targets (issue "Foundation"): engine without progress bar >= 0.97 of the hand-written loop,
with the progress bar >= 0.90, and the JIT option >= 2x the non-JIT hand-written loop on
the temperature model. Blocks of steps alternate between the variants, several rounds, and
the median steps/s of each variant is compared, so machine noise hits all variants alike.

Where the engine's speed comes from: it steps all parameters with one torch optimiser
(vilab.optimiser.SharedOptimiser, the same arithmetic as pyro.optim, bit for bit) instead of
one per parameter. The row "hand-written loop, shared optimiser" gives the same loop that
optimiser, so engine / that row is the engine's own bookkeeping (history, NaN check,
callbacks, private store). The progress-bar trainer starts with a 100,000-step history, as
after a long class run: the bar's cost must not grow with the history.

    .venv/bin/python benchmarks/bench_engine.py [--rounds 5] [--steps 300]
"""

from __future__ import annotations

import argparse
import io
import statistics
import time

import pyro
import pyro.distributions as dist
import torch
from pyro.infer import SVI, Trace_ELBO
from pyro.infer.autoguide import AutoNormal
from pyro.nn import PyroModule, PyroSample

from vilab import ProgressBar, Trainer
from vilab.datasets import make_bnn_data
from vilab.exercises import temperature
from vilab.options import make_optim


class BNN(PyroModule):
    """One hidden tanh layer with Normal(0, 1) priors on all weights, noise sd 1."""

    def __init__(self, hidden: int = 50):
        super().__init__()
        self.hidden = PyroModule[torch.nn.Linear](1, hidden)
        self.hidden.weight = PyroSample(dist.Normal(0.0, 1.0).expand([hidden, 1]).to_event(2))
        self.hidden.bias = PyroSample(dist.Normal(0.0, 1.0).expand([hidden]).to_event(1))
        self.out = PyroModule[torch.nn.Linear](hidden, 1)
        self.out.weight = PyroSample(dist.Normal(0.0, 1.0).expand([1, hidden]).to_event(2))
        self.out.bias = PyroSample(dist.Normal(0.0, 1.0).expand([1]).to_event(1))

    def forward(self, x, y=None):
        mean = self.out(torch.tanh(self.hidden(x.unsqueeze(-1)))).squeeze(-1)
        with pyro.plate("data", x.shape[0]):
            pyro.sample("y", dist.Normal(mean, 1.0), obs=y)


def cases():
    x, y = make_bnn_data(seed=0)
    bnn = BNN()
    bnn_guide = AutoNormal(bnn)
    return {
        "temperature": (temperature.model, temperature.guide, (temperature.SENSOR_READING,)),
        "bnn (50 tanh units, AutoNormal)": (bnn, bnn_guide, (x / 5.0, y)),
    }


def time_block(step_fn, num_steps: int) -> float:
    start = time.perf_counter()
    for _ in range(num_steps):
        step_fn()
    return num_steps / (time.perf_counter() - start)


def measure(model, guide, args, num_steps: int, rounds: int, with_jit: bool) -> dict:
    pyro.clear_param_store()
    svi = SVI(model, guide, pyro.optim.Adam({"lr": 0.01}), Trace_ELBO())
    shared = Trainer(model, guide, args=args, lr=0.01, seed=0, check=False)  # store only
    svi_shared = SVI(model, guide, make_optim("adam", 0.01), Trace_ELBO())
    plain = Trainer(model, guide, args=args, lr=0.01, seed=0, check=False)
    barred = Trainer(model, guide, args=args, lr=0.01, seed=0, check=False)
    for step in range(1, 100_001):
        barred.history.append(step, 1.0, 0.0)
    jitted = Trainer(model, guide, args=args, lr=0.01, seed=0, jit=True, check=False)
    quiet_bar = io.StringIO()  # the bar is drawn (tqdm does all its work) but off screen

    def shared_loop():
        with shared.scope:
            return time_block(lambda: svi_shared.step(*args), num_steps)

    variants = {
        "hand-written svi.step loop": lambda: time_block(lambda: svi.step(*args), num_steps),
        "hand-written loop, shared optimiser": shared_loop,
        "engine, no progress bar": lambda: _rate(
            lambda: plain.run(num_steps, progress=False), num_steps
        ),
        "engine, progress bar": lambda: _rate(
            lambda: barred.run(num_steps, progress=ProgressBar(file=quiet_bar)), num_steps
        ),
    }
    if with_jit:
        jitted.run(5, progress=False)  # compile once, outside the timing
        variants["engine, jit=True"] = lambda: _rate(
            lambda: jitted.run(num_steps, progress=False), num_steps
        )
    for fn in variants.values():  # warm-up: first-call costs are not what we measure
        fn()
    rates = {name: [] for name in variants}
    for _ in range(rounds):
        for name, fn in variants.items():
            rates[name].append(fn())
    return {name: statistics.median(values) for name, values in rates.items()}


def _rate(fn, num_steps: int) -> float:
    start = time.perf_counter()
    fn()
    return num_steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=300)
    options = parser.parse_args()
    torch.set_num_threads(1)
    targets = {
        "engine, no progress bar": 0.97,
        "engine, progress bar": 0.90,
        "engine, jit=True": 2.0,
    }
    for name, (model, guide, args) in cases().items():
        medians = measure(
            model, guide, args, options.steps, options.rounds, with_jit=name == "temperature"
        )
        base = medians["hand-written svi.step loop"]
        print(
            f"\n{name}: median steps/s over {options.rounds} alternating rounds "
            f"of {options.steps} steps"
        )
        for variant, rate in medians.items():
            ratio = rate / base
            target = targets.get(variant)
            verdict = (
                ""
                if target is None
                else (f"  target >= {target:.2f}: {'OK' if ratio >= target else 'MISSED'}")
            )
            print(f"  {variant:<36} {rate:9.1f} steps/s  ratio {ratio:5.3f}{verdict}")
        own = medians["engine, no progress bar"] / medians["hand-written loop, shared optimiser"]
        print(f"  engine's own bookkeeping: engine / loop with the same optimiser = {own:5.3f}")


if __name__ == "__main__":
    main()

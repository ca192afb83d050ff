"""Does the training panel slow training down? Panel speed against the bare engine.

For each model, one trainer alternates blocks of the same number of steps (a class-sized
run: 1,500 steps for the temperature model, 1,000 for the BNN):

* engine: ``trainer.step(n)``, the headless engine, nothing drawn;
* panel (live): the panel's background path (``train(block=False)`` in an asyncio loop,
  as in a notebook): chunks, yields to the loop, status line, readout, the live ELBO chart
  (SVG) and the exercise's "posterior now" figure (PNG) redrawn at their own paces through
  the same code path as in JupyterLab (only the browser is missing); it also prints how
  many times a second each was redrawn (target: the chart at least ~5);
* panel (blocking): ``train()`` on a panel that was never displayed, what nbval and
  scripts run (one drawing at the end, no rendering when no one can see it).

Blocks are counted in steps, not seconds: the panel's fixed cost per run (the final
redraw) is worth a few dozen steps on any machine, so a shorter block would overstate it.
The ratio of speeds (steps/s of the panel / steps/s of the engine) is reported as the
median over the repeats; the target is >= 0.90. The ratio of two engine blocks
("engine/engine", ideally 1) shows how noisy the machine is. Run from the repository root::

    python benchmarks/bench_panel.py                 # ~3-5 minutes on a laptop
    python benchmarks/bench_panel.py --repeats 3 --scale 0.5
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import pyro
import pyro.distributions as dist
import torch
from pyro.infer.autoguide import AutoNormal

from vilab import Trainer
from vilab.datasets import make_bnn_data
from vilab.exercises import temperature
from vilab.ui import TrainingPanel

HIDDEN = 50


def bnn_model(x, y=None):
    """A 1-hidden-layer Bayesian neural network: tanh, 50 units, Normal(0, 1) weights."""
    w1 = pyro.sample("w1", dist.Normal(0.0, 1.0).expand([1, HIDDEN]).to_event(2))
    b1 = pyro.sample("b1", dist.Normal(0.0, 1.0).expand([HIDDEN]).to_event(1))
    w2 = pyro.sample("w2", dist.Normal(0.0, 1.0).expand([HIDDEN, 1]).to_event(2))
    b2 = pyro.sample("b2", dist.Normal(0.0, 1.0).expand([1]).to_event(1))
    sigma = pyro.sample("sigma", dist.LogNormal(0.0, 1.0))
    mu = (torch.tanh(x[:, None] @ w1 + b1) @ w2 + b2).squeeze(-1)
    pyro.deterministic("mu", mu)
    with pyro.plate("data", x.shape[0]):
        pyro.sample("obs", dist.Normal(mu, sigma), obs=y)


def bnn_setup():
    x, y = make_bnn_data(600, seed=0)
    x, y = x / 5.0, y / 5.0  # standardised scales for the Normal(0, 1) weights
    trainer = Trainer(bnn_model, AutoNormal(bnn_model), args=(x, y), lr=0.01, seed=0)
    grid = torch.linspace(-2.4, 2.4, 100)

    def live_plot(trainer, ax):
        mu = trainer.sample_posterior(20, return_sites=("mu",), args=(grid,))["mu"]
        ax.plot(x, y, ".", ms=2, color="0.6", label="data")
        ax.plot(grid, mu.reshape(-1, len(grid)).mean(0), label="predictive mean")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.set_title("BNN posterior now")
        ax.legend()

    return trainer, live_plot


def temperature_setup():
    def live_plot(trainer, ax):
        temperature.plots.plot_posterior(*temperature.vi_posterior(trainer), ax=ax)

    return temperature.make_trainer(seed=0), live_plot


async def _panel_block(panel: TrainingPanel) -> None:
    panel.train(block=False)
    await panel.wait()


def timed(fn) -> tuple[float, float]:
    """Wall-clock and CPU seconds of ``fn()``. On a shared machine the CPU time is the
    steadier measure: the panel's extra work (drawing, status) is CPU work in this process."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


class StepClock:
    """Counts the CPU time spent taking steps (the engine's ``_steps``, which ``trainer.step``
    and the panel's chunked run both call) while the panel runs: the share of a panel block
    spent training is the panel's speed relative to the engine, measured within the same
    block, so it does not suffer from a noisy machine (it slightly favours the panel: the
    engine's cost per call, ~0.5 ms, counts as training)."""

    def __init__(self, trainer):
        self.trainer, self.seconds = trainer, 0.0

    def __enter__(self):
        steps = type(self.trainer)._steps

        def counted_steps(*args, **kwargs):
            start = time.process_time()
            try:
                return steps(self.trainer, *args, **kwargs)
            finally:
                self.seconds += time.process_time() - start

        self.trainer._steps = counted_steps
        return self

    def __exit__(self, *exc_info):
        del self.trainer._steps


def bench(name: str, setup, n: int, repeats: int) -> dict:
    trainer, live_plot = setup()
    panel = TrainingPanel(trainer, num_steps=n, live_plot=live_plot, live_every=10)
    # the same call in a script or under nbval: a second panel, never displayed
    headless = TrainingPanel(trainer, num_steps=n, live_plot=live_plot, live_every=10)
    trainer.step(20)  # warm-up: first optimiser (imports torch._dynamo), caches
    keys = (
        "live wall",
        "live cpu",
        "blocking wall",
        "blocking cpu",
        "engine/engine cpu",
        "live in-block",
        "blocking in-block",
    )
    ratios = {key: [] for key in keys}
    chart_rates, figure_rates = [], []
    view = panel.view
    for _ in range(repeats):
        engine = timed(lambda: trainer.step(n))
        charts, figures = view.chart_throttle.count, view.figure_throttle.count
        with StepClock(trainer) as live_clock:
            live = timed(lambda: asyncio.run(_panel_block(panel)))
        chart_rates.append((view.chart_throttle.count - charts) / live[0])
        figure_rates.append((view.figure_throttle.count - figures) / live[0])
        engine_again = timed(lambda: trainer.step(n))
        with StepClock(trainer) as blocking_clock:
            blocking = timed(headless.train)
        ratios["live in-block"].append(live_clock.seconds / live[1])
        ratios["blocking in-block"].append(blocking_clock.seconds / blocking[1])
        for i, clock in enumerate(("wall", "cpu")):
            # a live block is compared with the mean of the engine blocks around it
            ratios[f"live {clock}"].append((engine[i] + engine_again[i]) / 2 / live[i])
            ratios[f"blocking {clock}"].append(engine_again[i] / blocking[i])
        ratios["engine/engine cpu"].append(engine[1] / engine_again[1])  # the noise floor
        for p in (panel, headless):
            if p.state != "idle":
                raise RuntimeError(f"a panel ended in state {p.state}: {p.error}")
    chart_cost = timed(lambda: view.draw_chart(smoothing=20, log_scale=False))[0]
    figure_cost = timed(view.draw_posterior)[0]
    result = {key: statistics.median(values) for key, values in ratios.items()}
    result.update(
        name=name,
        n=n,
        all=ratios,
        engine=n / engine_again[0],
        chart_cost=chart_cost,
        figure_cost=figure_cost,
        chart_rate=statistics.median(chart_rates),
        figure_rate=statistics.median(figure_rates),
        seconds=engine_again[0],
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies the block sizes")
    options = parser.parse_args()
    torch.set_num_threads(1)
    results = [
        bench("temperature", temperature_setup, int(1500 * options.scale), options.repeats),
        bench("BNN (50 tanh units)", bnn_setup, int(1000 * options.scale), options.repeats),
    ]
    print(
        f"\nPanel speed / engine speed, median of {options.repeats} alternated blocks "
        f"(target >= 0.90; wall clock, and CPU time of this process)"
    )
    for r in results:
        verdict = "OK" if min(r["live cpu"], r["blocking cpu"]) >= 0.90 else "BELOW TARGET"
        print(
            f"  {r['name']:<20} live panel: wall {r['live wall']:.3f} cpu {r['live cpu']:.3f}"
            f"   blocking panel: wall {r['blocking wall']:.3f} cpu {r['blocking cpu']:.3f}"
            f"   [{verdict}]"
        )
        verdict = "OK" if min(r["live in-block"], r["blocking in-block"]) >= 0.90 else "BELOW"
        print(
            f"  {'':<20} share of the block spent taking steps: live "
            f"{r['live in-block']:.3f}, blocking {r['blocking in-block']:.3f}   [{verdict}]"
        )
        print(
            f"  {'':<20} {r['n']} steps per block ({r['seconds']:.1f} s), engine "
            f"{r['engine']:.0f} steps/s; live: ELBO chart {r['chart_rate']:.1f} redraws/s "
            f"(one = {1e3 * r['chart_cost']:.1f} ms), posterior figure "
            f"{r['figure_rate']:.1f} redraws/s (one = {1e3 * r['figure_cost']:.1f} ms)"
        )
        for key, values in r["all"].items():
            print(f"  {'':<20} {key:<18}" + ", ".join(f"{x:.3f}" for x in values))


if __name__ == "__main__":
    main()

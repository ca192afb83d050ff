"""Time to posterior: vilab's bare defaults against a hand-written Pyro loop and NumPyro.

A student writes their own model and guide and calls ``Trainer(model, guide, args=(data,),
seed=s)``, nothing else. How long until the answer is the posterior? Three small models:

  temperature  temp ~ N(15, 2), sensor ~ N(temp, 1), sensor = 18; the course slide's guide
               N(loc, scale) with loc starting at 0. Exact: N(17.4, sqrt(0.8)).
  coin         f ~ Beta(10, 10), 6 heads and 4 tails; guide Beta(alpha_q, beta_q) starting at
               (15, 15) as in Pyro's SVI tutorial. Exact: Beta(16, 14).
  gaussian     the course's simple Gaussian (vilab.exercises.gaussian: 100 points, mu ~ N(0,
               1e4), gamma ~ Gamma(1, 1)) with its mean-field guide. Exact: the grid posterior.

Criterion, checked every 25 steps: temperature and coin, the posterior mean within 1% and
the sd within 2% of the exact ones; gaussian, both posterior means within 1%. It must hold
for 10 checks in a row; the time to posterior is the training time at the first of them.
The checks are off the clock: only building the trainer (imports included, in a cold
process) and the training steps count. A run that has not got there after ``--cap`` seconds
is reported as "never".

Contenders, measured interleaved (each seed and model: all three in turn, order rotated):

  vilab    Trainer(model, guide, args=(data,), seed=s): whatever its defaults are today
  hand     SVI(model, guide, Adam({"lr": lr}), Trace_ELBO()), svi.step in a loop
  numpyro  NumPyro's SVI with numpyro.optim.Adam(lr) and Trace_ELBO, 25 steps per jitted
           call (lax.fori_loop, as SVI.run does)

hand and numpyro run at their best lr from a grid (BEST_LR below, measured with
``--search-lr``, which reruns the grid). Each is measured in a cold process (a fresh
subprocess per measurement: imports, and for NumPyro and vilab's JIT the compilation,
are on the clock) and in a warm one (a worker that has imported everything and trained
each model once: a student re-running the training cell; every measurement still builds
a new Trainer / SVI, so NumPyro compiles again, as it does when that cell re-runs). All
run on one thread (OMP and XLA set to one thread, torch.set_num_threads(1)).

NumPyro and JAX are not vilab dependencies: ``pip install -e ".[bench]"`` brings them; without
them the script says so and compares vilab with the hand-written loop only.

    python benchmarks/bench_time_to_posterior.py              # 3 seeds, 3 models (~10-25 min)
    python benchmarks/bench_time_to_posterior.py --quick      # 1 seed, 2 models, a smoke look
    python benchmarks/bench_time_to_posterior.py --search-lr  # re-pick the best lr first
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

MODELS = ("temperature", "coin", "gaussian")
FRAMEWORKS = ("vilab", "hand", "numpyro")
CHECK_EVERY, HOLD = 25, 10
# relative tolerance of each posterior moment the criterion compares with the exact one
TOLERANCES = {
    "temperature": {"mean": 0.01, "sd": 0.02},
    "coin": {"mean": 0.01, "sd": 0.02},
    "gaussian": {"mu_mean": 0.01, "gamma_mean": 0.01},
}
LR_GRID = (0.001, 0.003, 0.01, 0.03, 0.1)
# The best lr of the grid for each contender (fastest to the posterior, seed 0, warm
# process, 40 s cap), measured with --search-lr on a shared 2-core machine on 2026-12-01.
# The hand-written loop never reached the Gaussian's posterior at any lr of the grid: at
# lr 0.001 q's precision mean is still 4.6% high after 15,000 steps (it creeps), at 0.01
# it jitters by +-5% (one particle, Trace_ELBO).
BEST_LR = {
    "hand": {"temperature": 0.001, "coin": 0.001, "gaussian": 0.001},
    "numpyro": {"temperature": 0.01, "coin": 0.003, "gaussian": 0.001},
}
THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "JAX_PLATFORMS": "cpu",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
}


# -- exact posteriors and the criterion (plain Python: tests call these) ------------------


def beta_moments(alpha: float, beta: float) -> dict:
    total = alpha + beta
    return {"mean": alpha / total, "sd": math.sqrt(alpha * beta / (total**2 * (total + 1)))}


def exact_moments(model: str, gaussian_x=None) -> dict:
    """The exact posterior moments the criterion compares with."""
    if model == "temperature":
        precision = 1 / 2.0**2 + 1 / 1.0**2
        return {"mean": (15.0 / 4 + 18.0) / precision, "sd": math.sqrt(1 / precision)}
    if model == "coin":
        return beta_moments(10 + 6, 10 + 4)
    if model == "gaussian":
        from vilab.exercises import gaussian

        x = gaussian.load_data() if gaussian_x is None else gaussian_x
        grid = gaussian.exact_posterior(x).moments()
        return {"mu_mean": grid["mu"]["mean"], "gamma_mean": grid["gamma"]["mean"]}
    raise ValueError(f"Expected a model in {MODELS}, got {model!r}.")


def guide_moments(model: str, params: dict) -> dict:
    """The moments of q from the guide's (constrained) parameters, named as in TOLERANCES."""
    if model == "temperature":
        return {"mean": params["loc"], "sd": params["scale"]}
    if model == "coin":
        return beta_moments(params["alpha_q"], params["beta_q"])
    if model == "gaussian":
        return {
            "mu_mean": params["mu_loc"],
            "gamma_mean": params["gamma_concentration"] / params["gamma_rate"],
        }
    raise ValueError(f"Expected a model in {MODELS}, got {model!r}.")


def at_posterior(model: str, params: dict, exact: dict) -> bool:
    """Whether every moment of q is within its tolerance of the exact one (NaN: no)."""
    moments = guide_moments(model, params)
    return all(
        abs(moments[name] - exact[name]) <= tolerance * abs(exact[name])
        for name, tolerance in TOLERANCES[model].items()
    )


class Streak:
    """Feeds the checks in order; says when the criterion has held ``hold`` checks in a row,
    and returns the clock time of the first of them (the time to posterior)."""

    def __init__(self, hold: int = HOLD):
        self.hold, self.length, self.started = hold, 0, None

    def update(self, ok: bool, clock: float) -> float | None:
        if not ok:
            self.length, self.started = 0, None
            return None
        if self.length == 0:
            self.started = clock
        self.length += 1
        return self.started if self.length >= self.hold else None


def ratio(a: float | None, b: float | None) -> str:
    """a/b as text; a run that never got there is infinitely slow."""
    if a is None and b is None:
        return "both never"
    if a is None:
        return "inf (vilab never)"
    if b is None:
        return "0 (other never)"
    return f"{a / b:.2f}"


# -- the problems, written as a user would (imports inside: the cold clock counts them) ----


def pyro_problem(model: str, spec: dict):
    """(model, guide, args) in Pyro."""
    import pyro
    import pyro.distributions as dist
    import torch
    from pyro.distributions import constraints

    if model == "temperature":

        def pyro_model(sensor):
            temp = pyro.sample("temp", dist.Normal(15.0, 2.0))
            pyro.sample("sensor", dist.Normal(temp, 1.0), obs=sensor)

        def pyro_guide(sensor):
            loc = pyro.param("loc", torch.tensor(0.0))
            scale = pyro.param("scale", torch.tensor(1.0), constraint=constraints.positive)
            pyro.sample("temp", dist.Normal(loc, scale))

        return pyro_model, pyro_guide, (torch.tensor(18.0),)
    if model == "coin":

        def pyro_model(flips):
            fairness = pyro.sample("fairness", dist.Beta(10.0, 10.0))
            with pyro.plate("flips", len(flips)):
                pyro.sample("obs", dist.Bernoulli(fairness), obs=flips)

        def pyro_guide(flips):
            alpha_q = pyro.param("alpha_q", torch.tensor(15.0), constraint=constraints.positive)
            beta_q = pyro.param("beta_q", torch.tensor(15.0), constraint=constraints.positive)
            pyro.sample("fairness", dist.Beta(alpha_q, beta_q))

        return pyro_model, pyro_guide, (torch.tensor([1.0] * 6 + [0.0] * 4),)
    if model == "gaussian":

        def pyro_model(x):
            mu = pyro.sample("mu", dist.Normal(0.0, 10000.0))
            gamma = pyro.sample("gamma", dist.Gamma(1.0, 1.0))
            with pyro.plate("data", len(x)):
                pyro.sample("x", dist.Normal(mu, 1.0 / gamma.sqrt()), obs=x)

        def pyro_guide(x):
            mu_loc = pyro.param("mu_loc", torch.tensor(0.0))
            mu_scale = pyro.param("mu_scale", torch.tensor(1.0), constraint=constraints.positive)
            conc = pyro.param(
                "gamma_concentration", torch.tensor(1.0), constraint=constraints.positive
            )
            rate = pyro.param("gamma_rate", torch.tensor(1.0), constraint=constraints.positive)
            pyro.sample("mu", dist.Normal(mu_loc, mu_scale))
            pyro.sample("gamma", dist.Gamma(conc, rate))

        return pyro_model, pyro_guide, (torch.tensor(spec["x"], dtype=torch.float32),)
    raise ValueError(f"Expected a model in {MODELS}, got {model!r}.")


def numpyro_problem(model: str, spec: dict):
    """(model, guide, args) in NumPyro, the same models and guides as :func:`pyro_problem`."""
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist
    from numpyro.distributions import constraints

    if model == "temperature":

        def np_model(sensor):
            temp = numpyro.sample("temp", dist.Normal(15.0, 2.0))
            numpyro.sample("sensor", dist.Normal(temp, 1.0), obs=sensor)

        def np_guide(sensor):
            loc = numpyro.param("loc", 0.0)
            scale = numpyro.param("scale", 1.0, constraint=constraints.positive)
            numpyro.sample("temp", dist.Normal(loc, scale))

        return np_model, np_guide, (jnp.array(18.0),)
    if model == "coin":

        def np_model(flips):
            fairness = numpyro.sample("fairness", dist.Beta(10.0, 10.0))
            with numpyro.plate("flips", len(flips)):
                numpyro.sample("obs", dist.Bernoulli(fairness), obs=flips)

        def np_guide(flips):
            alpha_q = numpyro.param("alpha_q", 15.0, constraint=constraints.positive)
            beta_q = numpyro.param("beta_q", 15.0, constraint=constraints.positive)
            numpyro.sample("fairness", dist.Beta(alpha_q, beta_q))

        return np_model, np_guide, (jnp.array([1.0] * 6 + [0.0] * 4),)
    if model == "gaussian":

        def np_model(x):
            mu = numpyro.sample("mu", dist.Normal(0.0, 10000.0))
            gamma = numpyro.sample("gamma", dist.Gamma(1.0, 1.0))
            with numpyro.plate("data", len(x)):
                numpyro.sample("x", dist.Normal(mu, 1.0 / jnp.sqrt(gamma)), obs=x)

        def np_guide(x):
            mu_loc = numpyro.param("mu_loc", 0.0)
            mu_scale = numpyro.param("mu_scale", 1.0, constraint=constraints.positive)
            conc = numpyro.param("gamma_concentration", 1.0, constraint=constraints.positive)
            rate = numpyro.param("gamma_rate", 1.0, constraint=constraints.positive)
            numpyro.sample("mu", dist.Normal(mu_loc, mu_scale))
            numpyro.sample("gamma", dist.Gamma(conc, rate))

        return np_model, np_guide, (jnp.array(spec["x"], dtype=jnp.float32),)
    raise ValueError(f"Expected a model in {MODELS}, got {model!r}.")


class VilabRun:
    """vilab's bare defaults: nothing but model, guide, args and the seed."""

    def __init__(self, request):
        import torch

        from vilab import Trainer

        torch.set_num_threads(1)
        model, guide, args = pyro_problem(request["model"], request["spec"])
        self.trainer = Trainer(model, guide, args=args, seed=request["seed"])

    def train(self, num_steps: int) -> None:
        self.trainer.step(num_steps)

    def params(self) -> dict:
        return {name: float(value) for name, value in self.trainer.params().items()}


class HandRun:
    """The loop from Pyro's tutorials."""

    def __init__(self, request):
        import pyro
        import torch
        from pyro.infer import SVI, Trace_ELBO
        from pyro.optim import Adam

        torch.set_num_threads(1)
        self.pyro = pyro
        model, guide, self.args = pyro_problem(request["model"], request["spec"])
        pyro.clear_param_store()
        pyro.set_rng_seed(request["seed"])
        self.svi = SVI(model, guide, Adam({"lr": request["lr"]}), loss=Trace_ELBO())

    def train(self, num_steps: int) -> None:
        for _ in range(num_steps):
            self.svi.step(*self.args)

    def params(self) -> dict:
        store = self.pyro.get_param_store()
        return {name: self.pyro.param(name).detach().item() for name in store.keys()}


class NumPyroRun:
    """NumPyro's SVI, ``CHECK_EVERY`` steps per compiled call."""

    def __init__(self, request):
        import jax
        from numpyro.infer import SVI, Trace_ELBO
        from numpyro.optim import Adam

        self.jax = jax
        model, guide, args = numpyro_problem(request["model"], request["spec"])
        self.svi = SVI(model, guide, Adam(request["lr"]), Trace_ELBO())
        self.state = self.svi.init(jax.random.PRNGKey(request["seed"]), *args)

        def steps(state):
            return jax.lax.fori_loop(
                0, CHECK_EVERY, lambda i, s: self.svi.update(s, *args)[0], state
            )

        self.steps = jax.jit(steps)

    def train(self, num_steps: int) -> None:
        assert num_steps == CHECK_EVERY
        self.state = self.jax.block_until_ready(self.steps(self.state))

    def params(self) -> dict:
        return {k: float(v) for k, v in self.svi.get_params(self.state).items()}


RUNS = {"vilab": VilabRun, "hand": HandRun, "numpyro": NumPyroRun}


def measure(framework: str, request: dict) -> dict:
    """Build and train until the criterion holds or the cap is spent; only building and
    training are on the clock. Returns {"seconds": time to posterior or None, ...}."""
    start = time.perf_counter()
    try:
        run = RUNS[framework](request)
        clock = time.perf_counter() - start
        build = clock
        streak, steps = Streak(HOLD), 0
        while clock < request["cap"] or streak.length > 0:
            tic = time.perf_counter()
            run.train(CHECK_EVERY)
            clock += time.perf_counter() - tic
            steps += CHECK_EVERY
            reached = streak.update(
                at_posterior(request["model"], run.params(), request["exact"]), clock
            )
            if reached is not None:
                first = steps - (HOLD - 1) * CHECK_EVERY
                return {"seconds": reached, "steps": first, "build": build}
        return {"seconds": None, "steps": steps, "build": build}
    except Exception as exc:  # a diverged run (large lr) never gets there
        return {"seconds": None, "steps": 0, "build": 0.0, "error": repr(exc)[:200]}


def worker(framework: str) -> None:
    """Serve measurement requests, one JSON line in, one out, until stdin closes."""
    results = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    sys.stdout = sys.stderr  # whatever the libraries print stays off the result channel
    for line in sys.stdin:
        results.write(json.dumps(measure(framework, json.loads(line))) + "\n")
        results.flush()


class Worker:
    """A worker subprocess for one framework."""

    def __init__(self, framework: str):
        env = {**os.environ, **THREAD_ENV, "PYTHONWARNINGS": "ignore"}
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker", framework],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )

    def measure(self, request: dict) -> dict:
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            return {"seconds": None, "steps": 0, "build": 0.0, "error": "worker died"}
        return json.loads(line)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


def cold_measure(framework: str, request: dict) -> dict:
    one = Worker(framework)
    try:
        return one.measure(request)
    finally:
        one.close()


# -- the driver -----------------------------------------------------------------------------


def trainer_defaults() -> str:
    """The keyword defaults of ``vilab.Trainer`` as they are in this checkout."""
    import inspect

    from vilab import Trainer

    parameters = inspect.signature(Trainer).parameters.values()
    return ", ".join(
        f"{p.name}={p.default!r}" for p in parameters if p.default is not inspect.Parameter.empty
    )


def make_request(model, framework, seed, cap, specs, exact, lr=None) -> dict:
    if lr is None and framework != "vilab":
        lr = BEST_LR[framework][model]
    return {
        "model": model,
        "seed": seed,
        "lr": lr,
        "cap": cap,
        "spec": specs[model],
        "exact": exact[model],
    }


def show(result: dict) -> str:
    if result["seconds"] is None:
        return "never" + (" (error)" if "error" in result else "")
    return f"{result['seconds']:.2f} s ({result['steps']} steps)"


def search_lr(frameworks, models, specs, exact, cap: float) -> None:
    """Time to posterior of each lr of the grid (seed 0, warm worker); keeps the fastest."""
    print(f"\nlr search (seed 0, warm process, cap {cap:g} s):")
    for framework in frameworks:
        if framework == "vilab":
            continue
        warm = Worker(framework)
        for model in models:
            warm.measure(make_request(model, framework, 99, 1.0, specs, exact, lr=0.01))
            times = {}
            for lr in LR_GRID:
                result = warm.measure(make_request(model, framework, 0, cap, specs, exact, lr))
                times[lr] = result["seconds"]
                print(f"  {framework:8s} {model:12s} lr {lr:<6g} {show(result)}", flush=True)
            best = min(times, key=lambda lr: math.inf if times[lr] is None else times[lr])
            BEST_LR[framework][model] = best
            print(f"  {framework:8s} {model:12s} best lr {best:g}", flush=True)
        warm.close()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--cap", type=float, default=60.0, help="seconds per run, then 'never'")
    parser.add_argument("--quick", action="store_true", help="1 seed, temperature and coin")
    parser.add_argument("--search-lr", action="store_true", help="re-pick the best lr first")
    parser.add_argument("--search-cap", type=float, default=40.0)
    parser.add_argument("--search-only", action="store_true", help="stop after the lr search")
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    parser.add_argument("--modes", default="cold,warm")
    parser.add_argument("--worker", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker)
        return
    if args.quick:
        args.seeds, args.models, args.cap = 1, "temperature,coin", min(args.cap, 20.0)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    frameworks = [f for f in FRAMEWORKS if f in args.frameworks.split(",")]
    missing = not (importlib.util.find_spec("numpyro") and importlib.util.find_spec("jax"))
    if missing and "numpyro" in frameworks:
        frameworks.remove("numpyro")
        print(
            "NumPyro/JAX are not installed (they are an optional extra: "
            'pip install -e ".[bench]"): comparing vilab with the hand-written loop only.'
        )

    from vilab.exercises import gaussian

    x = gaussian.load_data()
    specs = {model: {} for model in MODELS}
    specs["gaussian"] = {"x": x.tolist()}
    exact = {model: exact_moments(model, x if model == "gaussian" else None) for model in MODELS}
    print(f"exact posterior moments: {json.dumps(exact)}")
    print(f"vilab's Trainer defaults measured: {trainer_defaults()}")
    print(
        f"criterion: {TOLERANCES}, held {HOLD} checks of {CHECK_EVERY} steps; cap {args.cap:g} s; "
        f"seeds 0..{args.seeds - 1}; modes {modes}; one thread"
    )
    if args.search_lr:
        search_lr(frameworks, models, specs, exact, args.search_cap)
        if args.search_only:
            return
    print(f"lr of the hand-written loop and NumPyro: {json.dumps(BEST_LR)}")

    seeds = list(range(args.seeds))
    warm = {}
    if "warm" in modes:
        for framework in frameworks:  # a warm process has trained each model once already
            warm[framework] = Worker(framework)
            for model in models:
                warm[framework].measure(make_request(model, framework, 99, 1.0, specs, exact))
    results = {}
    for seed in seeds:
        for model in models:
            shift = seed + models.index(model)
            order = frameworks[shift % len(frameworks) :] + frameworks[: shift % len(frameworks)]
            for mode in modes:
                for framework in order:
                    request = make_request(model, framework, seed, args.cap, specs, exact)
                    if mode == "cold":
                        result = cold_measure(framework, request)
                    else:
                        result = warm[framework].measure(request)
                    results[mode, model, framework, seed] = result
                    extra = f" [{result['error']}]" if "error" in result else ""
                    print(
                        f"seed {seed} {model:12s} {mode} {framework:8s} {show(result)}{extra}",
                        flush=True,
                    )
    for one in warm.values():
        one.close()
    for mode in [m for m in ("cold", "warm") if m in modes]:
        summarise_one_mode(results, mode, models, frameworks, seeds)
    print(
        "\ntarget: vilab/numpyro <= 1 on every model (stretch: <= 0.5); the ratio is of the "
        "medians over seeds."
    )


def summarise_one_mode(results, mode, models, frameworks, seeds) -> None:
    print(f"\n{mode} process: time to posterior, per seed, seconds ('never' after the cap)")
    for model in models:
        medians, cells = {}, []
        for framework in frameworks:
            times = [results[mode, model, framework, s]["seconds"] for s in seeds]
            median = statistics.median(math.inf if t is None else t for t in times)
            medians[framework] = None if math.isinf(median) else median
            per_seed = " ".join("never" if t is None else f"{t:.2f}" for t in times)
            lr = "" if framework == "vilab" else f" (lr {BEST_LR[framework][model]:g})"
            cells.append(f"{framework}{lr}: {per_seed}")
        others = [f for f in frameworks if f != "vilab"] if "vilab" in frameworks else []
        ratios = ", ".join(f"vilab/{f} {ratio(medians['vilab'], medians[f])}" for f in others)
        print(f"  {model:12s} " + " | ".join(cells))
        if ratios:
            print(f"  {'':12s} ratios of medians: {ratios}")


if __name__ == "__main__":
    main()

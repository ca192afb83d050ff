"""VAE benchmark: vilab's Trainer against a hand-written Pyro loop of the same networks.

On the 10,000 MNIST test images (8,000 train / 2,000 held out, static binarisation),
z_dim 2, hidden 400, batch 256, lr 1e-3, Trace_ELBO, 20 epochs, four runs are trained
side by side, one epoch of each in turn (so a busy machine slows them all alike):

  hand      the textbook loop: pyro.clear_param_store(), SVI(model, guide, Adam, Trace_ELBO),
            svi.step(x_batch) over shuffled minibatches
  hand-jit  the same with JitTrace_ELBO
  vilab     vilab.exercises.vae.make_trainer(..., elbo="trace"), trainer.run(steps_per_epoch)
  vilab-jit the same with jit=True (JitTrace_ELBO)

This is repeated for seeds 0, 1, 2 (a z_dim-2 VAE's held-out ELBO after 20 epochs moves
by 2-3 nats with the random stream alone, so one seed cannot resolve a 1-nat target).
It prints the held-out ELBO per image of each (one estimator for all: 10 samples of z per
image, analytic KL), the median seconds per epoch, wall and CPU, and the ratios the
project targets: hand/vilab s/epoch >= 0.95, vilab/vilab-jit >= 2, vilab ELBO >= hand
ELBO - 1 nat. Then it trains the exercise's own defaults for 60 s and reports their
held-out ELBO (target >= -165 nats per image).

First, the speed of a training step against the physical limit (``--limit-rounds``; one
thread recommended): the FLOPs of the step's matrix products (forward, and backward: the
weight gradient of every layer and the input gradient of every layer but the first,
2*m*k*n each; ~0.40 GFLOP at batch 128) divided by the step's time, as a fraction of the
same products run as a plain ``torch.mm`` loop (same shapes, threads, dtype, machine),
measured side by side in rounds. Target: the exercise's default step >= 0.7.

    python benchmarks/bench_vae.py                 # everything, 2 threads (~8 min)
    python benchmarks/bench_vae.py --epochs 2 --seeds 1 --default-seconds 10   # a quick look
    python benchmarks/bench_vae.py --threads 1 --clock cpu   # on a busy shared machine
    OMP_NUM_THREADS=1 python benchmarks/bench_vae.py --threads 1 --clock cpu --only-limit
"""

from __future__ import annotations

import argparse
import statistics
import time
from contextlib import nullcontext

import pyro
import pyro.distributions as dist
import torch
from pyro.infer import SVI, JitTrace_ELBO, Trace_ELBO
from pyro.optim import Adam

from vilab.exercises import vae as ex
from vilab.exercises.vae_networks import make_networks
from vilab.scope import PrivateScope

Z_DIM, HIDDEN, BATCH, LR = 2, 400, 256, 1e-3


def networks_elbo(encoder, decoder, x, num_particles: int = 10) -> float:
    """Held-out ELBO per image, the same estimator for every run: K draws of z per image
    for E_q[log p(x|z)], and KL(q(z|x) || N(0, I)) in closed form."""
    generator = torch.Generator().manual_seed(123)
    with torch.no_grad():
        loc, scale = encoder(x)
        noise = torch.randn((num_particles, *loc.shape), generator=generator)
        z = loc + scale * noise
        recon = dist.Bernoulli(logits=decoder(z)).log_prob(x).sum(-1).mean(0)
        kl = torch.distributions.kl_divergence(dist.Normal(loc, scale), dist.Normal(0.0, 1.0)).sum(
            -1
        )
    return float((recon - kl).mean())


class HandWritten:
    """The loop a Pyro user writes by hand, with the exercise's networks and scaling."""

    def __init__(self, x: torch.Tensor, jit: bool, seed: int = 0):
        self.x, self.num_data = x, len(x)
        self.encoder, self.decoder = make_networks(Z_DIM, HIDDEN, seed=seed)
        self.generator = torch.Generator().manual_seed(seed)
        elbo = JitTrace_ELBO(ignore_jit_warnings=True) if jit else Trace_ELBO()
        self.svi = SVI(self.model, self.guide, Adam({"lr": LR}), loss=elbo)

    def model(self, x):
        pyro.module("decoder", self.decoder)
        with pyro.plate("data", self.num_data, subsample_size=len(x)):
            z = pyro.sample("z", dist.Normal(x.new_zeros(len(x), Z_DIM), 1.0).to_event(1))
            pyro.sample("x", dist.Bernoulli(logits=self.decoder(z)).to_event(1), obs=x)

    def guide(self, x):
        pyro.module("encoder", self.encoder)
        with pyro.plate("data", self.num_data, subsample_size=len(x)):
            loc, scale = self.encoder(x)
            pyro.sample("z", dist.Normal(loc, scale).to_event(1))

    def epoch(self) -> None:
        order = torch.randperm(self.num_data, generator=self.generator)
        for i in range(self.num_data // BATCH):
            self.svi.step(self.x[order[i * BATCH : (i + 1) * BATCH]])

    def networks(self):
        return self.encoder, self.decoder


class Vilab:
    def __init__(self, data, jit: bool, seed: int = 0):
        self.trainer = ex.make_trainer(
            data,
            seed=seed,
            z_dim=Z_DIM,
            hidden_dim=HIDDEN,
            batch_size=BATCH,
            lr=LR,
            elbo="trace",
            jit=jit,
            split_every=None,
            device="cpu",
        )

    def epoch(self) -> None:
        self.trainer.run(self.trainer.context.batches.batches_per_epoch, progress=False)

    def networks(self):
        return self.trainer.context.vae.encoder, self.trainer.context.vae.decoder


def side_by_side(data, epochs: int, names, seed: int) -> dict:
    """Train every run one epoch at a time, in turn; returns {name: (run, epoch times)},
    the times as (wall, CPU) seconds. Two hand-written loops in one process would share
    Pyro's global param store (same parameter names), so each runs inside its own
    PrivateScope, entered outside the timed region (it swaps the store and the random
    state, as pyro.clear_param_store() and pyro.set_rng_seed(seed) would in a script)."""
    makers = {
        "hand": lambda: HandWritten(data.x_train, jit=False, seed=seed),
        "hand-jit": lambda: HandWritten(data.x_train, jit=True, seed=seed),
        "vilab": lambda: Vilab(data, jit=False, seed=seed),
        "vilab-jit": lambda: Vilab(data, jit=True, seed=seed),
    }
    runs, times, scopes = {}, {}, {}
    for name in names:
        scopes[name] = PrivateScope(seed) if name.startswith("hand") else nullcontext()
        with scopes[name]:
            runs[name], times[name] = makers[name](), []
    for epoch in range(epochs):
        for name in names:
            with scopes[name]:
                wall, cpu = time.perf_counter(), time.process_time()
                runs[name].epoch()
                times[name].append((time.perf_counter() - wall, time.process_time() - cpu))
        print(
            f"seed {seed} epoch {epoch + 1:2d} (wall/CPU s): "
            + "  ".join(f"{n} {times[n][-1][0]:.2f}/{times[n][-1][1]:.2f}" for n in names),
            flush=True,
        )
    return {name: (runs[name], times[name]) for name in names}


def step_products(batch: int, num_pixels: int, hidden: int, z_dim: int) -> list[tuple]:
    """(m, k, n) of every matrix product of one VAE training step: the forward product of
    each linear layer (encoder 784-400-(2+2), decoder 2-400-784), its weight gradient, and
    its input gradient except for the encoder's first layer (its input is data)."""
    layers = [  # (inputs, outputs, needs the input gradient)
        (num_pixels, hidden, False),
        (hidden, z_dim, True),  # loc
        (hidden, z_dim, True),  # scale
        (z_dim, hidden, True),
        (hidden, num_pixels, True),
    ]
    products = []
    for inputs, outputs, input_grad in layers:
        products.append((batch, inputs, outputs))  # y = x W^T
        products.append((outputs, batch, inputs))  # dW = dy^T x
        if input_grad:
            products.append((batch, outputs, inputs))  # dx = dy W
    return products


def matmul_loop(products, dtype=torch.float32):
    """The products alone, as ``torch.mm`` into preallocated outputs: the step's floor."""
    generator = torch.Generator().manual_seed(0)
    tensors = [
        (
            torch.randn(m, k, generator=generator, dtype=dtype),
            torch.randn(k, n, generator=generator, dtype=dtype),
            torch.empty(m, n, dtype=dtype),
        )
        for m, k, n in products
    ]

    def run(num_steps: int) -> None:
        for _ in range(num_steps):
            for a, b, out in tensors:
                torch.mm(a, b, out=out)

    return run


def plain_torch_steps(data, seed: int = 0):
    """The same step without Pyro: the exercise's networks, the reparameterised ELBO with the
    analytic KL written out, torch's fused Adam. What the step costs beyond the matrix
    products when nothing but the arithmetic runs (elementwise work, the optimiser)."""
    encoder, decoder = make_networks(ex.Z_DIM, ex.HIDDEN_DIM, seed=seed)
    params = [*encoder.parameters(), *decoder.parameters()]
    optimiser = torch.optim.Adam(params, lr=1e-3, fused=True)
    batches = ex.EpochBatches(data.x_train, ex.BATCH_SIZE, seed)
    scale, counter = len(data.x_train) / ex.BATCH_SIZE, iter(range(10**9))

    def run(num_steps: int) -> None:
        for _ in range(num_steps):
            (x,) = batches(next(counter))
            loc, sd = encoder(x)
            logits = decoder(loc + sd * torch.randn_like(loc))
            recon = -torch.nn.functional.binary_cross_entropy_with_logits(
                logits, x, reduction="sum"
            )
            kl = 0.5 * (loc.square() + sd.square() - 1).sum() - sd.log().sum()
            loss = scale * (kl - recon)
            loss.backward()
            optimiser.step()
            optimiser.zero_grad(set_to_none=True)

    return run


def step_ledger(trainer, num_steps: int, clock) -> dict[str, float]:
    """Where a trainer's step goes, in seconds per step: the parts of ``_one_step`` timed
    one by one (the trainer's own methods wrapped for the measurement, restored after)."""
    import vilab.engine as engine

    spent = dict.fromkeys(
        ["minibatch", "Pyro forward", "backward", "gradient check", "convergence watch",
         "optimiser update"], 0.0
    )  # fmt: skip

    def timed(part, fn):
        def wrapper(*args, **kwargs):
            start = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[part] += clock() - start

        return wrapper

    backward, grads_finite = torch.Tensor.backward, engine._grads_finite
    trainer._step_args = timed("minibatch", trainer._step_args)
    trainer.loss.loss_and_grads = timed("Pyro forward", trainer.loss.loss_and_grads)
    trainer.convergence.observe = timed("convergence watch", trainer.convergence.observe)
    trainer._update = timed("optimiser update", trainer._update)
    torch.Tensor.backward = timed("backward", backward)
    engine._grads_finite = timed("gradient check", grads_finite)
    try:
        start = clock()
        trainer.step(num_steps)
        total = clock() - start
    finally:
        torch.Tensor.backward, engine._grads_finite = backward, grads_finite
        for name in ("_step_args", "_update"):
            del trainer.__dict__[name]
        del trainer.loss.__dict__["loss_and_grads"], trainer.convergence.__dict__["observe"]
    spent["Pyro forward"] -= spent["backward"]  # the ELBO's time less its backward pass
    spent["engine, the rest"] = total - sum(spent.values())
    return {part: seconds / num_steps for part, seconds in spent.items()}


def against_the_limit(data, rounds: int, steps: int = 50, clock_name: str = "cpu") -> None:
    """Achieved GFLOP/s of a training step as a fraction of the plain matmul loop's, in
    rounds: the exercise's default step (compiled, ELBO-split callback included), without
    the callback, on Pyro's plain loop (jit=False: what a model of your own gets), and, to
    show where the time goes, the same step in plain torch. With one thread the CPU time of
    this process is the steadier clock on a shared machine (another process's load
    stretches wall time, not this process's CPU time)."""
    clock = time.process_time if clock_name == "cpu" else time.perf_counter
    products = step_products(ex.BATCH_SIZE, data.x_train.shape[1], ex.HIDDEN_DIM, ex.Z_DIM)
    flops = sum(2 * m * k * n for m, k, n in products)
    default = ex.make_trainer(data, seed=0, device="cpu")
    no_split = ex.make_trainer(data, seed=0, device="cpu", split_every=None)
    plain_loop = ex.make_trainer(data, seed=0, device="cpu", jit=False)
    runs = {
        "matmul loop": matmul_loop(products, data.x_train.dtype),
        "plain torch": plain_torch_steps(data),
        "vilab default": default.step,
        "vilab no split": no_split.step,
        "vilab jit=False": plain_loop.step,
    }
    for run in runs.values():  # warm up: first epoch, JIT compilation, allocator
        run(steps)
    seconds = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            start = clock()
            run(steps)
            seconds[name].append((clock() - start) / steps)
    floor = statistics.median(seconds["matmul loop"])
    print(
        f"\none training step against the matmul floor ({flops / 1e9:.3f} GFLOP of matrix "
        f"products per step, batch {ex.BATCH_SIZE}, {data.x_train.dtype}, "
        f"{torch.get_num_threads()} thread(s), {clock_name} time, medians of {rounds} rounds "
        f"of {steps} steps):"
    )
    for name in runs:
        step = statistics.median(seconds[name])
        print(
            f"  {name:15s} {step * 1e3:7.2f} ms/step {flops / step / 1e9:7.1f} GFLOP/s "
            f"fraction of the matmul loop {floor / step:.2f}"
            + (" (target >= 0.7)" if name == "vilab default" else "")
        )
    ledger = step_ledger(default, rounds * steps, clock)
    print(
        f"where the default step goes ({rounds * steps} steps, ms/step; the forward pass and "
        f"the backward pass hold the matrix products): "
        + ", ".join(f"{part} {seconds * 1e3:.2f}" for part, seconds in ledger.items())
    )


def train_defaults_for(data, seconds: float, clock: str) -> tuple:
    """The exercise's defaults (make_trainer(data)) trained for ``seconds`` of wall time,
    or of this process's CPU time (``clock="cpu"``: on a shared machine, with one thread,
    about what a quiet core would do in that wall time)."""
    trainer = ex.make_trainer(data, seed=0, device="cpu")
    cpu_start = time.process_time()

    def stop_after_budget(trainer):
        used = trainer.history.elapsed if clock == "wall" else time.process_time() - cpu_start
        if used >= seconds:
            trainer.request_stop()

    trainer.add_callback(stop_after_budget, every=5)
    trainer.run(10**7, progress=False)
    return trainer, time.process_time() - cpu_start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seeds", type=int, default=3, help="repeats with seeds 0, 1, ...")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--runs",
        default="hand,vilab,vilab-jit,hand-jit",
        help="comma-separated subset of hand,hand-jit,vilab,vilab-jit",
    )
    parser.add_argument(
        "--default-seconds",
        type=float,
        default=60.0,
        help="training time for the exercise defaults (0 skips it)",
    )
    parser.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="what --default-seconds and the step-vs-matmul test count (cpu: one thread only)",
    )
    parser.add_argument(
        "--limit-rounds", type=int, default=7, help="rounds of the step-vs-matmul test (0: skip)"
    )
    parser.add_argument("--only-limit", action="store_true", help="only the step-vs-matmul test")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    data = ex.load_data(num_train=8000, num_heldout=2000)
    if args.limit_rounds > 0:
        against_the_limit(data, args.limit_rounds, clock_name=args.clock)
    if args.only_limit:
        return
    print(
        f"MNIST {data.source.split('/')[-1]}: {len(data.x_train)} train / "
        f"{len(data.x_heldout)} held out; z_dim {Z_DIM}, hidden {HIDDEN}, batch {BATCH}, "
        f"lr {LR}, {args.epochs} epochs, seeds 0..{args.seeds - 1}, "
        f"{torch.get_num_threads()} threads"
    )
    baseline = ex.independent_pixels_elbo(data.x_train, data.x_heldout)
    print(f"independent-pixels baseline: {baseline:.1f} nats per held-out image")

    names = [name.strip() for name in args.runs.split(",") if name.strip()]
    elbos = {name: [] for name in names}
    times = {name: [] for name in names}
    for seed in range(args.seeds):
        for name, (run, epoch_times) in side_by_side(data, args.epochs, names, seed).items():
            elbos[name].append(networks_elbo(*run.networks(), data.x_heldout))
            times[name] += epoch_times[1:] if len(epoch_times) > 1 else epoch_times
            if name == "vilab" and seed == 0:
                own = ex.heldout_elbo(run.trainer, data.x_heldout, num_particles=10)
                print(
                    f"(vilab's own heldout_elbo(trainer), seed 0: {own:.2f}; the table's "
                    f"estimator: {elbos[name][-1]:.2f})"
                )

    wall = {n: statistics.median(t[0] for t in times[n]) for n in names}
    cpu = {n: statistics.median(t[1] for t in times[n]) for n in names}
    print(
        f"\n{'run':10s} {'held-out ELBO: mean':>20s} {'per seed':>24s} {'s/epoch wall':>13s} "
        f"{'s/epoch CPU':>12s}   (medians over epochs 2.. of every seed)"
    )
    for name in names:
        per_seed = " ".join(f"{v:.1f}" for v in elbos[name])
        print(
            f"{name:10s} {statistics.mean(elbos[name]):20.2f} {per_seed:>24s} "
            f"{wall[name]:13.3f} {cpu[name]:12.3f}"
        )

    print("\nratios on wall time [and on CPU time, steadier on a shared machine]:")

    def ratio(a, b):
        return f"{wall[a] / wall[b]:.3f} [{cpu[a] / cpu[b]:.3f}]"

    if {"hand", "vilab"} <= set(names):
        gap = statistics.mean(elbos["vilab"]) - statistics.mean(elbos["hand"])
        print(f"ELBO vilab - hand (means over seeds): {gap:+.2f} nats (target >= -1)")
        print(f"s/epoch hand/vilab: {ratio('hand', 'vilab')} (target >= 0.95)")
    if {"vilab", "vilab-jit"} <= set(names):
        print(f"JIT speed-up vilab/vilab-jit: {ratio('vilab', 'vilab-jit')} (target >= 2)")
    if {"hand-jit", "vilab-jit"} <= set(names):
        print(f"s/epoch hand-jit/vilab-jit: {ratio('hand-jit', 'vilab-jit')}")
    if {"hand", "hand-jit"} <= set(names):
        print(f"JIT speed-up of the hand loop hand/hand-jit: {ratio('hand', 'hand-jit')}")

    if args.default_seconds > 0:
        trainer, cpu_used = train_defaults_for(data, args.default_seconds, args.clock)
        steps = trainer.num_steps_done
        print(
            f"\nexercise defaults ({ex.DEFAULT_OPTIONS}, z_dim {ex.Z_DIM}, hidden "
            f"{ex.HIDDEN_DIM}, batch {ex.BATCH_SIZE}), {trainer.history.elapsed:.0f} s wall "
            f"({cpu_used:.0f} s CPU): {steps} steps = "
            f"{steps / trainer.context.batches.batches_per_epoch:.1f} epochs, held-out ELBO "
            f"{ex.heldout_elbo(trainer, data.x_heldout):.2f} nats per image (target >= -165)"
        )


if __name__ == "__main__":
    main()

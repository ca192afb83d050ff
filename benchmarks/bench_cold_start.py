"""Cold start: how long a fresh Python process waits from ``import vilab`` to the end of
its first training step (a student's first cell after a kernel restart).

Two imports nobody needed used to sit on that path. Torch guards every optimiser's
``step`` (and ``add_param_group``) against its compiler, and the guards import the
compiler, ``torch._dynamo``, at their first call: 0.65-0.85 s of the first step; vilab's
optimiser (``vilab/optimiser.py``) skips the guards while the compiler is not loaded. And
the data-broadcast check (``vilab/checks/data.py``) called ``torch.broadcast_shapes``,
which imports sympy at its first call: ~0.45 s of the Trainer build; numpy's
``broadcast_shapes`` applies the same rule. This benchmark runs fresh processes in turn,
"before" (both old paths forced back in) and "after" (vilab as it is), and prints the
medians and their ratios. Target: neither the compiler nor sympy is imported ("0/5"),
with the same losses bit for bit.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_cold_start.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

# One cold process: import vilab, build the temperature exercise's trainer, take one step,
# then one more (the warm step, for scale). argv[1] is "before" or "after".
COLD_PROCESS = """
import json, sys, time
start = time.perf_counter()
import vilab
import vilab.optimiser
from vilab.exercises import temperature
imported = time.perf_counter()
if sys.argv[1] == "before":  # the old paths: torch's guarded optimiser, torch's broadcast
    import types, torch, vilab.checks.data
    vilab.optimiser._compiler_loaded = lambda: True
    vilab.checks.data.np = types.SimpleNamespace(broadcast_shapes=torch.broadcast_shapes)
trainer = temperature.make_trainer(seed=0)
built = time.perf_counter()
trainer.step(1)
first = time.perf_counter()
trainer.step(1)
second = time.perf_counter()
print(json.dumps({
    "import": imported - start, "build": built - imported, "first_step": first - built,
    "second_step": second - first, "total": first - start,
    "unneeded": [m for m in ("torch._dynamo", "sympy") if m in sys.modules],
    "loss": trainer.history.loss,
}))
"""


def cold_run(mode: str) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    done = subprocess.run(
        [sys.executable, "-c", COLD_PROCESS, mode],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="fresh processes per variant")
    args = parser.parse_args(argv)
    runs = {"before": [], "after": []}
    for _ in range(args.repeats):  # in turn, so a busy machine slows both alike
        for mode in runs:
            runs[mode].append(cold_run(mode))
    losses = {mode: [run["loss"] for run in results] for mode, results in runs.items()}
    same = all(loss == losses["before"][0] for mode in losses for loss in losses[mode])
    print(
        f"cold start, temperature exercise, medians of {args.repeats} fresh processes each "
        f"(seconds; 'first step' is the step alone, 'total' is import vilab + build + step):"
    )
    keys = ("import", "build", "first_step", "second_step", "total")
    print(f"  {'':8s}" + "".join(f"{k.replace('_', ' '):>13s}" for k in keys) + "  imported")
    medians = {}
    for mode, results in runs.items():
        medians[mode] = {k: statistics.median(r[k] for r in results) for k in keys}
        imported = {m: sum(m in r["unneeded"] for r in results) for m in ("torch._dynamo", "sympy")}
        print(
            f"  {mode:8s}"
            + "".join(f"{medians[mode][k]:13.3f}" for k in keys)
            + "  "
            + ", ".join(f"{m} {n}/{len(results)}" for m, n in imported.items())
        )
    first = medians["before"]["first_step"] / medians["after"]["first_step"]
    total = medians["before"]["total"] - medians["before"]["import"]
    total /= medians["after"]["total"] - medians["after"]["import"]
    whole = medians["before"]["total"] / medians["after"]["total"]
    print(
        f"first step before/after: {first:.1f}x; build + first step: {total:.2f}x; "
        f"import vilab to the end of the first step: {whole:.2f}x; "
        f"the same losses, bit for bit: {same}"
    )


if __name__ == "__main__":
    main()

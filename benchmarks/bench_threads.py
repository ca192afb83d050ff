"""How many torch threads should a student's kernel use? 1 against 2, with and without a
competing process, on the course's model sizes (the temperature model and the VAE step).

A laptop running JupyterLab is rarely idle: a browser, a second kernel, a video call. With
two cores and one of them busy, torch's two OpenMP threads wait for each other at every
parallel region (a "barrier"), and a VAE step can become tens of times slower. This script
measures it side by side: for each setting it runs the same steps in a fresh subprocess
(``torch.set_num_threads`` cannot be undone within one process) and prints the ratio of
seconds per step, 2 threads / 1 thread (< 1 means 2 threads are faster).

    python benchmarks/bench_threads.py             # ~1-2 minutes
    python benchmarks/bench_threads.py --steps 100
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import time

WORKER = r"""
import json, sys, time, torch
threads, model, steps = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
torch.set_num_threads(threads)
import pyro
from vilab.exercises import temperature, vae
if model == "temperature":
    trainer = temperature.make_trainer(seed=0)
else:
    x = (torch.rand(1024, 784) > 0.5).float()
    networks = vae.VAE(z_dim=2, hidden_dim=400)
    from vilab import Trainer
    trainer = Trainer(vae.model, vae.guide, args=(x[:128],),
                      kwargs={"networks": networks}, lr=1e-3, seed=0)
trainer.step(5)  # warm-up
start = time.perf_counter()
trainer.step(steps)
print(json.dumps((time.perf_counter() - start) / steps))
"""


def burn(stop_after: float) -> None:
    """A competing process: keeps one core busy (a browser tab, another kernel...)."""
    end = time.time() + stop_after
    x = 0
    while time.time() < end:
        x += 1


def seconds_per_step(threads: int, model: str, steps: int) -> float:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), VILAB_NUM_THREADS=str(threads))
    out = subprocess.run(
        [sys.executable, "-c", WORKER, str(threads), model, str(steps)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=60)
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}")
    for model, steps in (("temperature", args.steps * 10), ("vae", args.steps)):
        for competing in (False, True):
            burner = None
            if competing:
                burner = multiprocessing.Process(target=burn, args=(600,), daemon=True)
                burner.start()
            try:
                one = seconds_per_step(1, model, steps)
                two = seconds_per_step(2, model, steps)
            finally:
                if burner is not None:
                    burner.terminate()
            label = "one core busy elsewhere" if competing else "nothing else running  "
            print(
                f"{model:12s} {label}: 1 thread {one * 1e3:7.2f} ms/step, 2 threads "
                f"{two * 1e3:7.2f} ms/step, ratio 2/1 = {two / one:5.2f}"
            )


if __name__ == "__main__":
    main()

"""The benchmarks' own arithmetic: the time-to-posterior criterion (exact moments, the
tolerance test, the held streak) and the VAE step's FLOP count. No timing is asserted."""

from __future__ import annotations

import importlib.util
import math
import sys
import time
from pathlib import Path

import pytest
import torch

from vilab.scope import PrivateScope

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load(name: str):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def ttp():
    return load("bench_time_to_posterior")


def test_exact_moments_are_the_closed_forms(ttp):
    temperature = ttp.exact_moments("temperature")
    assert temperature["mean"] == pytest.approx(17.4)
    assert temperature["sd"] == pytest.approx(math.sqrt(0.8))
    coin = ttp.exact_moments("coin")  # Beta(16, 14)
    assert coin["mean"] == pytest.approx(16 / 30)
    assert coin["sd"] == pytest.approx(math.sqrt(16 * 14 / (30**2 * 31)))


def test_the_gaussian_target_is_reachable_by_the_mean_field_guide(ttp):
    """The criterion compares q's means with the exact posterior's; the mean-field optimum
    (CAVI) must pass it, or no contender could."""
    from vilab.exercises import gaussian

    x = gaussian.load_data()
    exact = ttp.exact_moments("gaussian", x)
    best = gaussian.cavi(x)
    params = {
        "mu_loc": best.mu_loc,
        "gamma_concentration": best.gamma_concentration,
        "gamma_rate": best.gamma_rate,
    }
    assert ttp.at_posterior("gaussian", params, exact)
    start = {"mu_loc": 0.0, "gamma_concentration": 1.0, "gamma_rate": 1.0}  # the guide's start
    assert not ttp.at_posterior("gaussian", start, exact)


@pytest.mark.parametrize(
    "loc, scale, ok",
    [
        (17.4, math.sqrt(0.8), True),
        (17.4 * 1.009, math.sqrt(0.8) * 0.981, True),  # inside 1% and 2%
        (17.4 * 1.011, math.sqrt(0.8), False),  # mean 1.1% off
        (17.4, math.sqrt(0.8) * 1.021, False),  # sd 2.1% off
        (math.nan, math.sqrt(0.8), False),
        (0.0, 1.0, False),  # the course slide's start
    ],
)
def test_temperature_criterion(ttp, loc, scale, ok):
    exact = ttp.exact_moments("temperature")
    assert ttp.at_posterior("temperature", {"loc": loc, "scale": scale}, exact) is ok


def test_coin_criterion_reads_the_beta_guide(ttp):
    exact = ttp.exact_moments("coin")
    assert ttp.at_posterior("coin", {"alpha_q": 16.0, "beta_q": 14.0}, exact)
    assert not ttp.at_posterior("coin", {"alpha_q": 15.0, "beta_q": 15.0}, exact)  # the start
    assert not ttp.at_posterior("coin", {"alpha_q": 160.0, "beta_q": 140.0}, exact)  # too narrow


def test_streak_reports_the_first_check_of_a_held_run(ttp):
    streak = ttp.Streak(hold=3)
    checks = [(True, 1.0), (True, 2.0), (False, 3.0), (True, 4.0), (True, 5.0), (True, 6.0)]
    results = [streak.update(ok, clock) for ok, clock in checks]
    assert results == [None, None, None, None, None, 4.0]
    assert ttp.Streak(hold=10).update(True, 0.5) is None


def test_ratio_treats_never_as_infinitely_slow(ttp):
    assert ttp.ratio(1.0, 2.0) == "0.50"
    assert ttp.ratio(None, 2.0).startswith("inf")
    assert ttp.ratio(1.0, None).startswith("0")
    assert ttp.ratio(None, None) == "both never"


def test_a_measurement_returns_its_time_or_never(ttp):
    """The plumbing, on a tiny budget: the hand-written loop on the temperature model."""
    exact = {m: ttp.exact_moments(m) for m in ("temperature", "coin")}
    request = ttp.make_request("temperature", "hand", 0, 0.05, {"temperature": {}}, exact)
    with PrivateScope(0):  # the hand loop clears Pyro's global store and seeds torch
        result = ttp.measure("hand", request)
    assert "error" not in result, result
    assert result["seconds"] is None or result["seconds"] > 0
    assert result["steps"] >= 25 and result["build"] > 0


def test_vae_step_flops_count_every_matrix_product():
    bench_vae = load("bench_vae")
    products = bench_vae.step_products(batch=128, num_pixels=784, hidden=400, z_dim=2)
    flops = sum(2 * m * k * n for m, k, n in products)
    # forward + weight gradient of all five layers, input gradient of all but the first
    big = 2 * 128 * 784 * 400  # one product of a 784 x 400 layer
    small = 2 * 128 * 400 * 2  # one product of a 400 x 2 (or 2 x 400) layer
    assert flops == 2 * big + 3 * big + 3 * small * 3
    assert 0.40e9 < flops < 0.41e9  # the "~0.40 GFLOP at batch 128"
    bench_vae.matmul_loop(products[:2])(1)  # runs


def test_vae_step_ledger_times_every_part_and_leaves_the_trainer_as_it_was():
    from vilab.datasets import MNISTSplit
    from vilab.exercises import vae

    bench_vae = load("bench_vae")
    x = (torch.rand(96, 784, generator=torch.Generator().manual_seed(0)) > 0.7).float()
    labels = torch.zeros(96, dtype=torch.long)
    data = MNISTSplit(x[:64], labels[:64], x[64:], labels[64:], "synthetic", "static")
    trainer = vae.make_trainer(data, seed=0, device="cpu", batch_size=16, hidden_dim=8)
    ledger = bench_vae.step_ledger(trainer, 6, time.perf_counter)
    assert list(ledger)[:6] == [
        "minibatch",
        "Pyro forward",
        "backward",
        "gradient check",
        "convergence watch",
        "optimiser update",
    ]
    assert all(seconds > 0 for seconds in ledger.values()), ledger
    assert trainer.num_steps_done == 6 and len(trainer.history) == 6
    assert "_update" not in vars(trainer) and "observe" not in vars(trainer.convergence)
    assert torch.Tensor.backward.__qualname__ == "Tensor.backward"

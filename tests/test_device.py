"""Trainer(device=...): the CPU by default, "auto" for the GPU when there is one; data and
parameters move there; the same seed gives the same trace on the same device.

The GPU tests skip, saying so, on a machine without CUDA (pytest -rs lists the reason)."""

from __future__ import annotations

from typing import NamedTuple

import pytest
import torch

from vilab.device import on_device, resolve_device, to_device
from vilab.exercises import temperature

needs_gpu = pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason="no CUDA GPU on this machine: the GPU half of Trainer(device=...) is not exercised",
)


class Pair(NamedTuple):
    x: torch.Tensor
    label: str


def test_auto_picks_the_gpu_only_when_there_is_one(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")
    assert resolve_device(torch.device("cpu")) == resolve_device("cpu") == torch.device("cpu")


@pytest.mark.parametrize(
    "device, gpus, match",
    [
        ("cuda", 0, "Expected a CUDA GPU for device='cuda', but PyTorch sees no CUDA GPU"),
        ("cuda:2", 1, "Expected device cuda:0 to cuda:0 \\(this machine has 1 GPU\\)"),
        ("gpu", 0, "Expected device 'cpu', 'cuda', 'cuda:N' or 'auto', got 'gpu'"),
        ("meta", 0, "vilab trains on the CPU or an NVIDIA GPU"),
        (3.5, 0, "got 3.5"),
    ],
)
def test_a_device_this_machine_lacks_is_explained(monkeypatch, device, gpus, match):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: gpus > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: gpus)
    with pytest.raises(ValueError, match=match):
        resolve_device(device)


def test_to_device_moves_every_tensor_and_keeps_the_containers():
    x = torch.ones(3)
    moved = to_device({"args": (x, [x, 2.0]), "pair": Pair(x, "a")}, torch.device("meta"))
    assert moved["args"][0].device.type == "meta" and moved["args"][1][0].device.type == "meta"
    assert isinstance(moved["args"], tuple) and moved["args"][1][1] == 2.0
    assert isinstance(moved["pair"], Pair) and moved["pair"].x.device.type == "meta"
    assert to_device(x, torch.device("cpu")) is x  # already there: no copy


def test_on_the_cpu_the_device_context_changes_nothing():
    with on_device(torch.device("cpu")):
        assert torch.zeros(1).device.type == "cpu"


def test_an_explicit_cpu_trainer_is_the_default_one_bit_for_bit():
    default = temperature.make_trainer(seed=3)
    explicit = temperature.make_trainer(seed=3, device="cpu")
    default.run(30, progress=False)
    explicit.run(30, progress=False)
    assert default.history.loss == explicit.history.loss
    assert explicit.device == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_auto_on_a_machine_without_gpu_trains_on_the_cpu_and_cuda_is_refused():
    assert temperature.make_trainer(device="auto").device == torch.device("cpu")
    with pytest.raises(ValueError, match="PyTorch sees no CUDA GPU"):
        temperature.make_trainer(device="cuda")


# -- on a GPU -------------------------------------------------------------------------------


@needs_gpu
def test_on_the_gpu_data_and_parameters_live_there_and_readouts_come_back_to_the_cpu():
    trainer = temperature.make_trainer(device="cuda")
    trainer.run(20, progress=False)
    assert trainer.args[0].device.type == "cuda"
    with trainer.activated():
        import pyro

        store = pyro.get_param_store()
        assert {store[name].device.type for name in store.keys()} == {"cuda"}
    assert {v.device.type for v in trainer.params().values()} == {"cpu"}


@needs_gpu
def test_on_the_gpu_the_same_seed_gives_the_same_trace_even_interleaved():
    alone = temperature.make_trainer(seed=1, device="cuda")
    alone.run(40, progress=False)
    first, second = (temperature.make_trainer(seed=1, device="cuda") for _ in range(2))
    for _ in range(4):  # two trainers taking turns on the GPU's random stream
        first.run(10, progress=False)
        second.run(10, progress=False)
    assert first.history.loss == second.history.loss == alone.history.loss


@needs_gpu
def test_a_gpu_checkpoint_continues_exactly(tmp_path):
    trainer = temperature.make_trainer(seed=2, device="cuda")
    trainer.run(20, progress=False)
    trainer.save(tmp_path / "run.pt")
    resumed = temperature.make_trainer(seed=2, device="cuda")
    resumed.load(tmp_path / "run.pt")
    trainer.run(10, progress=False)
    resumed.run(10, progress=False)
    assert resumed.history.loss[-10:] == trainer.history.loss[-10:]
    on_cpu = temperature.make_trainer(seed=2)  # a GPU checkpoint opens on a CPU trainer too
    on_cpu.load(tmp_path / "run.pt")
    assert on_cpu.num_steps_done == 20


@needs_gpu
@pytest.mark.parametrize("exercise", ["bnn", "factor_analysis", "vae"])
def test_the_big_exercises_train_on_the_gpu(exercise, shared_data):
    if exercise == "bnn":
        from vilab.exercises.bnn_methods import make_trainer

        trainer = make_trainer(method="mean_field", device="cuda")
    elif exercise == "factor_analysis":
        from vilab.exercises.factor_analysis import make_trainer

        trainer = make_trainer(device="cuda")
    else:
        from vilab.exercises.vae import make_trainer

        trainer = make_trainer(device="cuda", split_every=None)
    trainer.run(3, progress=False)
    assert trainer.device.type == "cuda"
    assert all(torch.isfinite(torch.tensor(trainer.history.loss)))

"""Test-wide set-up: a clean Pyro state and a fixed seed per test, the shared data.

Smoke mode and the thread count are set for tests and notebooks alike in the repository's
top-level conftest.py.
"""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")

import pyro
import pytest
import torch

torch.set_num_threads(int(os.environ.get("VILAB_TEST_THREADS", "1")))


@pytest.fixture(autouse=True)
def clean_pyro_state():
    """Every test starts from an empty global param store and seed 0, and closes its figures."""
    pyro.clear_param_store()
    pyro.set_rng_seed(0)
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture(scope="session")
def shared_data_dir() -> str:
    """The folder holding the real data (rugged_data.csv and MNIST/raw): VILAB_DATA_DIR or
    ../shared/data beside the repository; skips with the reason when neither has it."""
    here = os.path.dirname(os.path.abspath(__file__))
    beside_repo = os.path.join(here, "..", "..", "shared", "data")
    for candidate in (os.environ.get("VILAB_DATA_DIR"), beside_repo):
        if candidate and os.path.isfile(os.path.join(candidate, "rugged_data.csv")):
            return os.path.abspath(candidate)
    pytest.skip(
        "real data not available: set VILAB_DATA_DIR to a folder holding "
        "rugged_data.csv and MNIST/raw (see data/README.md)"
    )


@pytest.fixture
def shared_data(shared_data_dir, monkeypatch):
    """Point the dataset cache at the real data (see ``shared_data_dir``)."""
    from vilab.datasets import data_dir

    monkeypatch.setenv("VILAB_DATA_DIR", shared_data_dir)
    return data_dir()

"""Private parameter stores and random streams, so two trainings never clobber each other.

Pyro keeps every ``pyro.param`` in one global store: re-running a notebook cell, or
training two models whose guides both call ``pyro.param("loc")``, silently shares or
overwrites parameters (the classic student trap). A :class:`PrivateScope` owns its own
store and its own random state; while it is active (``with scope:``) they replace the
global ones, and on exit the previous ones come back. Swapping dictionaries costs
nothing, so the engine activates its scope around every block of steps.
"""

from __future__ import annotations

import random
from contextlib import contextmanager

import numpy as np
import pyro
import torch

# ParamStoreDict keeps its state in these three dicts (pyro 1.8 - 1.9); the swap below
# relies on it and tests/test_scope.py fails loudly if a Pyro release renames them.
_STORE_FIELDS = ("_params", "_param_to_name", "_constraints")


def get_rng_state() -> dict:
    """Snapshot of every random stream Pyro draws from (torch, numpy, random, and the GPUs'
    once CUDA is in use: a trainer on a GPU draws there)."""
    state = {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),
        "random": random.getstate(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["random"])
    cuda = state.get("cuda")  # set only where CUDA is in use, with as many GPUs as saved
    if cuda is not None and torch.cuda.is_initialized() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)


def seeded_rng_state(seed: int) -> dict:
    """The random state that ``pyro.set_rng_seed(seed)`` would produce, without keeping it."""
    saved = get_rng_state()
    try:
        pyro.set_rng_seed(seed)
        return get_rng_state()
    finally:
        set_rng_state(saved)


class PrivateScope:
    """A parameter store and random state of one's own; ``with scope:`` makes them global."""

    def __init__(self, seed: int):
        self.seed = seed
        self.store_fields: tuple[dict, dict, dict] = ({}, {}, {})
        self.rng_state = seeded_rng_state(seed)
        self._saved: tuple | None = None
        self._depth = 0  # re-entering an active scope (a callback inside a step) is a no-op

    def clear(self) -> None:
        """Forget every parameter and restart the random stream from the seed."""
        self.store_fields = ({}, {}, {})
        self.rng_state = seeded_rng_state(self.seed)

    def __enter__(self) -> PrivateScope:
        self._depth += 1
        if self._depth == 1:
            store = pyro.get_param_store()
            self._saved = (tuple(getattr(store, name) for name in _STORE_FIELDS), get_rng_state())
            for name, value in zip(_STORE_FIELDS, self.store_fields):
                setattr(store, name, value)
            set_rng_state(self.rng_state)
        return self

    def __exit__(self, *exc_info) -> None:
        self._depth -= 1
        if self._depth == 0:
            store = pyro.get_param_store()
            saved_fields, saved_rng = self._saved
            self.rng_state = get_rng_state()
            for name, value in zip(_STORE_FIELDS, saved_fields):
                setattr(store, name, value)
            set_rng_state(saved_rng)
            self._saved = None

    @contextmanager
    def inspecting(self):
        """Run code that uses this scope's parameters but must not advance its random stream."""
        with self:
            saved = get_rng_state()
            try:
                yield self
            finally:
                set_rng_state(saved)

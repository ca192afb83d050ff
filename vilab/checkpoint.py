"""Save and restore a training run in a safe format (``torch.load(weights_only=True)``).

A checkpoint holds tensors and plain Python values only, never pickled code, so opening a
file a classmate sent you cannot run anything. Constraints are not stored: they come back
from the model and guide code when the checkpoint is loaded into a Trainer built from them.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyro
import torch

from .errors import CheckpointError
from .history import History

FORMAT = "vilab-checkpoint"
VERSION = 1


def _encode_rng(state: dict) -> dict:
    name, keys, pos, has_gauss, cached = state["numpy"]
    return {
        "torch": state["torch"],
        "numpy": [name, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached],
        "random": state["random"],
    }


def _decode_rng(state: dict) -> dict:
    name, keys, pos, has_gauss, cached = state["numpy"]
    numpy_state = (name, keys.numpy().astype(np.uint32), pos, has_gauss, cached)
    version, internal, gauss = state["random"]
    return {
        "torch": state["torch"],
        "numpy": numpy_state,
        "random": (version, tuple(internal), gauss),
    }


def save_checkpoint(trainer, path) -> None:
    path = Path(path)
    with trainer.scope:
        store = pyro.get_param_store()
        params = {name: value.detach().clone() for name, value in store.named_parameters()}
        optim_state = trainer.optim.get_state()
    state = {
        "format": FORMAT,
        "version": VERSION,
        "num_steps_done": trainer.num_steps_done,
        "elapsed": trainer._elapsed,
        "lr": trainer.lr,
        "seed": trainer.seed,
        "params": params,
        "optim": optim_state,
        "rng": _encode_rng(trainer.scope.rng_state),
        "history": trainer.history.to_dict(),
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)  # never leave a half-written checkpoint behind


def load_checkpoint(trainer, path) -> None:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No checkpoint at {path}: check the path, or save one first.")
    try:
        state = torch.load(path, weights_only=True)
    except Exception as exc:
        raise CheckpointError(
            f"{path} could not be read as a vilab checkpoint ({exc}). Was it written by "
            f"Trainer.save()?"
        ) from exc
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a vilab checkpoint (written by Trainer.save()).")

    trainer.reset()  # parameters and constraints come back from the model and guide code
    with trainer.scope:
        current = dict(pyro.get_param_store().named_parameters())
        expected, saved = set(current), set(state["params"])
        if expected != saved:
            raise CheckpointError(
                f"The checkpoint's parameters do not match this model/guide.\n"
                f"  only in the checkpoint: {sorted(saved - expected)}\n"
                f"  only in this trainer:   {sorted(expected - saved)}\n"
                f"Load it into a Trainer built with the same model and guide."
            )
        for name, value in state["params"].items():
            target = current[name]
            if target.shape != value.shape:
                raise CheckpointError(
                    f"Parameter {name!r} has shape {tuple(value.shape)} in the checkpoint but "
                    f"{tuple(target.shape)} here: was the model changed since it was saved?"
                )
            with torch.no_grad():
                target.copy_(value)
    trainer._lr = float(state["lr"])
    trainer.optim = trainer.new_optim()
    trainer.optim.set_state(state["optim"])
    trainer.scope.rng_state = _decode_rng(state["rng"])
    trainer.num_steps_done = int(state["num_steps_done"])
    trainer._elapsed = float(state["elapsed"])
    trainer.history = History.from_dict(state["history"])

"""Save and restore a training run in a safe format (``torch.load(weights_only=True)``).

A checkpoint holds tensors and plain Python values only, never pickled code, so opening a
file a classmate sent you cannot run anything. Constraints are not stored: they come back
from the model and guide code when the checkpoint is loaded into a Trainer built from them.

Loading is all or nothing: the whole file is read and checked against the trainer (format
version, parameter names, shapes and constraints, the model's and guide's sample sites,
the optimiser's kind and state) before anything is changed, so a refused file leaves the
trainer exactly as it was. Version 2 adds the model identity and the optimiser's kind;
version 1 files (without them) still load.
"""

from __future__ import annotations

import math
import os
import pickle
import warnings
from pathlib import Path

import numpy as np
import pyro
import torch

from .errors import CheckpointError
from .history import History
from .options import check_lr, make_optim

FORMAT = "vilab-checkpoint"
VERSION = 2
READABLE_VERSIONS = (1, 2)
REQUIRED = ("num_steps_done", "elapsed", "lr", "params", "optim", "rng", "history")


def model_identity(model_trace, guide_trace) -> dict[str, dict[str, str]]:
    """What a checkpoint must match: each latent site's distribution and shape in the model
    and in the guide, and each parameter's shape and constraint (call with the trainer's
    scope active). Observed sites are left out: the data may change between runs."""
    from .checks.traces import guide_sites, latent_sites

    def site(s) -> str:
        fn = s["fn"]
        return f"{type(fn).__name__}, batch shape {tuple(fn.batch_shape)}, event shape " + str(
            tuple(fn.event_shape)
        )

    store = pyro.get_param_store()
    constraints = store._constraints  # the field PrivateScope swaps (see scope.py)
    return {
        "model": {name: site(model_trace.nodes[name]) for name in latent_sites(model_trace)},
        "guide": {name: site(s) for name, s in guide_sites(guide_trace).items()},
        "params": {
            name: f"shape {tuple(value.shape)}, constraint {constraints.get(name)}"
            for name, value in store.named_parameters()
        },
    }


def optim_kind(optim) -> str:
    """The torch optimiser behind a trainer's optimiser: "Adam", "ClippedAdam", "SGD"..."""
    cls = getattr(optim, "optim_cls", None) or getattr(optim, "pt_optim_constructor", None)
    return getattr(cls, "__name__", type(optim).__name__)


def _encode_rng(state: dict) -> dict:
    name, keys, pos, has_gauss, cached = state["numpy"]
    return {
        "torch": state["torch"],
        "numpy": [name, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached],
        "random": state["random"],
        **({"cuda": list(state["cuda"])} if "cuda" in state else {}),  # a trainer on a GPU
    }


def _decode_rng(state: dict) -> dict:
    name, keys, pos, has_gauss, cached = state["numpy"]
    if not (isinstance(state["torch"], torch.Tensor) and state["torch"].dtype == torch.uint8):
        raise TypeError("the torch random state is not a byte tensor")
    if state["torch"].numel() != torch.get_rng_state().numel() or keys.numel() != 624:
        raise ValueError("a random state has the wrong size")
    numpy_state = (name, keys.numpy().astype(np.uint32), int(pos), int(has_gauss), float(cached))
    version, internal, gauss = state["random"]
    if len(internal) != 625:
        raise ValueError("Python's random state has the wrong size")
    decoded = {
        "torch": state["torch"].clone(),
        "numpy": numpy_state,
        "random": (version, tuple(int(v) for v in internal), gauss),
    }
    if "cuda" in state:  # the GPUs' streams (used only where CUDA is in use)
        if not all(isinstance(s, torch.Tensor) and s.dtype == torch.uint8 for s in state["cuda"]):
            raise TypeError("a GPU random state is not a byte tensor")
        decoded["cuda"] = [s.clone() for s in state["cuda"]]
    return decoded


def save_checkpoint(trainer, path) -> None:
    path = Path(path)
    state = {"format": FORMAT, "version": VERSION, **trainer.state_dict()}
    state["rng"] = _encode_rng(state["rng"])
    tmp = path.with_name(path.name + ".tmp")
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)  # never leave a half-written checkpoint behind
    except (OSError, RuntimeError) as exc:  # torch's writer raises RuntimeError for some
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        why = getattr(exc, "strerror", None) or str(exc).splitlines()[0]
        raise OSError(
            getattr(exc, "errno", None),
            f"Could not save the checkpoint to {path} ({why}). Fix: save into a folder that "
            f"exists and that you can write to, e.g. trainer.save('run.pt').",
        ) from exc


def _read(path: Path) -> dict:
    if not path.is_file():
        raise FileNotFoundError(f"No checkpoint at {path}: check the path, or save one first.")
    try:
        # onto the CPU: a checkpoint from a GPU opens anywhere; params then copy to the device
        state = torch.load(path, weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as exc:
        # torch's message suggests weights_only=False: never do that for a file you did
        # not write yourself, it can run any code.
        why = (
            "it holds Python objects other than tensors and plain values, which vilab "
            "never opens (they could run code)"
            if "unsupported global" in str(exc).lower()
            else "it is damaged (cut short?) or not a checkpoint at all"
        )
        raise CheckpointError(
            f"{path} could not be read as a vilab checkpoint: {why}. Load a file written by "
            f"Trainer.save(), or save a fresh one."
        ) from None
    except Exception as exc:
        raise CheckpointError(
            f"{path} could not be read as a vilab checkpoint: it is damaged (cut short?) or "
            f"not a checkpoint at all ({type(exc).__name__}). Load a file written by "
            f"Trainer.save(), or save a fresh one."
        ) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a vilab checkpoint (written by Trainer.save()).")
    version = state.get("version")
    if version not in READABLE_VERSIONS:
        raise CheckpointError(
            f"{path} is a vilab checkpoint of format version {version!r}; this vilab reads "
            f"versions {list(READABLE_VERSIONS)}. Fix: update vilab (pip install -U vilab) "
            f"to load it."
        )
    missing = [key for key in REQUIRED if key not in state]
    if missing or not isinstance(state["params"], dict):
        raise CheckpointError(
            f"{path} is an incomplete vilab checkpoint (missing {missing or ['params']}): "
            f"the file is damaged. Save a fresh one with Trainer.save()."
        )
    return state


def _identity_problems(saved: dict, current: dict) -> list[str]:
    problems = []
    for part, what in (("params", "parameter"), ("model", "model site"), ("guide", "guide site")):
        old, new = saved.get(part, {}), current.get(part, {})
        for name in sorted(set(old) | set(new)):
            if old.get(name) != new.get(name):
                problems.append(
                    f"  {what} {name!r}: checkpoint {old.get(name, 'absent')}; "
                    f"this trainer {new.get(name, 'absent')}"
                )
    return problems


def _guess_kind(optim_state: dict) -> str | None:
    """The optimiser kind of a version 1 checkpoint, from its saved settings."""
    for saved in optim_state.values():
        groups = saved.get("param_groups") or [{}]
        keys = set(groups[0])
        if keys & {"lrd", "clip_norm"}:
            return "ClippedAdam"
        if keys & {"momentum", "dampening", "nesterov"}:
            return "SGD"
        if "betas" in keys:
            return "Adam"
    return None


def _check_params(path, state, current: dict) -> None:
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
        if not isinstance(value, torch.Tensor) or target.shape != value.shape:
            shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
            raise CheckpointError(
                f"Parameter {name!r} has shape {shape} in the checkpoint but "
                f"{tuple(target.shape)} here: was the model changed since it was saved?"
            )
        if not bool(torch.isfinite(value).all()):
            raise CheckpointError(
                f"Parameter {name!r} holds NaN/inf in {path}: the saved run had diverged. "
                f"Load an earlier checkpoint, or start again with a smaller lr."
            )


def _check_optim(path, state, trainer, current: dict) -> None:
    kind, saved_kind = optim_kind(trainer.optim), state.get("optim_kind")
    saved_kind = saved_kind or _guess_kind(state["optim"])
    if saved_kind is not None and saved_kind != kind:
        raise CheckpointError(
            f"{path} was trained with the optimiser {saved_kind}, this trainer uses {kind}: "
            f"their saved states differ, so the run cannot continue. Fix: build the Trainer "
            f"with the checkpoint's optimiser (optim='clipped_adam' for ClippedAdam, "
            f"'adam' for Adam, 'sgd' for SGD), then load."
        )
    for name, saved in state["optim"].items():
        if name not in current:
            raise CheckpointError(
                f"{path} holds optimiser state for {name!r}, which is not a parameter here: "
                f"the file is damaged or from another model."
            )
        for key, value in saved["state"].get(0, {}).items():
            if (
                isinstance(value, torch.Tensor)
                and value.dim()
                and value.shape != current[name].shape
            ):
                raise CheckpointError(
                    f"The optimiser state {key!r} of {name!r} has shape {tuple(value.shape)} "
                    f"in {path} but the parameter has {tuple(current[name].shape)}: the file "
                    f"is damaged or from another model."
                )


def load_checkpoint(trainer, path) -> None:
    """Restore the run saved at ``path`` into ``trainer``; on any refusal nothing changes."""
    path = Path(path)
    state = _read(path)
    with trainer.scope:
        current = dict(pyro.get_param_store().named_parameters())
    _check_params(path, state, current)
    if "identity" in state:
        problems = _identity_problems(state["identity"], trainer._identity)
        if problems:
            raise CheckpointError(
                f"{path} was written by another model/guide than this trainer's:\n"
                + "\n".join(problems)
                + "\nLoading it would give these parameters meanings they never had (a "
                "constrained value read as an unconstrained one, a site of another family). "
                "Fix: load it into a Trainer built from the same model and guide code."
            )
    _check_optim(path, state, trainer, current)
    try:  # decode everything before anything changes
        lr = check_lr(float(state["lr"]))
        rng = _decode_rng(state["rng"])
        history = History.from_dict(state["history"])
        num_steps_done, elapsed = int(state["num_steps_done"]), float(state["elapsed"])
        if len({len(history.step), len(history.loss), len(history.time)}) != 1 or not (
            num_steps_done >= 0 and math.isfinite(elapsed)
        ):
            raise ValueError("inconsistent history")
        make_optim(trainer.optim_choice, lr, trainer.optim_args).set_state(state["optim"])
    except CheckpointError:
        raise
    except Exception as exc:
        raise CheckpointError(
            f"{path} is a damaged vilab checkpoint ({type(exc).__name__}: {exc}). Save a fresh "
            f"one with Trainer.save()."
        ) from None
    if lr != trainer.lr:
        warnings.warn(
            f"The checkpoint was trained with lr={lr:g}; this trainer was built with "
            f"lr={trainer.lr:g}. Training continues with the checkpoint's lr={lr:g}, as the "
            f"saved run did; to change it, set trainer.lr = {trainer.lr:g} after loading.",
            UserWarning,
            stacklevel=3,
        )
    # commit: nothing below can fail on a file that passed the checks above
    trainer.load_state_dict(
        {
            **state,
            "lr": lr,
            "rng": rng,
            "num_steps_done": num_steps_done,
            "elapsed": elapsed,
            "history": history,
        }
    )

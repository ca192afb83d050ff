"""Where a training runs: the CPU (the default) or a GPU, chosen with one argument.

``Trainer(..., device="cuda")`` moves the data there, and creates the parameters there by
running model and guide with the device as torch's default (so ``torch.tensor(15.0)``
inside a guide lands on the GPU too). ``device="auto"`` picks the GPU when PyTorch sees
one, else the CPU. Seeds stay reproducible per device: the same seed gives the same trace
on the same device, but the CPU and a GPU draw different random numbers.
"""

from __future__ import annotations

from contextlib import nullcontext

import torch

CPU = torch.device("cpu")


def resolve_device(device="cpu") -> torch.device:
    """``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"auto"`` or a ``torch.device`` as a device
    this machine has, or a ValueError that says what to pass instead."""
    if isinstance(device, str) and device.strip().lower() == "auto":
        return torch.device("cuda") if torch.cuda.is_available() else CPU
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(
            f"Expected device 'cpu', 'cuda', 'cuda:N' or 'auto', got {device!r}. "
            f"Fix: device='auto' uses the GPU when there is one, else the CPU."
        ) from None
    if resolved.type not in ("cpu", "cuda"):
        raise ValueError(
            f"Expected device 'cpu', 'cuda', 'cuda:N' or 'auto', got {device!r} (vilab trains "
            f"on the CPU or an NVIDIA GPU). Fix: device='cpu'."
        )
    if resolved.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(
                f"Expected a CUDA GPU for device={str(resolved)!r}, but PyTorch sees no CUDA "
                f"GPU here (torch.cuda.is_available() is False). Fix: device='cpu', or "
                f"device='auto' to use the GPU only when there is one."
            )
        if resolved.index is not None and resolved.index >= count:
            raise ValueError(
                f"Expected device cuda:0 to cuda:{count - 1} (this machine has {count} GPU"
                f"{'s' if count > 1 else ''}), got {str(resolved)!r}. Fix: device='cuda'."
            )
        torch.cuda.init()  # now, so that the trainer's random state includes the GPU's
    return resolved


def to_device(value, device: torch.device):
    """``value`` with every tensor in it (also inside tuples, lists and dicts) on
    ``device``; a tensor already there is returned as it is, without a copy."""
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a NamedTuple
        return type(value)(*(to_device(v, device) for v in value))
    if isinstance(value, (tuple, list)):
        return type(value)(to_device(v, device) for v in value)
    if isinstance(value, dict):
        return {k: to_device(v, device) for k, v in value.items()}
    return value


def on_device(device: torch.device):
    """A context in which torch creates new tensors on ``device``; on the CPU it does
    nothing, so CPU runs are exactly what they were without a device argument."""
    return nullcontext() if device.type == "cpu" else device

"""Checks for a data matrix: N points as rows, D numbers each (PPCA, factor analysis, any
linear latent model), refused with an error that says how to fix the input.

    x = check_data_matrix(x)                  # an (N, D) float tensor, or a clear error
    check_latent_dim(latent_dim, x.shape[1])  # 1 <= K <= D
"""

from __future__ import annotations

import numpy as np
import torch

from .validation import whole_number


def check_data_matrix(x, name: str = "x") -> torch.Tensor:
    """``x`` as an (N, D) float tensor, or a TypeError/ValueError that says how to fix it."""
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            f"Expected {name} to be a torch.Tensor of shape (N, D), got "
            f"{type(x).__name__}. Convert it with torch.as_tensor({name})."
        )
    if not x.is_floating_point():
        raise TypeError(
            f"Expected {name} to hold floats, got dtype {x.dtype}. Convert it, e.g. "
            f"{name}.float() (or {name}.float() / 255 for 0-255 pixel values)."
        )
    if x.dim() != 2 or x.shape[0] < 2:
        raise ValueError(
            f"Expected {name} of shape (N, D) with N >= 2 points as rows, got shape "
            f"{tuple(x.shape)}. Flatten images with {name}.reshape(len({name}), -1)."
        )
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN/inf values: drop or impute those rows first.")
    return x.float()


def check_latent_dim(latent_dim, data_dim: int) -> int:
    """``latent_dim`` as a whole number between 1 and the data dimension D."""
    fix = f"a K-dimensional code spans at most D directions: pick 1 <= latent_dim <= {data_dim}."
    latent_dim = whole_number("latent_dim", latent_dim, fix=fix)
    if latent_dim > data_dim:
        raise ValueError(
            f"latent_dim must be a whole number with 1 <= latent_dim <= {data_dim} (the data "
            f"dimension), got {latent_dim}. Fix: {fix}"
        )
    return latent_dim

"""The data side of the ruggedness regression (used by :mod:`.linear_regression` only): the
columns each model takes, checked at the boundary with messages a student can act on, and
the classical least-squares answer.

    >>> from vilab.exercises.linear_regression_data import model_args, least_squares
    >>> rugged, log_gdp = model_args("africa")          # doctest: +SKIP
    >>> intercept, slope = least_squares(rugged, log_gdp)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..datasets import RuggedData, load_rugged
from ..validation import one_of

GROUPS = ("africa", "non_africa", "interaction")


@dataclass(frozen=True)
class ModelData:
    """A trainer's context: which model (``group``) and the columns it is fitted to."""

    group: str
    args: tuple


def load_data(smoke: bool | None = None) -> RuggedData:
    """The 170 countries of the ruggedness table, what :func:`model_args` selects from (the
    same in smoke mode: the table is small, smoke mode only shortens the runs)."""
    return load_rugged()


def model_args(group: str, data: RuggedData | tuple | None = None) -> tuple[torch.Tensor, ...]:
    """The model's arguments for ``group``: (rugged, log_gdp) of the African or the other
    countries, or (africa, rugged, log_gdp) of all countries for "interaction". ``data`` is
    the loaded :class:`RuggedData` (default: :func:`load_rugged`) or such a tuple, checked."""
    one_of("group", group, GROUPS, fix='pass one of these names, e.g. group="africa".')
    data = load_rugged() if data is None else data
    if isinstance(data, tuple):
        args = data
    elif group == "interaction":
        args = (data.cont_africa, data.rugged, data.log_gdp)
    else:
        keep = data.cont_africa == (1.0 if group == "africa" else 0.0)
        args = (data.rugged[keep], data.log_gdp[keep])
    check_model_data(group, args)
    return args


def check_model_data(group: str, args: tuple) -> None:
    """Refuse data the model cannot use, before Pyro fails deep inside a distribution: one
    float32 vector per column (Pyro's parameters are float32, and torch will not mix
    dtypes), all of the same length, with ``africa`` holding only 0.0 and 1.0."""
    names = ("africa", "rugged", "log_gdp") if group == "interaction" else ("rugged", "log_gdp")
    if len(args) != len(names):
        raise ValueError(
            f"The {group!r} model takes {len(names)} tensors ({', '.join(names)}), got {len(args)}."
        )
    for name, value in zip(names, args):
        if not isinstance(value, torch.Tensor):
            raise TypeError(
                f"{name} must be a torch.Tensor, got {type(value).__name__}. "
                f"Fix: {name} = torch.as_tensor({name}, dtype=torch.float32)."
            )
        if value.dtype != torch.float32:
            hint = (
                " (0/1 labels must be floats too: the model multiplies them with "
                "float coefficients)"
                if not value.is_floating_point()
                else ""
            )
            raise TypeError(
                f"{name} must have dtype torch.float32 like Pyro's parameters, "
                f"got {value.dtype}{hint}. Fix: {name} = {name}.float()."
            )
        if value.ndim != 1:
            raise ValueError(
                f"{name} must be a vector with one value per country, shape "
                f"(N,), got shape {tuple(value.shape)}. Fix: {name}.reshape(-1) "
                f"if it is a column, or select a single column."
            )
    lengths = {name: len(value) for name, value in zip(names, args)}
    if len(set(lengths.values())) > 1 or min(lengths.values()) < 2:
        raise ValueError(
            f"Expected the same number (>= 2) of countries in every column, got "
            f"lengths {lengths}. Select the same rows from every column."
        )
    if group == "interaction" and not bool(((args[0] == 0) | (args[0] == 1)).all()):
        values = sorted(set(args[0].tolist()))[:5]
        raise ValueError(
            f"africa must hold 1.0 (African country) or 0.0 (other), got values "
            f"{values}. Fix: africa = (africa > 0).float()."
        )


def check_vectors(**named) -> list[np.ndarray]:
    """Equal-length 1-D numeric arrays (tensor or numpy), as float64 numpy arrays."""
    arrays = {}
    for name, value in named.items():
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
        array = np.asarray(value)
        if array.ndim != 1 or not np.issubdtype(array.dtype, np.number):
            raise ValueError(
                f"{name} must be a 1-D numeric array with one value per country, "
                f"got shape {array.shape} and dtype {array.dtype}."
            )
        arrays[name] = array.astype(float)
    lengths = {name: len(array) for name, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(
            f"Expected arrays of the same length (one value per country), got lengths {lengths}."
        )
    return list(arrays.values())


def least_squares(x, y) -> np.ndarray:
    """(intercept, slope) of the straight line minimising sum (y - intercept - slope x)^2."""
    x, y = check_vectors(x=x, y=y)
    design = np.stack([np.ones_like(x), x], axis=1)
    return np.linalg.lstsq(design, y, rcond=None)[0]


def least_squares_interaction(africa, rugged, log_gdp) -> dict[str, float]:
    """Least-squares a, bA, bR, bAR of log_gdp ~ a + bA africa + bR rugged + bAR africa rugged."""
    africa, rugged, y = check_vectors(africa=africa, rugged=rugged, log_gdp=log_gdp)
    design = np.stack([np.ones_like(rugged), africa, rugged, africa * rugged], axis=1)
    coef = np.linalg.lstsq(design, y, rcond=None)[0]
    return dict(zip(("a", "bA", "bR", "bAR"), (float(c) for c in coef)))

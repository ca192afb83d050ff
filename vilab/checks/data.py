"""The data side: NaN, emptiness, types and dtypes of the data, and whether the plates fit.

A plate tells Pyro "these data points are conditionally independent" *and* how many
there are. Forget it and Pyro cannot subsample or vectorise particles; give it the wrong
size and the likelihood is broadcast over made-up points; subsample without indexing the
data, or pass a minibatch to a plate sized like the minibatch, and the likelihood is
weighted as if the data set were only that big (the ELBO is off by N / batch size).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .messages import Diagnostic, describe_site
from .supports import base_constraint, is_discrete
from .traces import observed_sites


def _named_args(args: tuple, kwargs: dict):
    yield from ((f"args[{i}]", value) for i, value in enumerate(args))
    yield from ((f"kwargs[{key!r}]", value) for key, value in kwargs.items())


def _nan_diagnostic(label: str, value: torch.Tensor) -> Diagnostic | None:
    if not (isinstance(value, torch.Tensor) and value.is_floating_point()):
        return None
    bad = ~torch.isfinite(value)
    if not bad.any():
        return None
    count = int(bad.sum())
    first = tuple(int(i) for i in bad.nonzero()[0])
    return Diagnostic(
        "data-nan",
        label,
        f"The data in {label} contain {count} NaN/inf value(s) (first at index {first}). "
        f"Pyro cannot compute an ELBO from them.",
        fix="drop or impute those entries, e.g. x = x[torch.isfinite(x)] for a vector.",
    )


def _empty_diagnostic(label: str, value) -> Diagnostic | None:
    """An empty tensor, array or list: no data point to learn from."""
    if isinstance(value, torch.Tensor):
        size = value.numel()
    elif type(value).__module__ == "numpy" and hasattr(value, "size"):
        size = int(value.size)
    elif isinstance(value, list):
        size = len(value)
    else:
        return None
    if size:
        return None
    shape = tuple(value.shape) if hasattr(value, "shape") else (0,)
    return Diagnostic(
        "data-empty",
        label,
        f"The data in {label} are empty (shape {shape}): with no data point the likelihood "
        f"adds nothing, so the 'posterior' would just be the prior (and a pyro.plate of "
        f"size 0 cannot even be built).",
        fix="check how the data were loaded or filtered (e.g. a mask that kept nothing); "
        "pass at least one data point.",
    )


def check_data(args: tuple, kwargs: dict) -> None:
    """Refuse data containing NaN or inf, or empty data, before any training, naming the
    argument (done even with ``check=False``: training could not mean anything)."""
    for label, value in _named_args(args, kwargs):
        diagnostic = _nan_diagnostic(label, value) or _empty_diagnostic(label, value)
        if diagnostic is not None:
            raise ValueError(str(diagnostic))


def data_diagnostics(args: tuple, kwargs: dict) -> list[Diagnostic]:
    """NaN/inf (diagnostic 12, error) and floating data of another dtype than torch's
    default, or numpy arrays (diagnostic 12, warning)."""
    found = []
    default = torch.get_default_dtype()
    for label, value in _named_args(args, kwargs):
        nan = _nan_diagnostic(label, value) or _empty_diagnostic(label, value)
        if nan is not None:
            found.append(nan)
        elif isinstance(value, torch.Tensor) and value.is_floating_point():
            if value.dtype != default:
                found.append(
                    Diagnostic(
                        "data-dtype",
                        label,
                        f"The data in {label} are {value.dtype} but Pyro's parameters are "
                        f"{default} (torch's default dtype). Mixing them is slower, and "
                        f"matrix products fail with 'expected scalar type'.",
                        model=f"parameters and priors in {default}",
                        guide=f"{label}: {value.dtype}, shape {tuple(value.shape)}",
                        labels=("model", "data"),
                        fix=f"convert once: x = x.to({default}) (from numpy/pandas: "
                        f"torch.tensor(array, dtype={default})).",
                    )
                )
        elif type(value).__module__ == "numpy" and hasattr(value, "dtype"):
            found.append(
                Diagnostic(
                    "data-dtype",
                    label,
                    f"{label} is a numpy array; Pyro's distributions need torch tensors.",
                    guide=f"{label}: numpy {value.dtype}, shape {tuple(value.shape)}",
                    labels=("model", "data"),
                    fix=f"x = torch.tensor(array, dtype={default}).",
                )
            )
    return found


def observed_types(model_trace) -> list[Diagnostic]:
    """Observed data that are not tensors (diagnostic 12, error): Pyro's log_prob fails on a
    list or a numpy array with "The value argument to log_prob must be a Tensor"."""
    found = []
    default = torch.get_default_dtype()
    for name, site in observed_sites(model_trace).items():
        value = site["value"]
        if isinstance(value, torch.Tensor):
            continue
        numpy = type(value).__module__ == "numpy"
        what = (
            f"a numpy {value.dtype} array"
            if numpy and hasattr(value, "dtype")
            else f"a Python {type(value).__name__}"
        )
        found.append(
            Diagnostic(
                "data-type",
                name,
                f"The data observed at {name!r} are {what}; Pyro's distributions score "
                f"torch tensors only (it would fail with 'The value argument to log_prob "
                f"must be a Tensor').",
                model=describe_site(site),
                guide=f"obs of type {type(value).__module__}.{type(value).__name__}",
                labels=("model", "data"),
                fix=f"convert the data once, before training: x = torch.tensor(data, "
                f"dtype={default}) (from numpy: torch.as_tensor(array, dtype={default})).",
            )
        )
    return found


def integer_observations(model_trace) -> list[Diagnostic]:
    """Whole-number tensors observed by a continuous distribution (diagnostic 12, warning)."""
    found = []
    for name, site in observed_sites(model_trace).items():
        value = site["value"]
        if not isinstance(value, torch.Tensor) or value.is_floating_point():
            continue
        try:
            support = base_constraint(site["fn"].support)
        except NotImplementedError:
            continue
        if is_discrete(support) is not False or value.dtype == torch.bool:
            continue
        found.append(
            Diagnostic(
                "data-dtype",
                name,
                f"The observed site {name!r} is a continuous {type(site['fn']).__name__} but "
                f"its data are whole numbers ({value.dtype}).",
                model=describe_site(site),
                guide=f"obs of dtype {value.dtype}",
                labels=("model", "data"),
                fix=f"pass floats: obs=y.to({torch.get_default_dtype()}) (or model counts "
                f"with a discrete distribution such as dist.Poisson).",
            )
        )
    return found


def _batch_dims(site):
    """(dim, size) of the observed value's batch dimensions, dim counted from the right."""
    value = site["value"]
    event_dim = len(site["fn"].event_shape)
    batch_shape = tuple(value.shape)[: max(value.dim() - event_dim, 0)]
    return [(i - len(batch_shape), size) for i, size in enumerate(batch_shape)]


def plate_mismatch(model_trace) -> list[Diagnostic]:
    """Data broadcast against a bigger batch (8, error), plates of another size than the
    data (8, error), subsampling plates given the full data (9, error), and data
    dimensions outside any plate (8, warning)."""
    found = []
    for name, site in observed_sites(model_trace).items():
        if not isinstance(site["value"], torch.Tensor):
            continue
        broadcast = _broadcast(name, site)
        if broadcast is not None:
            found.append(broadcast)
            continue
        frames = {f.dim: f for f in site["cond_indep_stack"] if f.vectorized}
        wrong, missing = None, None
        for dim, size in _batch_dims(site):
            frame = frames.get(dim)
            if size <= 1:
                continue
            if frame is None:
                missing = missing or (dim, size)
            elif size != frame.size:
                wrong = wrong or (frame, dim, size)
        if wrong is not None:
            frame, dim, size = wrong
            full = frame.full_size if frame.full_size is not None else frame.size
            if full != frame.size and size == full:
                found.append(_not_indexed(name, site, frame))
            else:
                found.append(_wrong_size(name, site, frame, dim, size))
        elif missing is not None:
            found.append(_missing_plate(name, site, *missing))
    return found


def _broadcast(name, site) -> Diagnostic | None:
    """The data broadcast up to a bigger shape: each point is scored many times."""
    value, fn = site["value"], site["fn"]
    value_batch = tuple(value.shape)[: max(value.dim() - len(fn.event_shape), 0)]
    try:  # torch's rule; torch.broadcast_shapes would import sympy (0.5 s) at its first call
        scored = np.broadcast_shapes(tuple(fn.batch_shape), value_batch)
    except ValueError:
        return None
    if math.prod(scored) <= math.prod(value_batch):
        return None
    hint = (
        f"a column vector of shape {tuple(value.shape)} (from pandas/numpy) must be flattened: "
        f"y = y.reshape(-1)"
        if value.dim() >= 2 and value.shape[-1] == 1
        else "give the data exactly the shape of the model's distribution"
    )
    return Diagnostic(
        "data-broadcast",
        name,
        f"The data observed at {name!r} have batch shape {value_batch} but the model's "
        f"distribution there has batch shape {tuple(fn.batch_shape)}: PyTorch broadcasts "
        f"them to {tuple(scored)}, so the likelihood scores {math.prod(scored)} terms for "
        f"{math.prod(value_batch)} data value(s), and the posterior is far too confident.",
        model=describe_site(site),
        guide=f"observed data of shape {tuple(value.shape)}",
        fix=hint + ".",
        labels=("model", "data"),
    )


def _missing_plate(name, site, dim, size) -> Diagnostic:
    plates = [f.name for f in site["cond_indep_stack"] if f.vectorized]
    return Diagnostic(
        "missing-plate",
        name,
        f"The observed site {name!r} holds {size} data points along dim {dim}, but that "
        f"dimension is in no pyro.plate (nor in .to_event). Pyro does not know the points are "
        f"independent: subsampling, vectorised particles and enumeration will go wrong.",
        model=describe_site(site) + f", data shape {tuple(site['value'].shape)}, plates {plates}",
        fix=f'wrap the likelihood in a plate of the data\'s size: with pyro.plate("data", '
        f"{size}): pyro.sample({name!r}, ..., obs=...)  (or .to_event(1) if the {size} "
        f"values form one vector-valued observation).",
    )


def _wrong_size(name, site, frame, dim, size) -> Diagnostic:
    shape = tuple(site["value"].shape)
    if frame.size in shape[: len(shape) + dim]:
        fix = (
            f"the data points run along another dim than the plate's: if the last "
            f"dimension(s) of {name!r} are features of one point, declare them with "
            f".to_event(1); otherwise put the plate on the points' dim with "
            f"pyro.plate({frame.name!r}, ..., dim=...)."
        )
    else:
        fix = (
            f"size the plate from the data, e.g. pyro.plate({frame.name!r}, len(x)) or "
            f"x.shape[0], instead of a fixed number."
        )
    return Diagnostic(
        "plate-size-mismatch",
        name,
        f"The plate {frame.name!r} declares {frame.size} points along dim {dim}, but the data "
        f"observed at {name!r} have {size} there.",
        model=f"pyro.plate({frame.name!r}, {frame.size}) around {name!r}",
        guide=f"observed data of shape {shape}",
        fix=fix,
        labels=("model", "data"),
    )


def _not_indexed(name, site, frame) -> Diagnostic:
    return Diagnostic(
        "subsample-not-indexed",
        name,
        f"The plate {frame.name!r} subsamples {frame.size} of {frame.full_size} points, but "
        f"{name!r} observes all {frame.full_size}: the data must be indexed with the plate's "
        f"indices so that each step sees the points the plate picked.",
        model=f"pyro.plate({frame.name!r}, {frame.full_size}, subsample_size={frame.size})",
        guide=f"observed data of shape {tuple(site['value'].shape)}",
        labels=("model", "data"),
        fix=f"with pyro.plate({frame.name!r}, {frame.full_size}, subsample_size={frame.size}) "
        f"as idx: pyro.sample({name!r}, ..., obs=x[idx])  (index the other per-point tensors "
        f"with idx too).",
    )


def minibatch_unscaled(model_trace, num_data: int) -> list[Diagnostic]:
    """Diagnostic 9: the caller says there are ``num_data`` points, but the plates around the
    data declare fewer and nothing scales the likelihood up (no subsampling, no
    poutine.scale): the prior then weighs num_data / batch times too much."""
    found = []
    for name, site in observed_sites(model_trace).items():
        scale = site["scale"]
        scale = float(scale.max()) if isinstance(scale, torch.Tensor) else float(scale)
        frames = [f for f in site["cond_indep_stack"] if f.vectorized]
        if scale != 1.0 or not frames:
            continue
        frame = max(frames, key=lambda f: f.full_size or f.size)
        size = frame.full_size or frame.size
        if size >= num_data:
            continue
        found.append(
            Diagnostic(
                "minibatch-unscaled",
                name,
                f"There are {num_data} data points (num_data), but the plate {frame.name!r} "
                f"around {name!r} declares {size} and does not subsample: each step's "
                f"likelihood counts {size} points against a prior meant for {num_data}, so "
                f"the ELBO is off by a factor {num_data / size:.3g} and the posterior is too "
                f"close to the prior.",
                model=f"pyro.plate({frame.name!r}, {size}) with scale 1",
                guide=f"num_data={num_data}",
                labels=("model", "caller"),
                fix=f"declare the full size and the batch's indices: pyro.plate("
                f"{frame.name!r}, {num_data}, subsample=idx) (or subsample_size={size} and "
                f"obs=x[idx]); Pyro then scales the likelihood by {num_data}/{size}.",
            )
        )
    return found

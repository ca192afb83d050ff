"""``@inf.probmodel``: a builder function made into a model object that knows its
variables, prepares data for them, fits and answers queries.

    @inf.probmodel
    def linear_reg(d):
        w0 = inf.Normal(0., 1., name="w0")
        w = inf.Normal(torch.zeros(d, 1), 1., name="w")
        with inf.datamodel():
            x = inf.Normal(torch.ones(d), 2., name="x")
            inf.Normal(w0 + x @ w, 1., name="y")

    m = linear_reg(2)          # a ProbModel; m.vars lists w0, w, x, y
"""

from __future__ import annotations

import functools
import inspect
import warnings
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pyro
import torch
from torch import nn

from ..checks import VilabWarning
from ..scope import PrivateScope, get_rng_state, set_rng_state
from .context import STRUCTURE_SIZE, Run, running
from .errors import InfError, names
from .variables import as_tensor


@dataclass(frozen=True)
class VarInfo:
    """What vilab knows about one variable of a model: ``shape`` is the shape of one row
    (of the whole variable when it is global)."""

    name: str
    kind: str  # "random" or "parameter"
    distribution: str | None
    shape: tuple
    local: bool
    observed: bool = False


def probmodel(builder):
    """Decorator: ``f(*args)`` then returns a :class:`ProbModel` of the builder ``f``."""

    @functools.wraps(builder)
    def make(*args, **kwargs) -> ProbModel:
        return ProbModel(builder, args, kwargs)

    make.builder = builder
    return make


class ProbModel:
    """A P-model (or Q-model): the builder with its arguments, its networks and, once
    fitted, its inference (``.inference``) and vilab trainer (``.trainer``)."""

    def __init__(self, builder, args=(), kwargs=None):
        self.builder, self.args, self.kwargs = builder, tuple(args), dict(kwargs or {})
        self.modules: dict[str, nn.Module] = {}
        self.inference = None
        self.observed: frozenset = frozenset()
        self.train_data: dict[str, torch.Tensor] = {}
        self.train_size: int | None = None
        self._net_args = _module_arguments(builder, self.args, self.kwargs)
        self._structure: dict | None = None

    @property
    def _records(self) -> dict:
        """The variables met in one run of the builder as a P-model from its prior, with the
        datamodel at an unusual size (that run tells per-row parameters from shared ones)."""
        if self._structure is None:
            self._structure = {}  # read by the run below as "not known yet"
            try:
                with PrivateScope(0), torch.no_grad():
                    self._structure = self.execute("p", {}, STRUCTURE_SIZE).records
            except BaseException:
                self._structure = None
                raise
        return self._structure

    @property
    def event_shapes(self) -> dict:
        """Shape of one row of each local variable, by name."""
        return {n: r["row_shape"] for n, r in self._records.items() if r["local"]}

    def __repr__(self) -> str:
        return f"<ProbModel {self.builder.__name__}: variables {list(self.vars)}>"

    # -- running the builder ----------------------------------------------------------------

    def execute(self, role, data, size, idx=None, inputs=frozenset(), event_shapes=None) -> Run:
        """Run the builder once in ``role`` ("p" or "q"); returns the :class:`Run`."""
        run = Run(self, role, data, size, idx, frozenset(inputs), event_shapes)
        if event_shapes is None and role == "p" and self._structure:
            run.event_shapes = self.event_shapes
        with running(run):
            for arg_name, net in self._net_args.items():
                run.owner.modules.setdefault(arg_name, net)
                pyro.module(arg_name, net)
            self.builder(*self.args, **self.kwargs)
        return run

    def pyro_model(self, data, size):
        """This model as a Pyro model ``model(idx=None)``: the variables in ``data`` are
        observed; ``idx`` are the rows of a minibatch."""

        def model(idx=None):
            self.execute("p", data, size, idx)

        model.__name__ = self.builder.__name__
        return model

    # -- what the model contains ------------------------------------------------------------

    @property
    def vars(self) -> dict[str, VarInfo]:
        """Variables by name, in the order the builder creates them."""
        return {
            name: VarInfo(
                name,
                r["kind"],
                r["distribution"],
                r["row_shape"],
                r["local"],
                name in self.observed,
            )  # fmt: skip
            for name, r in self._records.items()
            if r["kind"] != "input"
        }

    @property
    def params(self) -> list[str]:
        """Names of the point parameters (``inf.Parameter``)."""
        return [n for n, r in self._records.items() if r["kind"] == "parameter"]

    def random_names(self) -> list[str]:
        return [n for n, r in self._records.items() if r["kind"] == "random"]

    def latent_names(self, observed=None) -> list[str]:
        observed = self.observed if observed is None else observed
        return [n for n in self.random_names() if n not in observed]

    # -- data -------------------------------------------------------------------------------

    def prepare_data(self, data, what="the data", extra=()) -> tuple[dict, int | None]:
        """Data as tensors shaped like the variables, and the number of rows of the local
        ones (None when there are none). Unknown names and inconsistent sizes raise."""
        if data is None:
            return {}, None
        if not isinstance(data, dict):
            raise InfError(
                f"Expected {what} as a dict of name -> array, got {type(data).__name__}. "
                f'Fix: e.g. {{"x": x, "y": y}}.'
            )
        known = set(self.random_names()) | set(extra)
        unknown = [n for n in data if n not in known]
        if unknown:
            raise InfError(
                f"Expected {what} to name variables of the model, got {names(unknown)}. "
                f"The model's variables: {names(known)}. Fix: rename the keys of the data."
            )
        tensors, rows = {}, {}
        for name, value in data.items():
            record = self._records.get(name, {"local": True, "row_shape": None})
            dtype = torch.long if record.get("distribution") == "Categorical" else None
            value = as_tensor(value, dtype)
            if record["local"]:
                count = value.shape[0] if value.dim() else 1
                tensors[name] = _shape_rows(name, value, count, record["row_shape"])
                rows[name] = count
            else:
                tensors[name] = _shape_global(name, value, record["row_shape"])
        if len(set(rows.values())) > 1:
            sizes = ", ".join(f"{n}: {r} rows" for n, r in rows.items())
            raise InfError(
                f"Expected every variable of the datamodel to have the same number of rows in "
                f"{what}, got {sizes}. Fix: pass arrays with one row per data point each "
                f"(slice them the same way)."
            )
        return tensors, (next(iter(rows.values())) if rows else None)

    # -- parameters for queries -------------------------------------------------------------

    @contextmanager
    def parameters_active(self):
        """The trained parameters (or, before fit, the initial ones) as Pyro's global ones,
        with torch's random stream passing through unchanged in meaning (queries draw from
        the global stream; training's own stream is not touched)."""
        trainer = getattr(self.inference, "trainer", None)
        scope = trainer.scope if trainer is not None else PrivateScope(0)
        rng = get_rng_state()
        with scope.inspecting(), torch.no_grad():
            set_rng_state(rng)
            try:
                yield
            finally:
                rng = get_rng_state()
        set_rng_state(rng)

    # -- InferPy's methods ------------------------------------------------------------------

    def fit(self, data, inference) -> None:
        """Fit the model to ``data`` (name -> array) with ``inf.inference.VI/SVI/MCMC``."""
        if not hasattr(inference, "run"):
            raise InfError(
                f"Expected an inference method such as inf.inference.VI(q, epochs=1000), got "
                f"{inference!r}."
            )
        if self.inference is not None and (self.modules or self.params):
            warnings.warn(
                "fit() was called before on this model: its networks continue from their "
                "trained weights (inf.Parameter values start afresh). For a fresh start, "
                "build a new model object, e.g. p = my_model().",
                VilabWarning,
                stacklevel=2,
            )
        tensors, size = self.prepare_data(data, "the training data")
        if not tensors:
            raise InfError("Expected training data, got none. Fix: p.fit({'x': x}, ...).")
        self.observed = frozenset(tensors)
        self.train_data, self.train_size = tensors, size if size is not None else 1
        self.inference = inference
        inference.run(self)

    @property
    def trainer(self):
        """The vilab Trainer of the last VI fit (for TrainingPanel, plots, vilab.checks)."""
        trainer = getattr(self.inference, "trainer", None)
        if trainer is None:
            raise InfError(
                "Expected a model fitted with VI or SVI, got no such fit. Fix: p.fit(...)."
            )
        return trainer

    def prior(self, targets=None, data=None, size=1, size_datamodel=None):
        from .queries import prior

        return prior(self, targets, data, size_datamodel or size)

    def posterior(self, targets=None, data=None):
        from .queries import posterior

        return posterior(self, targets, data)

    def posterior_predictive(self, targets=None, data=None):
        from .queries import posterior_predictive

        return posterior_predictive(self, targets, data)

    def predict(self, targets=None, data=None):
        from .queries import predict

        return predict(self, targets, data)


def _shape_rows(name, value, count, row_shape):
    if row_shape is None:
        return value
    want = (count, *row_shape)
    if value.numel() == int(np.prod(want)):
        return value.reshape(want)
    raise InfError(
        f"Expected the data of {name!r} to have one row of shape {tuple(row_shape)} per data "
        f"point, i.e. shape {want}, got {tuple(value.shape)}. Fix: reshape the array."
    )


def _shape_global(name, value, shape):
    try:
        return value.reshape(shape) if value.numel() == int(np.prod(shape)) else value.expand(shape)
    except RuntimeError:
        raise InfError(
            f"Expected a value of shape {tuple(shape)} for the global variable {name!r}, got "
            f"{tuple(value.shape)}."
        ) from None


def _module_arguments(builder, args, kwargs) -> dict[str, nn.Module]:
    """Networks passed to the builder, by argument name (registered with Pyro each run)."""
    try:
        bound = inspect.signature(builder).bind(*args, **kwargs)
    except TypeError as error:
        raise InfError(f"The builder {builder.__name__} rejects its arguments: {error}.") from None
    return {k: v for k, v in bound.arguments.items() if isinstance(v, nn.Module)}


def as_qmodel(q) -> ProbModel:
    """A Q-model given as an instance or as a builder with no required arguments."""
    if isinstance(q, ProbModel):
        return q
    if callable(q):
        try:
            made = q()
        except TypeError as error:
            raise InfError(
                f"Expected a Q-model: a ProbModel or a builder callable with no arguments, got "
                f"{q!r}, which needs arguments ({error}). Fix: pass q=qmodel(k=2)."
            ) from None
        if isinstance(made, ProbModel):
            return made
    raise InfError(f"Expected q to be a Q-model (a @inf.probmodel instance) or 'auto', got {q!r}.")

"""One execution of a model builder: what the variable constructors read while it runs.

Pyro runs a model function at every step, so a builder is executed many times: to learn its
structure, as the Pyro model (P) or guide (Q) during training, and for every query. Each
execution pushes a :class:`Run` that says which role the builder plays, which data it sees
and which rows of the datamodel the current step uses; ``inf.Normal(...)`` and friends read
it through :func:`current_run`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .errors import InfError

# Size of the datamodel while the structure of a P-model is traced: a parameter whose
# leading dimension equals it is read as "one row per data point". An unusual prime keeps
# a global dimension from being mistaken for the data dimension.
STRUCTURE_SIZE = 61

_ACTIVE: list[Run] = []


@dataclass
class Run:
    """The state of one execution of a builder.

    role: "p" (the P-model, a Pyro model) or "q" (a Q-model, a Pyro guide).
    data: observed values by name, already shaped (local ones with a leading row axis).
    size: rows of the datamodel in the whole data set; idx: the rows of this step (SVI).
    inputs: in a Q-model, the names that are data (P's observed names): a Q variable or
        ``inf.observed`` of that name returns the data instead of sampling.
    event_shapes: name -> the shape of one row, known from the P-model's structure trace;
        None while that trace runs.
    """

    owner: object
    role: str
    data: dict[str, torch.Tensor]
    size: int | None
    idx: torch.Tensor | None = None
    inputs: frozenset = frozenset()
    event_shapes: dict | None = None
    in_datamodel: bool = False
    records: dict = field(default_factory=dict)
    per_row_params: set = field(default_factory=set)
    inputs_read: set = field(default_factory=set)

    @property
    def rows(self) -> int:
        """Rows of the datamodel in this execution (the minibatch under SVI)."""
        return len(self.idx) if self.idx is not None else self.size

    def observed_value(self, name: str, local: bool) -> torch.Tensor | None:
        """The data for ``name`` (the rows of this step if it is local), or None."""
        if name not in self.data:
            return None
        value = self.data[name]
        if local and self.idx is not None:
            value = value[self.idx]
        return value

    def claim(self, name, kind: str, where: str) -> None:
        """Check the name is given and not used twice in this builder."""
        if name is None:
            raise InfError(
                f"Expected a name for this {kind}, got none at {where}. vilab.inf pairs the "
                f"P-model, the Q-model and the data by name. Fix: add name=..., e.g. "
                f'inf.Normal(0., 1., name="z").'
            )
        if not isinstance(name, str):
            raise InfError(f"Expected name to be a string, got {name!r} at {where}.")
        if name in self.records:
            raise InfError(
                f"Expected each variable name once per model, got {name!r} twice (the second "
                f"at {where}). Fix: give this {kind} another name."
            )


def current_run(what: str) -> Run:
    """The builder execution in progress; a clear error when called outside a builder."""
    if not _ACTIVE:
        raise InfError(
            f"{what} can only be used inside a function decorated with @inf.probmodel, got a "
            f"call outside one. Fix: define the variables in the builder and call it, e.g. "
            f"m = my_model(); m.prior().sample()."
        )
    return _ACTIVE[-1]


class running:
    """``with running(run):`` makes ``run`` the current execution."""

    def __init__(self, run: Run):
        self.run = run

    def __enter__(self) -> Run:
        if _ACTIVE and _ACTIVE[-1].owner is self.run.owner:
            raise InfError(
                "A probmodel builder called itself (or another query) while running. Fix: "
                "query the model after building it, outside its builder function."
            )
        _ACTIVE.append(self.run)
        return self.run

    def __exit__(self, *exc_info) -> None:
        _ACTIVE.pop()

"""From a Q-model to a Pyro guide, with the name checks InferPy lacked.

Q and P variables are paired by ``name=``. A Q name that matches no P variable, or a P
latent that no Q variable covers, raises :class:`~vilab.errors.ModelGuideMismatch` listing
both name sets (InferPy ignored a misspelt Q name and trained on the prior: its issue
#151). ``q="auto"`` (or ``VI(q, auto=True)``) puts Pyro's AutoNormal on the P latents the
Q-model does not cover.
"""

from __future__ import annotations

import difflib

import pyro
import pyro.poutine as poutine
import torch
from pyro.infer.autoguide import AutoNormal, init_to_feasible, init_to_mean

from ..scope import PrivateScope
from .errors import InfError, ModelGuideMismatch, names
from .model import as_qmodel

# The automatic guide starts at the prior means (0 where a mean is undefined): a fixed,
# reasonable start, with no random draws that could put a rate below its floor.
AUTO_INIT = init_to_mean(fallback=init_to_feasible)


class Guide:
    """The Pyro guide ``guide(idx=None)`` for P-model ``p`` fitted to its training data."""

    def __init__(self, p, q, auto: bool):
        self.p, self.auto_on = p, auto or q in ("auto", None)
        self.q = None if q in ("auto", None) else as_qmodel(q)
        latents = p.latent_names()
        _refuse_discrete_latents(p, latents)
        q_names, self.per_row = self._inspect_q()
        unknown = [n for n in q_names if n not in p.vars]
        uncovered = [n for n in latents if n not in q_names]
        if unknown or (uncovered and not self.auto_on):
            raise ModelGuideMismatch(_mismatch_message(latents, q_names, unknown, uncovered, p))
        self.q_names, self.auto_names = q_names, uncovered
        self.auto = None
        if uncovered:
            blocked = poutine.block(p.pyro_model(p.train_data, p.train_size), expose=uncovered)
            self.auto = AutoNormal(blocked, init_loc_fn=AUTO_INIT, create_plates=self._plate)
            self.per_row |= {n for n in uncovered if p.vars[n].local}

    def _plate(self, idx=None):
        return pyro.plate("data", self.p.train_size, subsample=idx, dim=-1)

    def _inspect_q(self):
        """Run the Q-model once on two training rows: its sample names and per-row params."""
        if self.q is None:
            return [], set()
        p = self.p
        idx = torch.arange(min(2, p.train_size))
        with PrivateScope(0), torch.no_grad():
            run = self.q.execute("q", p.train_data, p.train_size, idx, p.observed, p.event_shapes)
        sampled = [n for n, r in run.records.items() if r["kind"] == "random"]
        return sampled, set(run.per_row_params)

    def run_q(self, data, size, idx=None):
        """One execution of the Q-model (and the auto part) on ``data``; the Run or None."""
        run = None
        if self.q is not None:
            p = self.p
            run = self.q.execute("q", data, size, idx, p.observed, p.event_shapes)
        if self.auto is not None:
            self.auto(idx=idx)  # per-row: only ever run on the training data
        return run

    def __call__(self, idx=None):
        self.run_q(self.p.train_data, self.p.train_size, idx)


def _refuse_discrete_latents(p, latents):
    discrete = [n for n in latents if p.vars[n].distribution in _DISCRETE]
    if discrete:
        raise InfError(
            f"Expected continuous latent variables, got the discrete {names(discrete)}. "
            f"Reparameterised VI needs continuous latents. Fix: observe them (pass them in "
            f"the data), or write the model in Pyro with @config_enumerate and TraceEnum_ELBO."
        )


_DISCRETE = {"Bernoulli", "Binomial", "Categorical", "OneHotCategorical", "Poisson"}


def _mismatch_message(latents, q_names, unknown, uncovered, p) -> str:
    lines = []
    for name in unknown:
        close = difflib.get_close_matches(name, [*latents, *p.observed], n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        lines.append(f"The Q-model has {name!r}, which the P-model does not have.{hint}")
    if uncovered:
        lines.append(
            f"The P-model's latent variables {names(uncovered)} have no Q variable, so they "
            f"would be drawn from the prior at every step and the posterior would be wrong."
        )
    return (
        "\n".join(lines)
        + f"\n  P-model latent variables: {names(latents)}"
        + f"\n  P-model observed variables: {names(p.observed)}"
        + f"\n  Q-model variables: {names(q_names)}"
        + "\nFix: give each Q variable the name= of the P latent it approximates (the names "
        "must match exactly), or pass q='auto' / VI(q, auto=True) for an automatic Normal "
        "guide on the latents the Q-model leaves out."
    )

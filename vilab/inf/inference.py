"""``inf.inference``: VI, SVI and MCMC, run by vilab's own machinery.

VI and SVI build a :class:`vilab.Trainer`, so the fitted model's ``p.trainer`` works with
the TrainingPanel, the ELBO plots and :mod:`vilab.checks` unchanged; MCMC runs NUTS through
:func:`vilab.reference.run_nuts`.
"""

from __future__ import annotations

import math

import torch

from ..engine import Trainer
from ..reference import run_nuts
from ..validation import whole_number
from .errors import InfError
from .guide import Guide

# InferPy named TensorFlow's optimisers; vilab's engine knows these.
_OPTIMIZERS = {"adamoptimizer": "adam", "adam": "adam", "sgd": "sgd",
               "gradientdescentoptimizer": "sgd", "clipped_adam": "clipped_adam"}  # fmt: skip


class VI:
    """Variational inference with the full data at every step (one step per epoch).

    q: the Q-model (an instance, or a builder with no arguments), or "auto" for Pyro's
        AutoNormal on every latent; ``auto=True`` adds AutoNormal on the latents q leaves out.
    epochs: training steps. lr: 0.01 by default (InferPy used TensorFlow's 0.001, which
        needs ten times more epochs). optimizer: "adam", "clipped_adam" or "sgd" (InferPy's
        names work); optim_args: e.g. {"lrd": 0.999} (learning-rate decay per step) for
        "clipped_adam", passed to the vilab Trainer.
    ``.losses`` is the -ELBO per step; ``.trainer`` the vilab Trainer.
    """

    def __init__(self, q="auto", epochs=1000, optimizer="adam", lr=0.01, *, auto=False,
                 optim_args=None, num_particles=1, seed=0, progress=True, loss="ELBO"):  # fmt: skip
        if loss != "ELBO":
            raise InfError(f"Expected loss='ELBO' (the only loss vilab.inf has), got {loss!r}.")
        epochs = whole_number(
            "epochs", epochs, fix="e.g. epochs=1000 passes over the data.", error=InfError
        )
        key = optimizer.lower() if isinstance(optimizer, str) else None
        if key is not None and key not in _OPTIMIZERS:
            raise InfError(
                f"Expected optimizer 'adam' or 'sgd', got {optimizer!r}. Fix: optimizer='adam'."
            )
        self.q, self.auto, self.epochs, self.lr = q, auto, epochs, lr
        self.optimizer = _OPTIMIZERS[key] if key is not None else optimizer
        self.optim_args = optim_args
        self.num_particles, self.seed, self.progress = num_particles, seed, progress
        self.trainer: Trainer | None = None
        self.guide: Guide | None = None

    def batches(self, p):
        """(batch_fn or None, steps): full data here; minibatches in SVI."""
        return None, self.epochs

    def run(self, p) -> None:
        self.guide = Guide(p, self.q, self.auto)
        batch_fn, steps = self.batches(p)
        self.trainer = Trainer(
            p.pyro_model(p.train_data, p.train_size),
            self.guide,
            batch_fn=batch_fn,
            lr=self.lr,
            optim=self.optimizer,
            optim_args=self.optim_args,
            elbo="trace",  # InferPy's ELBO, as its users' numbers were made with
            num_particles=self.num_particles,
            seed=self.seed,
            num_data=p.train_size,
        )
        self.trainer.run(steps, progress=self.progress)

    @property
    def losses(self) -> list[float]:
        """The -ELBO estimate of every step (summed over the data set)."""
        return list(self.trainer.history.loss) if self.trainer else []


class SVI(VI):
    """VI on minibatches of ``batch_size`` rows, reshuffled every epoch (seeded). The local
    terms are scaled by N/M; the last, smaller batch of an epoch is kept (InferPy dropped
    it). ``epochs`` passes over the data; ``.losses`` has one entry per batch."""

    def __init__(self, *args, batch_size=100, **kwargs):
        super().__init__(*args, **kwargs)
        batch_size = whole_number(
            "batch_size", batch_size, fix="e.g. batch_size=100 rows.", error=InfError
        )
        self.batch_size = batch_size

    def batches(self, p):
        size, batch = p.train_size, self.batch_size
        if batch > size:
            raise InfError(
                f"Expected batch_size <= the number of data points ({size}), got {batch}. "
                f"Fix: SVI(..., batch_size={size}) or less, or VI(...) for full batches."
            )
        per_epoch = math.ceil(size / batch)

        def batch_fn(step):
            epoch, i = divmod(step, per_epoch)
            order = torch.randperm(size, generator=torch.Generator().manual_seed(
                self.seed * 1_000_003 + epoch))  # fmt: skip
            return (order[i * batch : (i + 1) * batch],)

        return batch_fn, self.epochs * per_epoch


class MCMC:
    """NUTS (``vilab.reference.run_nuts``) on the random variables; no Q-model. InferPy's
    names ``num_results``/``num_burnin_steps`` are accepted too."""

    def __init__(self, num_samples=500, warmup_steps=300, *, seed=0, num_results=None,
                 num_burnin_steps=None, progress=False, **nuts_options):  # fmt: skip
        self.num_samples = num_results or num_samples
        self.warmup_steps = num_burnin_steps or warmup_steps
        self.seed, self.progress, self.nuts_options = seed, progress, nuts_options
        self.samples: dict[str, torch.Tensor] = {}

    def run(self, p) -> None:
        if p.params or p.modules:
            raise InfError(
                f"MCMC samples random variables only, got a model with networks or "
                f"inf.Parameter ({sorted(p.modules) + p.params}). Fix: use inf.inference.VI."
            )
        self.samples = run_nuts(
            p.pyro_model(p.train_data, p.train_size),
            num_samples=self.num_samples,
            warmup_steps=self.warmup_steps,
            seed=self.seed,
            progress=self.progress,
            **self.nuts_options,
        )

    losses: list = []

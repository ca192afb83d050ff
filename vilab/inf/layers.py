"""Neural networks in a builder: plain ``torch.nn`` modules, created once per model object.

Pyro runs the builder at every step; a network built there afresh would lose its training
at every step. ``inf.layers.Sequential(name, ...)`` keeps the first network made under
``name`` on the model object and registers it with Pyro (``pyro.module``) at every run.
A network passed to the builder as an argument is registered under the argument's name.
"""

from __future__ import annotations

import pyro
from torch import nn

from .context import current_run


def Sequential(name: str, *layers: nn.Module) -> nn.Module:  # noqa: N802
    """``nn.Sequential(*layers)``, made on the first run of this model object and reused
    afterwards (the layers given on later runs are discarded)."""
    run = current_run("inf.layers.Sequential")
    return register(run.owner, name, lambda: nn.Sequential(*layers))


def register(owner, name: str, make) -> nn.Module:
    """The module kept on ``owner`` under ``name`` (made by ``make()`` the first time),
    registered with Pyro's parameter store."""
    net = owner.modules.get(name)
    if net is None:
        net = owner.modules[name] = make()
    return pyro.module(name, net)

"""The course exercises, one module each, looked up by name for ``vilab run <exercise>``.

Every exercise has the one shape written in :mod:`vilab.exercises.base` (``NAME``, ``TITLE``,
step counts, ``DEFAULT_OPTIONS``, ``GUIDES``, ``load_data``, ``model``, ``guide``,
``make_trainer(data=None, guide=..., seed=0, **options)``, ``reference``, ``train``), and its
pictures live apart in ``<name>_figures`` (reached as ``<name>.plots``).
``temperature.py`` is the annotated template; ``tests/exercises/test_contract.py`` checks all.
"""

from __future__ import annotations

import importlib

# name -> module path; modules are imported only when used (some pull in datasets).
EXERCISES = {
    "temperature": "vilab.exercises.temperature",
    "ice_cream": "vilab.exercises.ice_cream",
    "gaussian": "vilab.exercises.gaussian",
    "linear_regression": "vilab.exercises.linear_regression",
    "logistic_regression": "vilab.exercises.logistic_regression",
    "bnn": "vilab.exercises.bnn",
    "ppca": "vilab.exercises.ppca",
    "factor_analysis": "vilab.exercises.factor_analysis",
    "vae": "vilab.exercises.vae",
}


def get_exercise(name: str):
    """The module of exercise ``name``, with a clear error listing the choices."""
    if name not in EXERCISES:
        raise ValueError(f"Unknown exercise {name!r}. Available: {', '.join(sorted(EXERCISES))}.")
    return importlib.import_module(EXERCISES[name])

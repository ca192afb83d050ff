"""vilab.inf: InferPy's compact P/Q-model API on Pyro, driving vilab's engine.

    import vilab.inf as inf

    @inf.probmodel
    def pca(k, d):
        w = inf.Normal(torch.zeros(k, d), 1., name="w")
        with inf.datamodel():
            z = inf.Normal(torch.zeros(k), 1., name="z")
            inf.Normal(z @ w, 1., name="x")

    m = pca(k=1, d=2)
    m.fit({"x": x}, inf.inference.VI("auto", epochs=2000))
    m.posterior("w").parameters()["loc"]
    m.trainer                    # the vilab Trainer: TrainingPanel, plots, checks

Variables are paired by ``name=`` across the P-model, the Q-model and the data; every
dimension outside ``inf.datamodel()``'s rows is an event dimension.
"""

from . import inference, layers
from .errors import InfError
from .model import ProbModel, VarInfo, probmodel
from .queries import Query
from .variables import (
    Bernoulli,
    Beta,
    Binomial,
    Categorical,
    Cauchy,
    Dirichlet,
    Exponential,
    Gamma,
    HalfCauchy,
    HalfNormal,
    InverseGamma,
    Laplace,
    LogNormal,
    MultivariateNormal,
    Normal,
    OneHotCategorical,
    Parameter,
    Poisson,
    StudentT,
    Uniform,
    datamodel,
    observed,
)

__all__ = [
    "Bernoulli", "Beta", "Binomial", "Categorical", "Cauchy", "Dirichlet", "Exponential",
    "Gamma", "HalfCauchy", "HalfNormal", "InfError", "InverseGamma", "Laplace", "LogNormal",
    "MultivariateNormal", "Normal", "OneHotCategorical", "Parameter", "Poisson", "ProbModel",
    "Query", "StudentT", "Uniform", "VarInfo", "datamodel", "inference", "layers", "observed",
    "probmodel",
]  # fmt: skip

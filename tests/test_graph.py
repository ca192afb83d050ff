"""Model graphs: every course model draws as a plate diagram, sizes on the plates, data
filled grey; a missing graphviz is explained, not an ImportError."""

from __future__ import annotations

import re
import shutil
import sys

import pyro
import pyro.distributions as dist
import pytest
import torch

from vilab.errors import GraphvizMissing
from vilab.exercises import gaussian
from vilab.graph import COURSE_MODELS, course_model_graph, model_graph

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None,
    reason="Graphviz's `dot` is not installed: apt-get install graphviz (make setup does it)",
)

# the observed site(s) of every course model: drawn filled grey
OBSERVED = {
    "temperature": "sensor",
    "gaussian": "x",
    "linear_regression": "obs",
    "linear_regression_interaction": "obs",
    "logistic_regression": "africa",
    "bnn": "y",
    "ppca": "x",
    "factor_analysis": "x",
    "vae": "x",
}


def node_colour(source: str, name: str) -> str:
    match = re.search(rf"^\s*{name} \[label={name} fillcolor=(\w+)", source, re.M)
    assert match, f"no node {name!r} in\n{source}"
    return match.group(1)


@needs_dot
def test_the_gaussian_model_draws_as_its_plate_diagram():
    graph = model_graph(gaussian.model, (gaussian.load_data(),))
    source = graph.source
    assert 'label="data  N=100"' in source  # the plate, with its size
    assert node_colour(source, "x") == "gray" and node_colour(source, "mu") == "white"
    assert "mu -> x" in source and "gamma -> x" in source
    assert "gamma ~ Gamma" in source
    assert graph.pipe(format="svg").startswith(b"<?xml")


@needs_dot
def test_a_minibatch_plate_shows_batch_and_full_size_and_the_file_is_written(tmp_path):
    def model(x):
        loc = pyro.param("loc", torch.tensor(0.0))  # created in a private store
        with pyro.plate("data", 1000, subsample_size=len(x)):
            pyro.sample("x", dist.Normal(loc, 1.0), obs=x)

    graph = model_graph(model, (torch.zeros(10),), filename=tmp_path / "model.svg")
    assert 'label="data  10 of N=1000"' in graph.source
    assert (tmp_path / "model.svg").read_text().lstrip().startswith("<?xml")
    assert list(pyro.get_param_store().keys()) == []  # the global store is untouched


@needs_dot
@pytest.mark.parametrize("name", list(COURSE_MODELS))
def test_every_course_model_draws(name, shared_data):
    graph = course_model_graph(name)
    assert node_colour(graph.source, OBSERVED[name]) == "gray"
    # every model but the one-reading temperature model has a data plate, with its size
    assert ("cluster_" in graph.source) == (name != "temperature")
    assert b"<svg" in graph.pipe(format="svg")


def test_a_missing_dot_program_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(GraphvizMissing, match="`dot` program") as info:
        model_graph(gaussian.model, (gaussian.load_data(),))
    message = str(info.value)
    for how in ("apt-get install graphviz", "conda install", "brew install graphviz"):
        assert how in message
    assert not isinstance(info.value, ImportError)


def test_a_missing_python_package_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)  # import graphviz now fails
    with pytest.raises(GraphvizMissing, match="pip install graphviz"):
        model_graph(gaussian.model, (gaussian.load_data(),))


@needs_dot
@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: model_graph(None), TypeError, "Expected the model function itself"),
        (lambda: model_graph(gaussian.model, torch.ones(3)), TypeError, "write \\(data,\\)"),
        (lambda: course_model_graph("vea"), ValueError, "Expected one of the course models"),
    ],
)
def test_bad_input_is_explained(call, error, match):
    with pytest.raises(error, match=match):
        call()

"""Model graphs: a model drawn as its plate diagram, the picture next to the maths.

:func:`model_graph` is ``pyro.render_model`` run in a private parameter store (drawing a
model with ``pyro.param`` or ``pyro.module`` inside leaves the global store alone), with
the distributions written on the nodes; it returns a ``graphviz.Digraph``, which JupyterLab
shows as a picture. Observed sites are filled grey, each ``pyro.plate`` is a box with its
size. When graphviz is missing, the call says how to install it, before anything is drawn.

    from vilab.graph import model_graph
    from vilab.exercises import gaussian
    model_graph(gaussian.model, (gaussian.load_data(),))

:data:`COURSE_MODELS` lists every model of the course with its data;
:func:`render_course_models` draws them all (``vilab.graph.render_course_models("graphs")``
writes one SVG each).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from .errors import GraphvizMissing
from .scope import PrivateScope

INSTALL_DOT = (
    "Fix: install Graphviz, then restart the kernel:\n"
    "  Debian/Ubuntu:  sudo apt-get install graphviz   (or `make setup`, which does it)\n"
    "  conda:          conda install -c conda-forge graphviz\n"
    "  macOS:          brew install graphviz\n"
    "  Windows:        winget install graphviz, and add its bin folder to PATH"
)


def check_graphviz() -> None:
    """Raise :class:`GraphvizMissing`, saying what to install, unless both the graphviz
    Python package and Graphviz's ``dot`` program are there."""
    try:
        import graphviz  # noqa: F401
    except ImportError as exc:
        raise GraphvizMissing(
            "Expected the graphviz Python package to draw model graphs, but it is not "
            "installed. Fix: pip install graphviz (it comes with `pip install vilab`), and "
            "also the `dot` program:\n" + INSTALL_DOT
        ) from exc
    if shutil.which("dot") is None:
        raise GraphvizMissing(
            "Expected Graphviz's `dot` program on the PATH to draw model graphs, but it was "
            "not found (the graphviz Python package only calls it).\n" + INSTALL_DOT
        )


def model_graph(
    model: Callable,
    args: tuple = (),
    kwargs: dict | None = None,
    *,
    filename: str | Path | None = None,
    render_distributions: bool = True,
    render_params: bool = False,
    render_deterministic: bool = False,
):
    """The plate diagram of ``model`` called with ``args``/``kwargs`` (its data: plate sizes
    and observed sites come from them). ``filename`` (e.g. "model.svg" or ".png") also
    saves the picture; the ``render_*`` switches are ``pyro.render_model``'s."""
    import pyro

    check_graphviz()
    if not callable(model):
        raise TypeError(
            f"Expected the model function itself, got {type(model).__name__}: {model!r}. "
            f"Fix: model_graph(model, (data,)), not model_graph(model(data))."
        )
    if not isinstance(args, tuple):
        raise TypeError(
            f"Expected args as a tuple of the model's arguments, got {type(args).__name__}. "
            f"Fix: for a single argument write (data,)."
        )
    kwargs = dict(kwargs or {})
    with PrivateScope(0):  # params and modules the model creates stay out of the global store
        graph = pyro.render_model(
            model,
            model_args=args,
            model_kwargs=kwargs,
            render_distributions=render_distributions,
            render_params=render_params,
            render_deterministic=render_deterministic,
        )
        _label_plate_sizes(graph, pyro.poutine.trace(model).get_trace(*args, **kwargs))
    if filename is not None:
        path = Path(filename)
        graph.render(path.with_suffix(""), format=path.suffix[1:] or "svg", cleanup=True)
    return graph


def _label_plate_sizes(graph, trace) -> None:
    """Write each plate's size on its box ("data  N=100"; a minibatch: "data  128 of
    N=8000"), as plate diagrams in textbooks do; Pyro labels the box with the name only."""
    from graphviz.quoting import quote

    sizes = {}
    for site in trace.nodes.values():
        for frame in site.get("cond_indep_stack", ()):
            full = frame.full_size or frame.size
            sizes[frame.name] = f"N={full}" if full == frame.size else f"{frame.size} of N={full}"
    for i, line in enumerate(graph.body):
        for name, size in sizes.items():
            old = f"label={quote(name)} labeljust"
            if old in line:
                graph.body[i] = line.replace(old, f"label={quote(f'{name}  {size}')} labeljust")


# -- every model of the course, with the data it is taught on ------------------------------


def _temperature():
    from .exercises import temperature

    return temperature.model, (temperature.SENSOR_READING,), {}


def _gaussian():
    from .exercises import gaussian

    return gaussian.model, (gaussian.load_data(),), {}


def _linear_regression():
    from .exercises import linear_regression

    return linear_regression.group_model, linear_regression.model_args("africa"), {}


def _linear_regression_interaction():
    from .exercises import linear_regression

    return linear_regression.interaction_model, linear_regression.model_args("interaction"), {}


def _logistic_regression():
    from .exercises import logistic_regression

    data = logistic_regression.load_data()
    return logistic_regression.model, (data.x_train, data.y_train), {}


def _bnn():
    from .exercises import bnn

    return bnn.model, bnn.load_data(), {"noise_scale": None}


def _ppca():
    from .datasets import make_ppca_data
    from .exercises import ppca

    return ppca.model, (make_ppca_data(ppca.NUM_POINTS).x,), {}


def _factor_analysis():
    from .exercises import factor_analysis

    return factor_analysis.model, (factor_analysis.load_data().x_train,), {}


def _vae():
    from .exercises import vae

    data = vae.load_data()
    network = vae.VAE(vae.Z_DIM, vae.HIDDEN_DIM, device="cpu")
    batch = data.x_train[: vae.BATCH_SIZE]
    return vae.model, (batch,), {"num_data": len(data.x_train), "networks": network}


# name -> () -> (model, args, kwargs); the rugged and MNIST ones read the dataset cache
COURSE_MODELS: dict[str, Callable[[], tuple]] = {
    "temperature": _temperature,
    "gaussian": _gaussian,
    "linear_regression": _linear_regression,
    "linear_regression_interaction": _linear_regression_interaction,
    "logistic_regression": _logistic_regression,
    "bnn": _bnn,
    "ppca": _ppca,
    "factor_analysis": _factor_analysis,
    "vae": _vae,
}


def course_model_graph(name: str, **options):
    """The plate diagram of the course model ``name`` (a key of :data:`COURSE_MODELS`)."""
    if name not in COURSE_MODELS:
        raise ValueError(
            f"Expected one of the course models {', '.join(COURSE_MODELS)}, got {name!r}."
        )
    model, args, kwargs = COURSE_MODELS[name]()
    return model_graph(model, args, kwargs, **options)


def render_course_models(folder: str | Path | None = None, fmt: str = "svg") -> dict:
    """Draw every course model; with ``folder``, also save ``<name>.<fmt>`` there."""
    check_graphviz()
    graphs = {}
    for name in COURSE_MODELS:
        filename = None if folder is None else Path(folder) / f"{name}.{fmt}"
        graphs[name] = course_model_graph(name, filename=filename)
    return graphs

"""Every plotting helper is reachable from vilab.plots, and importing it stays light."""

import importlib
import inspect
import pkgutil
import subprocess
import sys

import pytest

import vilab.plots


def plots_modules():
    return [
        importlib.import_module(f"vilab.plots.{info.name}")
        for info in pkgutil.iter_modules(vilab.plots.__path__)
    ]


def test_every_public_plot_function_is_exported():
    missing = []
    for module in plots_modules():
        for name, value in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("plot_") and value.__module__ == module.__name__:
                if getattr(vilab.plots, name, None) is not value:
                    missing.append(f"{module.__name__}.{name}")
    assert missing == []
    assert len([n for n in vilab.plots.__all__ if n.startswith("plot_")]) >= 27


def test_every_export_resolves_and_unknown_names_say_so():
    for name in vilab.plots.__all__:
        assert callable(getattr(vilab.plots, name)), name
    with pytest.raises(AttributeError, match="has no attribute 'plot_nothing'"):
        vilab.plots.plot_nothing  # noqa: B018


def test_importing_vilab_plots_imports_no_plotting_module_yet():
    code = (
        "import sys, vilab.plots; "
        "print(sorted(m for m in sys.modules if m.startswith('vilab.plots.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

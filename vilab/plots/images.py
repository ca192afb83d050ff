"""Images laid out as one mosaic: digits, reconstructions, decoded latent grids.

A mosaic is a single 2-D array (one ``imshow``), which draws far faster than one Axes per
image and keeps the figure a single Axes that a notebook can place anywhere. The latent
plots (:mod:`vilab.plots.latent`) and the latent explorer build on these helpers.

    >>> mosaic = image_mosaic(np.zeros((6, 784)), ncols=3)
    >>> mosaic.shape  # 2 rows x 3 columns of 28 x 28 images, 1-pixel gaps
    (57, 86)
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..validation import whole_number
from .axes import new_axes


def to_numpy(values) -> np.ndarray:
    """A float64 NumPy copy of a tensor (any device, with or without grad) or array-like."""
    if hasattr(values, "detach"):  # a torch.Tensor, without importing torch here
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=float)


def as_images(images, image_shape=(28, 28), what: str = "images") -> np.ndarray:
    """``images`` (N x h*w, or N x h x w) as an N x h x w float array, checking the sizes."""
    images = to_numpy(images)
    height, width = image_shape
    if images.ndim == 1 and images.size == height * width:
        images = images[None]
    if images.ndim == 2 and images.shape[1] == height * width:
        return images.reshape(len(images), height, width)
    if images.ndim == 3 and images.shape[1:] == (height, width):
        return images
    raise ValueError(
        f"Expected {what} of shape (N, {height * width}) or (N, {height}, {width}) for "
        f"image_shape={tuple(image_shape)}, got shape {images.shape}. Pass image_shape= "
        f"matching your data, or flatten each image into one row."
    )


def decode_images(decode: Callable, z, image_shape=(28, 28)) -> np.ndarray:
    """Call ``decode`` on the latent points ``z`` (sent as a float32 torch tensor, without
    gradients) and return the images as an N x h x w array."""
    import torch

    z = torch.as_tensor(to_numpy(z), dtype=torch.float32)
    with torch.no_grad():
        images = decode(z)
    images = as_images(images, image_shape, what="decode(z) to return images")
    if len(images) != len(z):
        raise ValueError(
            f"decode(z) returned {len(images)} images for {len(z)} latent points; it must "
            f"return one image per row of z."
        )
    return images


def image_mosaic(
    images, ncols: int | None = None, image_shape=(28, 28), pad: int = 1, pad_value: float = 0.25
) -> np.ndarray:
    """One 2-D array holding ``images`` on a grid, row by row, ``pad`` pixels apart.

    ``ncols`` defaults to a near-square grid. Gaps and empty cells at the end hold
    ``pad_value`` (a light grey line between digits with the default colour scale).
    """
    images = as_images(images, image_shape)
    count = len(images)
    if count == 0:
        raise ValueError("Expected at least one image to lay out, got none.")
    ncols = ncols or math.ceil(math.sqrt(count))
    ncols = whole_number("ncols", ncols, fix="ncols=10, or leave it out for a square.")
    nrows = math.ceil(count / ncols)
    height, width = images.shape[1:]
    mosaic = np.full((nrows * (height + pad) - pad, ncols * (width + pad) - pad), pad_value)
    for index, image in enumerate(images):
        row, col = divmod(index, ncols)
        top, left = row * (height + pad), col * (width + pad)
        mosaic[top : top + height, left : left + width] = image
    return mosaic


def show_mosaic(
    mosaic: np.ndarray, ax=None, title: str = "", value_range=(0.0, 1.0), figsize=(6.0, 6.0)
):
    """Draw a mosaic in grey levels (ink dark on white paper) and hide the pixel ticks.

    ``value_range=(low, high)`` fixes the colour scale (values outside are clipped, e.g.
    Gaussian decoders that overshoot [0, 1]); ``None`` scales to the data.
    """
    ax = ax or new_axes(figsize)
    low, high = value_range if value_range is not None else (mosaic.min(), mosaic.max())
    ax.imshow(
        np.clip(mosaic, low, high), cmap="gray_r", vmin=low, vmax=high, interpolation="nearest"
    )
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title)
    return ax

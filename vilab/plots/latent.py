"""Pictures of a latent-variable model: where the data sit in latent space, and what the
decoder draws from it. Shared by the PPCA, factor-analysis and VAE exercises.

Every function takes arrays or tensors (or a ``decode`` callable) and returns the Axes it
drew on. ``decode`` maps latent points to images: it receives an M x d float32 torch
tensor (no gradients) and returns M images, as an M x h*w (or M x h x w) tensor or array,
with values in [0, 1] for pixel probabilities. For a VAE that is the decoder network; for
PPCA it is ``z @ W.T + mu``.

    >>> import torch
    >>> W, mu = 0.1 * torch.randn(784, 2), torch.full((784,), 0.5)
    >>> decode = lambda z: (z @ W.T + mu).clamp(0, 1)   # PPCA's decoder, clipped to [0, 1]
    >>> z_loc, labels = torch.randn(300, 2), torch.randint(0, 3, (300,))
    >>> ax = plot_latent_scatter(z_loc, labels)
    >>> ax = plot_manifold(decode, grid_size=15)
    >>> ax = plot_interpolation(decode, z_loc[0], z_loc[1])
    >>> ax.get_title()
    'Walking through latent space'
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import stats

from ..history import History
from ..validation import whole_number
from .axes import new_axes
from .elbo import moving_average
from .images import as_images, decode_images, image_mosaic, show_mosaic, to_numpy


def project_2d(z) -> tuple[np.ndarray, tuple[str, str]]:
    """``z`` (N x d) as N x 2 points, with axis labels saying how they were obtained.

    d = 2 is returned as is; d > 2 is projected on its first two principal components
    (centred SVD), so the picture shows the directions along which the codes vary most.
    """
    z = to_numpy(z)
    if z.ndim != 2 or z.shape[1] < 1:
        raise ValueError(f"Expected latent points of shape (N, d), got shape {z.shape}.")
    d = z.shape[1]
    if d == 1:
        return np.column_stack([z[:, 0], np.zeros(len(z))]), ("z1", "(1-D latent space)")
    if d == 2:
        return z, ("z1", "z2")
    centred = z - z.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ vt[:2].T, (
        f"PC 1 of the {d}-D latent z (PCA projection)",
        f"PC 2 of the {d}-D latent z (PCA projection)",
    )


def plot_latent_scatter(
    z,
    labels=None,
    ax=None,
    title: str = "Data in latent space",
    point_size: float = 6.0,
    alpha: float = 0.7,
):
    """Latent codes (e.g. the encoder means of held-out images), one colour per label.

    Codes of more than two dimensions are shown on their first two principal components;
    the axis labels say so.
    """
    points, (xlabel, ylabel) = project_2d(z)
    ax = ax or new_axes((6.0, 5.0))
    if labels is None:
        ax.scatter(points[:, 0], points[:, 1], s=point_size, alpha=alpha)
    else:
        labels = to_numpy(labels).reshape(-1)
        if len(labels) != len(points):
            raise ValueError(
                f"Expected one label per latent point: got {len(labels)} labels for "
                f"{len(points)} points."
            )
        classes = np.unique(labels)
        cmap = _label_colours(len(classes))
        for index, label in enumerate(classes):
            chosen = labels == label
            name = str(int(label)) if float(label).is_integer() else str(label)
            ax.scatter(
                points[chosen, 0],
                points[chosen, 1],
                s=point_size,
                alpha=alpha,
                color=cmap(index),
                label=name,
            )
        ax.legend(title="label", markerscale=2.5, fontsize="small", loc="best")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return ax


def latent_grid(grid_size: int = 20, quantiles=(0.05, 0.95)) -> np.ndarray:
    """``grid_size`` values from the ``quantiles`` of a standard normal, evenly spaced in
    probability: the prior's mass, not its range, sets the spacing (Kingma & Welling, 2014)."""
    grid_size = whole_number("grid_size", grid_size, minimum=2, fix="grid_size=20.")
    low, high = quantiles
    if not 0.0 < low < high < 1.0:
        raise ValueError(
            f"Expected quantiles (low, high) with 0 < low < high < 1, got {quantiles!r}; "
            f"e.g. quantiles=(0.05, 0.95) covers the middle 90% of the prior."
        )
    return stats.norm.ppf(np.linspace(low, high, grid_size))


def plot_manifold(
    decode: Callable,
    grid_size: int = 20,
    quantiles=(0.05, 0.95),
    image_shape=(28, 28),
    ax=None,
    z_dim: int = 2,
    dims=(0, 1),
    value_range=(0.0, 1.0),
    title: str = "Decoded latent grid",
):
    """The decoder's images on a grid of latent points spaced by the inverse normal CDF.

    Columns go along ``z[dims[0]]`` (left to right increasing), rows along ``z[dims[1]]``
    (bottom to top increasing). With ``z_dim > 2`` the other coordinates are held at 0, the
    prior mean.
    """
    if not (len(dims) == 2 and dims[0] != dims[1] and all(0 <= d < z_dim for d in dims)):
        raise ValueError(f"Expected dims: two different indices below z_dim={z_dim}, got {dims!r}.")
    values = latent_grid(grid_size, quantiles)
    z1, z2 = np.meshgrid(values, values[::-1])  # row 0 is the top: the largest z2
    z = np.zeros((grid_size * grid_size, z_dim))
    z[:, dims[0]], z[:, dims[1]] = z1.ravel(), z2.ravel()
    images = decode_images(decode, z, image_shape)
    mosaic = image_mosaic(images, ncols=grid_size, image_shape=image_shape)
    ax = show_mosaic(mosaic, ax, title, value_range, figsize=(6.0, 6.0))
    height, width = image_shape
    ticks = np.linspace(0, grid_size - 1, min(grid_size, 5)).round().astype(int)
    names = [f"{v:.2g}" for v in np.round(values, 2) + 0.0]  # + 0.0: no "-0"
    ax.set_xticks(ticks * (width + 1) + width / 2, [names[i] for i in ticks])
    ax.set_yticks(ticks * (height + 1) + height / 2, [names[::-1][i] for i in ticks])
    ax.set_xlabel(f"z{dims[0] + 1}")
    ax.set_ylabel(f"z{dims[1] + 1}")
    return ax


def plot_reconstructions(
    originals,
    reconstructions,
    num_images: int = 10,
    image_shape=(28, 28),
    ax=None,
    title: str = "Top: originals. Bottom: reconstructions",
):
    """The first ``num_images`` originals (top row) above their reconstructions (bottom)."""
    originals = as_images(originals, image_shape, "originals")
    reconstructions = as_images(reconstructions, image_shape, "reconstructions")
    if len(originals) != len(reconstructions):
        raise ValueError(
            f"Expected one reconstruction per original, got {len(originals)} originals and "
            f"{len(reconstructions)} reconstructions."
        )
    count = min(num_images, len(originals))
    mosaic = image_mosaic(
        np.concatenate([originals[:count], reconstructions[:count]]),
        ncols=count,
        image_shape=image_shape,
    )
    return show_mosaic(mosaic, ax, title, figsize=(1.0 * count, 2.4))


def plot_prior_samples(
    decode: Callable,
    num_samples: int = 36,
    z_dim: int = 2,
    seed: int = 0,
    image_shape=(28, 28),
    ax=None,
    value_range=(0.0, 1.0),
    title: str = "Images decoded from z ~ p(z) = N(0, I)",
):
    """Decode ``num_samples`` draws from the standard normal prior (seeded).

    For a Bernoulli decoder the images are the pixel probabilities (the mean of p(x|z)),
    which is the usual way to show samples: 0/1 draws look speckled.
    """
    z = np.random.default_rng(seed).standard_normal((num_samples, z_dim))
    images = decode_images(decode, z, image_shape)
    return show_mosaic(image_mosaic(images, image_shape=image_shape), ax, title, value_range)


def plot_interpolation(
    decode: Callable,
    z_start,
    z_end,
    steps: int = 10,
    image_shape=(28, 28),
    ax=None,
    value_range=(0.0, 1.0),
    title: str = "Walking through latent space",
):
    """Decode ``steps`` points on the straight line from ``z_start`` to ``z_end``.

    Take ``z_start``/``z_end`` as the encoder means of two chosen images: the row then
    morphs one digit into the other through what the decoder has learnt.
    """
    z_start, z_end = to_numpy(z_start).reshape(-1), to_numpy(z_end).reshape(-1)
    if z_start.shape != z_end.shape:
        raise ValueError(
            f"Expected z_start and z_end of the same size, got {z_start.size} and {z_end.size}."
        )
    steps = whole_number("steps", steps, minimum=2, fix="steps=10 images from start to end.")
    weights = np.linspace(0.0, 1.0, steps)[:, None]
    images = decode_images(decode, (1 - weights) * z_start + weights * z_end, image_shape)
    ax = show_mosaic(
        image_mosaic(images, ncols=steps, image_shape=image_shape),
        ax,
        title,
        value_range,
        figsize=(1.0 * steps, 1.6),
    )
    ax.set_xlabel("from z_start (left) to z_end (right)")
    return ax


def plot_elbo_split(
    history: History,
    ax=None,
    per_point: bool = True,
    smoothing: int = 1,
    title: str = "ELBO = reconstruction - KL",
):
    """The reconstruction term E_q[log p(x|z)] and the KL(q(z|x) || p(z)) over training.

    Reads ``history.extras["reconstruction"]`` and ``["kl"]`` (summed over the data, one
    value per step from the first, NaN where a step was not measured; the series may stop
    short of the last steps). Reconstruction and ELBO use the left axis; the KL, some ten
    times smaller, its own right axis.
    """
    missing = [key for key in ("reconstruction", "kl") if key not in history.extras]
    if missing:
        raise ValueError(
            f"history.extras has no {missing} series (it has {sorted(history.extras)}). Record "
            f"them while training, e.g. with vilab.exercises.vae.record_elbo_split(trainer, x)."
        )
    steps = np.asarray(history.step, dtype=float)
    recon = np.asarray(history.extras["reconstruction"], dtype=float)
    kl = np.asarray(history.extras["kl"], dtype=float)
    if max(len(recon), len(kl)) > len(steps):
        raise ValueError(
            f"Expected at most one reconstruction and KL value per step ({len(steps)}), got "
            f"{len(recon)} and {len(kl)}; record one value per step, NaN where not measured."
        )
    count = min(len(recon), len(kl))  # the latest steps may not be measured yet
    steps, recon, kl = steps[:count], recon[:count], kl[:count]
    measured = np.isfinite(recon) & np.isfinite(kl)
    scale = history.num_data if per_point else 1
    steps = steps[measured]
    recon = moving_average(recon[measured] / scale, smoothing)
    kl = moving_average(kl[measured] / scale, smoothing)
    ax = ax or new_axes((7.0, 4.0))
    unit = "per data point" if per_point else "summed over the data"
    lines = ax.plot(steps, recon, color="C0", label="reconstruction E_q[log p(x|z)]")
    lines += ax.plot(steps, recon - kl, color="C2", ls="--", label="ELBO")
    ax.set_xlabel("step")
    ax.set_ylabel(f"nats {unit}")
    right = ax.twinx()
    lines += right.plot(steps, kl, color="C3", label="KL(q(z|x) || p(z)) (right axis)")
    right.set_ylabel(f"KL, nats {unit}", color="C3")
    right.tick_params(axis="y", colors="C3")
    ax.legend(lines, [line.get_label() for line in lines], loc="lower right")
    ax.set_title(title)
    return ax


def _label_colours(count: int):
    import matplotlib

    return matplotlib.colormaps["tab10" if count <= 10 else "tab20"]

"""Loadings of linear-Gaussian latent models (PPCA, factor analysis) and what they generate.

A loading matrix W (D x K) is only defined up to a rotation: W R with R orthogonal gives
the same model, x ~ N(mu, W W^T + noise). Two fits (MAP, VI, a closed form, scikit-learn)
can therefore land on different but equivalent W's. Before drawing them, these functions
put every W in one *canonical* frame: W = U S V^T (SVD) becomes U S, columns ordered by
decreasing length and each column's sign chosen so its entries sum to a positive number.
Equal models then give equal pictures, and the eye compares what matters.

    >>> rng = np.random.default_rng(0)
    >>> w = rng.normal(size=(784, 2))                      # 784 pixels, 2 factors
    >>> c, s = np.cos(0.7), np.sin(0.7)
    >>> rotated = w @ np.array([[c, -s], [s, c]])          # W R: the same model
    >>> np.allclose(canonical_loadings(rotated), canonical_loadings(w))
    True
    >>> ax = plot_loading_images({"W": w, "W R": rotated})     # two equal rows
    >>> x = rng.normal(size=(500, 2)) * [2.0, 0.5]
    >>> ax = plot_direction_over_data(x, {"VI": [[2.0], [0.1]], "ML": [[-1.9], [0.0]]})
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from .axes import new_axes
from .images import image_mosaic, to_numpy


def _as_loadings(w, what: str = "w") -> np.ndarray:
    w = to_numpy(w)
    if w.ndim == 1:
        w = w[:, None]
    if w.ndim != 2 or w.size == 0:
        raise ValueError(
            f"Expected {what} to be a loading matrix of shape (D, K) (data dimension x latent "
            f"dimension), got shape {w.shape}. A single direction may be a vector of length D."
        )
    return w


def canonical_rotation(w) -> np.ndarray:
    """The K x K orthogonal matrix R that puts ``w`` (D x K) in the canonical frame W R.

    Latent codes follow with ``z @ R`` (since W z = (W R)(R^T z)), so a latent scatter can be
    drawn in the same frame as its loadings.
    """
    w = _as_loadings(w)
    _, _, vt = np.linalg.svd(w, full_matrices=False)  # W = U S V^T; W V = U S
    rotation = vt.T
    columns = w @ rotation
    sums = columns.sum(axis=0)
    # sign: entries summing to a positive number; if they cancel, the largest entry positive
    largest = columns[np.abs(columns).argmax(axis=0), np.arange(columns.shape[1])]
    tied = np.abs(sums) < 1e-9 * (np.abs(columns).sum(axis=0) + 1e-300)
    signs = np.where(tied, np.sign(largest), np.sign(sums))
    return rotation * np.where(signs == 0, 1.0, signs)


def canonical_loadings(w) -> np.ndarray:
    """``w`` rotated into the canonical frame: orthogonal columns, longest first, signed."""
    w = _as_loadings(w)
    return w @ canonical_rotation(w)


def align_loadings(w, reference) -> np.ndarray:
    """``w @ R`` for the rotation R that brings ``w`` closest to ``reference`` (orthogonal
    Procrustes: R = U V^T from the SVD of W^T W_ref). For K = 1 this is a sign flip."""
    w, reference = _as_loadings(w), _as_loadings(reference, "reference")
    if w.shape != reference.shape:
        raise ValueError(
            f"Expected w and reference of the same shape, got {w.shape} and {reference.shape}."
        )
    u, _, vt = np.linalg.svd(w.T @ reference)
    return w @ (u @ vt)


def plot_direction_over_data(
    x,
    directions: dict,
    ax=None,
    max_points: int = 2000,
    title: str = "Principal direction W over the data",
):
    """2-D data with one segment per loading vector: from -2 W to 2 W, the span of x = W z
    for z within two prior standard deviations. ``directions`` maps a label to a W (2 x 1)."""
    x = to_numpy(x)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"Expected 2-D data of shape (N, 2) to draw, got shape {x.shape}.")
    ax = ax or new_axes((5.5, 5.0))
    ax.scatter(*x[:max_points].T, s=3, alpha=0.25, color="0.5", label="data")
    for (label, w), style in zip(directions.items(), ["-", "--", ":", "-."] * 4):
        w = _as_loadings(w, f"directions[{label!r}]")
        if w.shape[0] != 2:
            raise ValueError(f"Expected a direction of length 2 for {label!r}, got {w.shape}.")
        for k in range(w.shape[1]):
            ends = np.outer([-2.0, 2.0], w[:, k])
            ax.plot(ends[:, 0], ends[:, 1], style, lw=2.5, label=label if k == 0 else None)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_title(title)
    ax.legend(loc="best")
    return ax


def plot_generated_over_real(
    x_real,
    generated: dict,
    ax=None,
    max_points: int = 2000,
    title: str = "Generated data over the real data",
):
    """Model criticism: each generated set in colour, the real 2-D data in dark grey on top.
    ``generated`` maps a label (e.g. "VI, z inferred") to an (N, 2) array."""
    x_real = to_numpy(x_real)
    if x_real.ndim != 2 or x_real.shape[1] != 2:
        raise ValueError(f"Expected real data of shape (N, 2), got shape {x_real.shape}.")
    ax = ax or new_axes((5.5, 5.0))
    for index, (label, x_new) in enumerate(generated.items()):
        x_new = to_numpy(x_new)
        if x_new.ndim != 2 or x_new.shape[1] != 2:
            raise ValueError(f"Expected generated[{label!r}] of shape (N, 2), got {x_new.shape}.")
        ax.scatter(*x_new[:max_points].T, s=4, alpha=0.35, color=f"C{index}", label=label)
    # the real data last, in dark grey on top, so the generated clouds cannot hide them
    ax.scatter(*x_real[:max_points].T, s=2, alpha=0.3, color="0.15", label="real data")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_title(title)
    ax.legend(loc="best", markerscale=3)
    return ax


def plot_w_posterior(
    w_loc,
    w_scale,
    references: dict | None = None,
    fig=None,
    title: str = "q(W): VI posterior of each loading",
):
    """One panel per entry of W: the Normal density of q(W[d, k]) (mean ``w_loc``, std
    ``w_scale``) with reference values (e.g. {"closed-form ML": w_ml, "true": w_true}) as
    vertical lines. Align the references to ``w_loc`` first (:func:`align_loadings`).
    Returns the Figure (at most 10 entries)."""
    loc, scale = _as_loadings(w_loc, "w_loc"), _as_loadings(w_scale, "w_scale")
    if loc.shape != scale.shape or not np.all(scale > 0):
        raise ValueError(
            f"Expected w_loc and w_scale of the same shape with w_scale > 0, got "
            f"shapes {loc.shape} and {scale.shape}."
        )
    if loc.size > 10:
        raise ValueError(f"W has {loc.size} entries; this plot is for at most 10 of them.")
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(3.4 * loc.size, 3.4))
    axes = fig.subplots(1, loc.size, squeeze=False)[0]
    for index, ax in enumerate(axes):
        d, k = np.unravel_index(index, loc.shape)
        mean, std = loc[d, k], scale[d, k]
        grid = np.linspace(mean - 4 * std, mean + 4 * std, 200)
        ax.plot(
            grid, stats.norm.pdf(grid, mean, std), color="C0", label=f"q: {mean:.3f} ± {std:.3f}"
        )
        for (name, values), style in zip((references or {}).items(), ["--", ":", "-."] * 4):
            value = _as_loadings(values, name)[d, k]
            ax.axvline(
                value,
                color=f"C{1 + list(references).index(name)}",
                ls=style,
                label=f"{name}: {value:.3f}",
            )
        ax.set_xlabel(f"W[{d}, {k}]")
        ax.set_ylabel("density")
        ax.legend(fontsize="small", loc="upper left")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_loading_images(
    loadings: dict,
    image_shape=(28, 28),
    ax=None,
    canonical: bool = True,
    title: str = "Learned factors (columns of W) as images",
):
    """Each column of each W (D x K, D = h*w pixels) as an image; one row per label.

    Red pixels load positively, blue negatively, on one symmetric colour scale for all rows,
    so the rows can be compared. With ``canonical=True`` every W is first put in the
    canonical frame (:func:`canonical_loadings`).
    """
    height, width = image_shape
    rows = []
    for label, w in loadings.items():
        w = _as_loadings(w, f"loadings[{label!r}]")
        if w.shape[0] != height * width:
            raise ValueError(
                f"Expected {height * width} pixels per factor for image_shape="
                f"{tuple(image_shape)}, got W of shape {w.shape} for {label!r}."
            )
        rows.append(canonical_loadings(w) if canonical else w)
    num_factors = max(w.shape[1] for w in rows)
    images = np.zeros((len(rows) * num_factors, height * width))
    for r, w in enumerate(rows):
        images[r * num_factors : r * num_factors + w.shape[1]] = w.T
    mosaic = image_mosaic(images, ncols=num_factors, image_shape=image_shape, pad_value=0.0)
    limit = float(np.abs(mosaic).max()) or 1.0
    created = ax is None
    ax = ax or new_axes((1.8 * num_factors + 2.6, 1.7 * len(rows) + 0.8))
    picture = ax.imshow(mosaic, cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
    ax.figure.colorbar(picture, ax=ax, label="loading")
    ax.set_xticks(
        np.arange(num_factors) * (width + 1) + width / 2,
        [f"factor {k + 1}" for k in range(num_factors)],
    )
    ax.set_yticks(np.arange(len(rows)) * (height + 1) + height / 2, list(loadings))
    ax.set_title(title)
    if created:
        ax.figure.tight_layout()
    return ax

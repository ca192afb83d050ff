"""A classifier's predicted probability over two inputs, with the data on top.

Filled contours show P(y = 1 | inputs) on a grid, the dashed line the 0.5 decision
boundary, and the points the observed cases coloured by class: where the colours
disagree with the background, the model is wrong (or unsure, near the boundary).
"""

from __future__ import annotations

import numpy as np

from .axes import new_axes


def plot_probability_map(
    x1_grid,
    x2_grid,
    prob,
    x,
    y,
    xlabel: str = "input 1",
    ylabel: str = "input 2",
    class_names=("class 0", "class 1"),
    title: str = "Predicted probability of class 1",
    ax=None,
    colorbar: bool = True,
):
    """Contours of ``prob[i, j]`` = P(y = 1) at ``(x1_grid[i], x2_grid[j])``, and the points
    ``x`` (N x 2, same units as the grids) with labels ``y`` (0/1). Returns the Axes.
    ``colorbar=False`` leaves the colour scale out (for figures redrawn live, where a new
    colorbar at every redraw would squeeze the plot)."""
    ax = ax or new_axes(figsize=(6.4, 4.8))
    x1_grid, x2_grid = np.asarray(x1_grid, dtype=float), np.asarray(x2_grid, dtype=float)
    prob, x, y = np.asarray(prob, dtype=float), np.asarray(x, dtype=float), np.asarray(y)
    if prob.shape != (len(x1_grid), len(x2_grid)):
        raise ValueError(
            f"Expected prob of shape (len(x1_grid), len(x2_grid)) = "
            f"{(len(x1_grid), len(x2_grid))}, got {prob.shape}. Fix: evaluate it as "
            f"prob[i, j] = P(y = 1 | x1_grid[i], x2_grid[j])."
        )
    if x.ndim != 2 or x.shape[1] != 2 or y.shape != (len(x),):
        raise ValueError(
            f"Expected points x of shape (N, 2) and labels y of shape (N,), got "
            f"{x.shape} and {y.shape}."
        )
    filled = ax.contourf(
        x1_grid, x2_grid, prob.T, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.8
    )
    ax.contour(x1_grid, x2_grid, prob.T, levels=[0.5], colors="k", linestyles="--")
    if colorbar:
        ax.figure.colorbar(filled, ax=ax, label=f"P({class_names[1]})")
    for label, marker, color in ((0, "o", "tab:blue"), (1, "^", "tab:red")):
        chosen = y == label
        ax.scatter(
            x[chosen, 0],
            x[chosen, 1],
            marker=marker,
            color=color,
            edgecolor="k",
            s=30,
            label=class_names[label],
        )
    ax.plot([], [], "k--", label="decision boundary (P = 0.5)")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize="small")
    return ax

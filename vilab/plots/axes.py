"""Creating figures without a display (CI, ``vilab run``) or inside a notebook alike."""

from __future__ import annotations


def new_axes(figsize=(6.4, 4.0)):
    """A fresh Axes on a new Figure; pyplot is only touched here."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize)
    return ax

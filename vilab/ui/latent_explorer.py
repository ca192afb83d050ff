"""Latent explorer: move through a 2-D latent space with two sliders and watch the decoded
image change live, with the data's codes drawn behind as a map.

    >>> import torch
    >>> decode = lambda z: torch.sigmoid(z @ torch.ones(2, 784))   # a toy decoder; vae.decode
    >>> z_heldout, labels = torch.randn(200, 2), torch.randint(0, 3, (200,))
    >>> explorer = LatentExplorer(decode, scatter=(z_heldout, labels))
    >>> explorer.z1_slider.value = 1.5; explorer.image.shape
    (28, 28)

In a notebook, ``explorer`` as the last line of a cell shows the sliders, map and image.

Works headless too (tests, nbval): set the sliders' ``value`` and read ``explorer.image``
(the decoded image as a NumPy array) and ``explorer.z``. The figure is a plain
``matplotlib.figure.Figure`` (not pyplot, so ``%matplotlib inline`` does not print it a
second time) rendered to PNG into an ``ipywidgets.Image``. Clicking on the map would need
the ipympl backend, which vilab does not require, so the sliders are the way to move.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import ipywidgets as widgets
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image as PILImage

from ..plots.images import decode_images, to_numpy
from ..plots.latent import plot_latent_scatter
from .live_plot import CSS_DPI


class LatentExplorer:
    """Two sliders pick a latent point z; ``decode(z)`` is drawn beside the data's map.

    Arguments:
        decode: z (M x z_dim float32 tensor) -> images (M x h*w), values in [0, 1].
        z_range: (low, high) range of both sliders; the prior N(0, 1) lives in (-3, 3).
        image_shape: (h, w) of one image.
        scatter: optional (z, labels) of data codes, e.g. the encoder means of held-out
            images, drawn as a coloured map with the current point marked on it.
        z_dim, dims: with z_dim > 2 the sliders move ``z[dims[0]]`` and ``z[dims[1]]``,
            the other coordinates staying at 0 (the prior mean).
    """

    def __init__(
        self,
        decode: Callable,
        z_range=(-3.0, 3.0),
        image_shape=(28, 28),
        scatter=None,
        z_dim: int = 2,
        dims=(0, 1),
        value_range=(0.0, 1.0),
    ):
        if not callable(decode):
            raise TypeError(
                f"decode must be a function z -> images, got {type(decode).__name__}; pass "
                f"e.g. vae.decode, not vae.decode(z)."
            )
        low, high = (float(v) for v in z_range)
        if not low < high:
            raise ValueError(f"Expected z_range=(low, high) with low < high, got {z_range!r}.")
        if not (len(dims) == 2 and dims[0] != dims[1] and all(0 <= d < z_dim for d in dims)):
            raise ValueError(
                f"Expected dims: two different indices below z_dim={z_dim}, got {dims!r}."
            )
        self.decode, self.image_shape, self.z_dim, self.dims = decode, image_shape, z_dim, dims
        self.value_range = value_range
        start = float(np.clip(0.0, low, high))
        slider = dict(
            min=low,
            max=high,
            step=(high - low) / 200,
            value=start,
            continuous_update=True,
            readout_format=".2f",
        )
        self.z1_slider = widgets.FloatSlider(description=f"z{dims[0] + 1}", **slider)
        self.z2_slider = widgets.FloatSlider(description=f"z{dims[1] + 1}", **slider)
        self.picture = widgets.Image(format="png")
        self.errors = widgets.Output()  # shows what a failing callback raised
        for widget, name in (
            (self.z1_slider, "z1"),
            (self.z2_slider, "z2"),
            (self.picture, "picture"),
        ):
            widget.add_class(f"vilab-explorer-{name}")  # handles for the browser tests
        self.figure, self._image_artist, self._marker = self._build_figure(scatter, low, high)
        FigureCanvasAgg(self.figure)
        self._title = self._image_artist.axes.title
        self._moving = [a for a in (self._image_artist, self._marker, self._title) if a is not None]
        for artist in self._moving:
            artist.set_animated(True)  # left out of the saved background
        self._background = None
        self.image = np.zeros(image_shape)
        for s in (self.z1_slider, self.z2_slider):
            s.observe(self.errors.capture()(self._on_slider), names="value")
        self.widget = widgets.VBox(
            [widgets.HBox([self.z1_slider, self.z2_slider]), self.picture, self.errors]
        )
        self.update()

    @property
    def z(self) -> np.ndarray:
        """The current latent point (z_dim values)."""
        z = np.zeros(self.z_dim)
        z[self.dims[0]], z[self.dims[1]] = self.z1_slider.value, self.z2_slider.value
        return z

    def set_z(self, z1: float, z2: float) -> None:
        """Move both sliders at once (one redraw)."""
        self._updating = True
        try:
            self.z1_slider.value, self.z2_slider.value = float(z1), float(z2)
        finally:
            self._updating = False
        self.update()

    def update(self) -> None:
        """Decode the current point, then redraw the marker, the image and the PNG. Only
        what moves is drawn again (over a saved picture of the rest: matplotlib's blitting),
        so a slider move shows within ~0.1 s even with thousands of points on the map."""
        z = self.z
        self.image = decode_images(self.decode, z[None], self.image_shape)[0]
        self._image_artist.set_data(self._clipped(self.image))
        if self.value_range is None:
            self._image_artist.autoscale()
        self._title.set_text(
            f"decode(z), z{self.dims[0] + 1}={z[self.dims[0]]:.2f}, "
            f"z{self.dims[1] + 1}={z[self.dims[1]]:.2f}"
        )
        if self._marker is not None:
            self._marker.set_data([z[self.dims[0]]], [z[self.dims[1]]])
        canvas = self.figure.canvas
        if self._background is None:
            canvas.draw()  # everything but the moving artists, with the layout fitted once
            self.figure.set_layout_engine("none")
            self._background = canvas.copy_from_bbox(self.figure.bbox)
        canvas.restore_region(self._background)
        for artist in self._moving:
            artist.axes.draw_artist(artist) if artist.axes else self.figure.draw_artist(artist)
        buffer = io.BytesIO()
        PILImage.fromarray(np.asarray(canvas.buffer_rgba())).save(
            buffer, format="png", compress_level=1
        )
        self.picture.value = buffer.getvalue()

    _updating = False

    def _on_slider(self, change) -> None:
        if not self._updating:
            self.update()

    def _clipped(self, image: np.ndarray) -> np.ndarray:
        return image if self.value_range is None else np.clip(image, *self.value_range)

    def _build_figure(self, scatter, low: float, high: float):
        # drawn at twice its CSS size and shown at its CSS size: sharp on high-resolution
        # screens, and never stretched by the browser (the notebook column is ~1,000 px)
        width, height = (7.2, 3.6) if scatter is not None else (3.6, 3.6)
        figure = Figure(figsize=(width, height), dpi=2 * CSS_DPI, layout="constrained")
        self.picture.layout = widgets.Layout(
            width=f"{round(width * CSS_DPI)}px", height=f"{round(height * CSS_DPI)}px"
        )
        marker = None
        if scatter is not None:
            z, labels = scatter
            z = to_numpy(z)
            if z.ndim != 2 or z.shape[1] != self.z_dim:
                raise ValueError(
                    f"Expected scatter=(z, labels) with z of shape (N, {self.z_dim}), got "
                    f"shape {z.shape}."
                )
            map_ax, image_ax = figure.subplots(1, 2)
            plot_latent_scatter(
                z[:, list(self.dims)],
                labels,
                ax=map_ax,
                title="Data in latent space (x: current z)",
                point_size=4,
            )
            map_ax.set_xlabel(f"z{self.dims[0] + 1}")
            map_ax.set_ylabel(f"z{self.dims[1] + 1}")
            (marker,) = map_ax.plot([0.0], [0.0], "x", color="black", ms=14, mew=3)
        else:
            image_ax = figure.subplots()
        low_value, high_value = self.value_range or (None, None)
        artist = image_ax.imshow(
            np.zeros(self.image_shape),
            cmap="gray_r",
            vmin=low_value,
            vmax=high_value,
            interpolation="nearest",
        )
        image_ax.set_xticks([])
        image_ax.set_yticks([])
        return figure, artist, marker

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

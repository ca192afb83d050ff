"""A small line chart written as SVG text: the panel's live ELBO curve.

Why not matplotlib here: the panel must redraw the curve several times a second while
training runs in the same thread. A matplotlib redraw of the ELBO axes costs 15-45 ms
(plus 3-10 ms to encode a PNG, four times that for a sharp picture on a high-resolution
screen), so five redraws a second would take a fifth of the training time. This chart is
a few lines, ticks and labels as SVG text, built in about a millisecond; the browser draws
it, as vectors, sharp at any zoom and on any screen. Static figures (scripts, nbval, the
report) still come from matplotlib. Tick positions use matplotlib's locators, so the
numbers on both look alike.

    svg = line_chart([Series(steps, elbo, "#1f77b4", label="ELBO")], xlim=(0, 2000),
                     title="ELBO during training", xlabel="step")
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import numpy as np
from matplotlib.ticker import LogLocator, MaxNLocator

MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 64, 14, 26, 40
FONT = 'font-family="DejaVu Sans, Arial, sans-serif" font-size="11"'


@dataclass
class Series:
    """One line: x and y values (non-finite points are left out), its colour and style."""

    x: np.ndarray
    y: np.ndarray
    color: str = "#1f77b4"
    width: float = 1.5
    opacity: float = 1.0
    label: str = ""
    dashed: bool = False


def nice_limits(low: float, high: float, log: bool = False) -> tuple[float, float]:
    """Axis limits on round numbers around [low, high]: the outermost ticks of a locator, so
    the axes move only when the data cross a tick (a calm picture while the curve grows)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return (1.0, 10.0) if log else (0.0, 1.0)
    if log:
        low, high = max(low, 1e-300), max(high, 1e-300)
        return 10.0 ** math.floor(math.log10(low)), 10.0 ** math.ceil(math.log10(high) + 1e-12)
    if high - low < 1e-12 * max(1.0, abs(high)):
        pad = max(abs(high) * 0.05, 1e-3)
        low, high = low - pad, high + pad
    ticks = MaxNLocator(nbins=5).tick_values(low, high)
    return float(ticks[0]), float(ticks[-1])


def ticks_between(low: float, high: float, log: bool = False) -> list[float]:
    if log:
        values = LogLocator(base=10, numticks=6).tick_values(low, high)
    else:
        values = MaxNLocator(nbins=5).tick_values(low, high)
    span = high - low
    return [float(v) for v in values if low - 1e-9 * span <= v <= high + 1e-9 * span]


def tick_label(value: float, spacing: float, log: bool = False) -> str:
    """Short labels: 0.25, 1500, 2e+04, 1e-03; as many decimals as the tick spacing needs."""
    if value == 0:
        return "0"
    if log or abs(value) >= 1e5 or abs(value) < 1e-3:
        return f"{value:.0e}" if log else f"{value:.2g}"
    decimals = max(0, -math.floor(math.log10(spacing) + 1e-9)) if spacing > 0 else 0
    return f"{value:.{min(decimals, 6)}f}"


class _Frame:
    """Maps data coordinates to pixels inside the margins of a width x height picture."""

    def __init__(self, width, height, xlim, ylim, log_y):
        self.width, self.height, self.log_y = width, height, log_y
        self.x0, self.x1 = xlim
        self.y0, self.y1 = (math.log10(v) for v in ylim) if log_y else ylim
        self.left, self.top = MARGIN_LEFT, MARGIN_TOP
        self.plot_w = width - MARGIN_LEFT - MARGIN_RIGHT
        self.plot_h = height - MARGIN_TOP - MARGIN_BOTTOM

    def px(self, x):
        return self.left + (np.asarray(x, float) - self.x0) / (self.x1 - self.x0) * self.plot_w

    def py(self, y):
        y = np.asarray(y, float)
        if self.log_y:
            y = np.log10(np.maximum(y, 1e-300))
        return self.top + (1.0 - (y - self.y0) / (self.y1 - self.y0)) * self.plot_h


def _polyline(frame: _Frame, series: Series) -> str:
    x, y = np.asarray(series.x, float), np.asarray(series.y, float)
    keep = np.isfinite(x) & np.isfinite(y)
    if frame.log_y:
        keep &= y > 0
    if keep.sum() < 1:
        return ""
    px = np.clip(frame.px(x[keep]), -1e4, 1e4)
    py = np.clip(frame.py(y[keep]), -1e4, 1e4)
    points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px.tolist(), py.tolist()))
    dash = ' stroke-dasharray="5,3"' if series.dashed else ""
    return (
        f'<polyline points="{points}" fill="none" stroke="{series.color}" '
        f'stroke-width="{series.width}" stroke-opacity="{series.opacity}" '
        f'stroke-linejoin="round"{dash}/>'
    )


def _axes(frame: _Frame, xlim, ylim, title, xlabel, ylabel) -> list[str]:
    f = frame
    right, bottom = f.left + f.plot_w, f.top + f.plot_h
    parts = [
        f'<rect x="{f.left}" y="{f.top}" width="{f.plot_w}" height="{f.plot_h}" '
        f'fill="white" stroke="#444" stroke-width="0.8"/>'
    ]
    xticks = ticks_between(*xlim)
    xspacing = xticks[1] - xticks[0] if len(xticks) > 1 else 1.0
    for value in xticks:
        x = float(f.px(value))
        parts.append(
            f'<line x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 4}" stroke="#444"/>'
            f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle" {FONT}>'
            f"{tick_label(value, xspacing)}</text>"
        )
    yticks = ticks_between(*ylim, log=f.log_y)
    yspacing = abs(yticks[1] - yticks[0]) if len(yticks) > 1 else 1.0
    for value in yticks:
        y = float(f.py(value))
        parts.append(
            f'<line x1="{f.left - 4}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#ddd" '
            f'stroke-width="0.6"/><text x="{f.left - 7}" y="{y + 4:.1f}" text-anchor="end" '
            f"{FONT}>{tick_label(value, yspacing, f.log_y)}</text>"
        )
    mid_x, mid_y = f.left + f.plot_w / 2, f.top + f.plot_h / 2
    parts.append(
        f'<text x="{mid_x:.1f}" y="{f.height - 6}" text-anchor="middle" {FONT}>'
        f"{html.escape(xlabel)}</text>"
        f'<text transform="translate(13,{mid_y:.1f}) rotate(-90)" text-anchor="middle" '
        f"{FONT}>{html.escape(ylabel)}</text>"
        f'<text x="{mid_x:.1f}" y="17" text-anchor="middle" {FONT} font-size="12.5">'
        f"{html.escape(title)}</text>"
    )
    return parts


def _legend(frame: _Frame, series: list[Series], corner: str) -> str:
    labelled = [s for s in series if s.label]
    if not labelled:
        return ""
    width = 26 + 6.4 * max(len(s.label) for s in labelled)
    height = 6 + 15 * len(labelled)
    x = frame.left + 6 if "left" in corner else frame.left + frame.plot_w - width - 6
    y = frame.top + 6 if "upper" in corner else frame.top + frame.plot_h - height - 6
    parts = [
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height}" fill="white" '
        f'fill-opacity="0.85" stroke="#bbb" stroke-width="0.6" rx="2"/>'
    ]
    for i, s in enumerate(labelled):
        row = y + 11 + 15 * i
        dash = ' stroke-dasharray="5,3"' if s.dashed else ""
        parts.append(
            f'<line x1="{x + 5:.1f}" y1="{row:.1f}" x2="{x + 21:.1f}" y2="{row:.1f}" '
            f'stroke="{s.color}" stroke-width="{max(s.width, 1.5)}" '
            f'stroke-opacity="{max(s.opacity, 0.5)}"{dash}/>'
            f'<text x="{x + 25:.1f}" y="{row + 4:.1f}" {FONT} font-size="10.5">'
            f"{html.escape(s.label)}</text>"
        )
    return "".join(parts)


def line_chart(
    series: list[Series],
    *,
    xlim: tuple[float, float],
    ylim: tuple[float, float] | None = None,
    log_y: bool = False,
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    width: int = 470,
    height: int = 300,
    legend: str = "lower right",
) -> str:
    """The SVG text of a line chart of ``series``; ``ylim`` defaults to nice limits around
    all finite values (positive ones on a log axis)."""
    if ylim is None:
        values = [np.asarray(s.y, float) for s in series if len(s.y)]
        joined = np.concatenate(values) if values else np.array([])
        joined = joined[np.isfinite(joined) & ((joined > 0) if log_y else True)]
        low, high = (float(joined.min()), float(joined.max())) if len(joined) else (0.0, 1.0)
        ylim = nice_limits(low, high, log_y)
    if not xlim[1] > xlim[0]:
        xlim = (xlim[0], xlim[0] + 1)
    frame = _Frame(width, height, xlim, ylim, log_y)
    parts = _axes(frame, xlim, ylim, title, xlabel, ylabel)
    clip = f"clip{abs(hash((width, height, title))) % 10**8}"
    parts.append(
        f'<clipPath id="{clip}"><rect x="{frame.left}" y="{frame.top}" '
        f'width="{frame.plot_w}" height="{frame.plot_h}"/></clipPath><g clip-path="url(#{clip})">'
    )
    parts.extend(_polyline(frame, s) for s in series)
    parts.append("</g>")
    parts.append(_legend(frame, series, legend))
    body = "".join(parts)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" style="max-width:100%;height:auto" '
        f'role="img" aria-label="{html.escape(title)}">{body}</svg>'
    )

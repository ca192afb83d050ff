"""Terrain ruggedness and GDP (Nunn & Puga, 2012): the Bayesian regression data.

The question from the Pyro tutorial: is rugged terrain bad for a country's economy
everywhere, or does the relation flip inside Africa? The course's view keeps three
columns and the 170 countries with a recorded GDP in 2000:

    >>> from vilab.datasets import load_rugged
    >>> data = load_rugged()            # needs the file in the cache  # doctest: +SKIP
    >>> data.x.shape, data.y.shape      # needs the file in the cache  # doctest: +SKIP
    (torch.Size([170, 2]), torch.Size([170]))

The raw CSV (234 countries x 51 columns, ISO-8859-1 text) stays available as
``data.table`` or through :func:`load_rugged_table`.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field

import numpy as np
import torch

from .download import obtain

ENCODING = "iso-8859-1"  # e.g. "Côte d'Ivoire", "Réunion"
TEXT_COLUMNS = ("isocode", "country")


@dataclass(frozen=True)
class RuggedData:
    """The 170 countries with a GDP figure, as float32 tensors ready for a Pyro model.

    ``cont_africa`` is 1.0 for African countries, ``rugged`` the terrain ruggedness index
    (>= 0) and ``log_gdp`` the log of real GDP per capita in 2000 (``rgdppc_2000``).
    ``table`` holds every column of all 234 rows of the raw file, for exploration.
    """

    cont_africa: torch.Tensor
    rugged: torch.Tensor
    log_gdp: torch.Tensor
    country: list[str]
    table: dict[str, np.ndarray] = field(repr=False)
    source: str = ""

    @property
    def x(self) -> torch.Tensor:
        """Predictors as an N x 2 matrix: columns ``cont_africa``, ``rugged``."""
        return torch.stack([self.cont_africa, self.rugged], dim=-1)

    @property
    def y(self) -> torch.Tensor:
        """The response, ``log_gdp``."""
        return self.log_gdp

    def __len__(self) -> int:
        return len(self.country)


def parse_rugged_csv(text: str) -> dict[str, np.ndarray]:
    """Column name -> array: text columns as ``str`` arrays, the rest float64 (NaN if empty).

    Plain ``csv`` + numpy on purpose: pandas is not a dependency of vilab.
    """
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise ValueError("Expected the ruggedness CSV with a header row, got an empty file.")
    header, body = rows[0], rows[1:]
    bad = [i + 2 for i, row in enumerate(body) if len(row) != len(header)]
    if bad:
        raise ValueError(
            f"Expected {len(header)} fields on every line of the ruggedness CSV, "
            f"got a different number on line(s) {bad[:5]}. The file is damaged: "
            "re-fetch it with `vilab data fetch rugged`."
        )
    table = {}
    for j, name in enumerate(header):
        values = [row[j] for row in body]
        if name in TEXT_COLUMNS:
            table[name] = np.array(values, dtype=str)
        else:
            table[name] = np.array([float(v) if v != "" else np.nan for v in values])
    return table


def load_rugged_table(
    data_dir: str | os.PathLike | None = None, *, download: bool = True
) -> dict[str, np.ndarray]:
    """The full raw table: 234 rows x 51 columns, as a dict of numpy arrays."""
    path, _ = obtain("rugged", data_dir, download_missing=download)
    return parse_rugged_csv(path.read_text(encoding=ENCODING))


def load_rugged(data_dir: str | os.PathLike | None = None, *, download: bool = True) -> RuggedData:
    """The course's view of the ruggedness data (see :class:`RuggedData`).

    Rows without a finite ``rgdppc_2000`` are dropped, leaving 170 countries (49 African).
    ``data_dir`` beats ``$VILAB_DATA_DIR`` beats the default cache; with ``download=False``
    a missing file raises :class:`DatasetUnavailable` instead of going online.
    """
    path, source = obtain("rugged", data_dir, download_missing=download)
    table = parse_rugged_csv(path.read_text(encoding=ENCODING))
    gdp = table["rgdppc_2000"]
    keep = np.isfinite(gdp) & (gdp > 0)

    def column(values: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(values[keep], dtype=torch.float32)

    return RuggedData(
        cont_africa=column(table["cont_africa"]),
        rugged=column(table["rugged"]),
        log_gdp=column(np.log(np.where(keep, gdp, 1.0))),
        country=[str(name) for name in table["country"][keep]],
        table=table,
        source=source,
    )

"""Data for the course: a verified cache, real-data loaders and seeded toy generators.

Files live in one cache folder, chosen by (first wins) a ``data_dir=`` argument, the
``VILAB_DATA_DIR`` environment variable, or the default: the repository's ``data/`` folder
in a source checkout, else ``~/.cache/vilab``. From the shell, ``vilab data list`` shows
what is cached, ``vilab data fetch NAME`` downloads and ``vilab data import NAME PATH``
adds a file obtained elsewhere.

    >>> from vilab.datasets import load_rugged, load_mnist, make_bnn_data
    >>> rugged = load_rugged()                        # reads the cache  # doctest: +SKIP
    >>> mnist = load_mnist("test", digits=[0, 1, 2])  # reads the cache  # doctest: +SKIP
    >>> x, y = make_bnn_data(seed=0)
"""

from .cache import ENV_VAR, REGISTRY, DatasetFile, data_dir, file_status
from .download import DatasetUnavailable, DownloadError, fetch, import_file
from .mnist import (
    DataSourceNotice,
    MNISTData,
    MNISTSplit,
    binarize_dynamic,
    load_mnist,
    load_mnist_split,
    read_idx,
)
from .rugged import RuggedData, load_rugged, load_rugged_table
from .synthetic import PPCAData, make_bnn_data, make_gaussian_data, make_ppca_data

__all__ = [
    "ENV_VAR",
    "REGISTRY",
    "DataSourceNotice",
    "DatasetFile",
    "DatasetUnavailable",
    "DownloadError",
    "MNISTData",
    "MNISTSplit",
    "PPCAData",
    "RuggedData",
    "binarize_dynamic",
    "data_dir",
    "fetch",
    "file_status",
    "import_file",
    "load_mnist",
    "load_mnist_split",
    "load_rugged",
    "load_rugged_table",
    "make_bnn_data",
    "make_gaussian_data",
    "make_ppca_data",
    "read_idx",
]

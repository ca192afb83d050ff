"""load_mnist_split: the one train/held-out cut of MNIST that the VAE, factor-analysis and
PPCA exercises share (order, digits, binarisation, centring, seeds, refusals)."""

import warnings

import pytest
import torch

from vilab.datasets import DataSourceNotice, load_mnist, load_mnist_split


def every_test_image(**kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataSourceNotice)
        return load_mnist("test", download=False, progress=False, **kwargs)


def test_file_order_with_digits_is_the_first_images_then_the_next(mnist_test_dir):
    split = load_mnist_split(300, 100, digits=[0, 1, 2], download=False)
    first = every_test_image(digits=[0, 1, 2], num_instances=400)
    assert torch.equal(split.x_train, first.x[:300]) and torch.equal(split.y_train, first.y[:300])
    assert torch.equal(split.x_heldout, first.x[300:]) and torch.equal(
        split.y_heldout, first.y[300:]
    )
    assert split.binarize is None and split.mean is None and split.source == first.source
    assert load_mnist_split(5, download=False).x_heldout.shape == (0, 784)


def test_shuffled_static_split_is_one_seeded_permutation_then_one_sample(mnist_test_dir):
    split = load_mnist_split(600, 300, shuffle=True, seed=4, binarize="static", download=False)
    # by hand: one generator draws the permutation, then the 0/1 sample of every image
    grey = every_test_image()
    generator = torch.Generator().manual_seed(4)
    order = torch.randperm(10_000, generator=generator)
    binary = torch.bernoulli(grey.x, generator=generator)
    assert torch.equal(split.x_train, binary[order[:600]])
    assert torch.equal(split.x_heldout, binary[order[600:900]])
    assert torch.equal(split.y_heldout, grey.y[order[600:900]])
    assert set(split.x_train.unique().tolist()) == {0.0, 1.0}
    again = load_mnist_split(600, 300, shuffle=True, seed=4, binarize="static", download=False)
    other = load_mnist_split(600, 300, shuffle=True, seed=5, binarize="static", download=False)
    assert torch.equal(again.x_train, split.x_train) and not torch.equal(
        other.y_train, split.y_train
    )


def test_dynamic_keeps_training_grey_and_holds_out_the_static_sample(mnist_test_dir):
    static = load_mnist_split(200, 100, shuffle=True, binarize="static", download=False)
    dynamic = load_mnist_split(200, 100, shuffle=True, binarize="dynamic", download=False)
    assert len(dynamic.x_train.unique()) > 2 and dynamic.binarize == "dynamic"
    assert torch.equal(dynamic.x_heldout, static.x_heldout)
    grey = load_mnist_split(200, 100, shuffle=True, download=False)
    assert torch.equal(dynamic.x_train, grey.x_train)  # the same images, not yet sampled


def test_centring_subtracts_the_training_mean_from_both_parts(mnist_test_dir):
    raw = load_mnist_split(300, 50, digits=[0, 1, 2], download=False)
    centred = load_mnist_split(300, 50, digits=[0, 1, 2], centre=True, download=False)
    torch.testing.assert_close(centred.mean, raw.x_train.mean(0))
    assert float(centred.x_train.mean(0).abs().max()) < 1e-6
    torch.testing.assert_close(centred.x_heldout + centred.mean, raw.x_heldout)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"num_train": 0}, r"num_train must be a whole number >= 1, got 0\. Fix"),
        ({"num_train": 5, "num_heldout": -1}, r"num_heldout must be a whole number >= 0"),
        ({"num_train": 5, "centre": True, "binarize": "static"}, r"centre=True must come with"),
        ({"num_train": 5, "digits": [10]}, "digits must be a non-empty list of digits 0-9"),
        ({"num_train": 5, "split": "valid"}, "split must be one of 'train', 'test'"),
    ],
)
def test_bad_options_are_explained_before_any_io(kwargs, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        load_mnist_split(data_dir=tmp_path, **kwargs)


def test_asking_for_more_images_than_there_are(mnist_test_dir):
    with pytest.raises(ValueError, match=r"num_train \+ num_heldout <= 3,147 .*digits \[0, 1, 2\]"):
        load_mnist_split(3000, 200, digits=[0, 1, 2], download=False)

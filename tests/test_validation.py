"""vilab.validation: the one house wording for argument checks, "<name> must be ..., got ....
Fix: ...", for plain numbers, numpy scalars and 0-d tensors alike; bool is refused."""

import math

import numpy as np
import pytest
import torch

from vilab.errors import InfError
from vilab.validation import one_of, real_number, refuse, whole_number


@pytest.mark.parametrize(
    "value", [3, np.int64(3), np.int32(3), torch.tensor(3), np.array(3)], ids=repr
)
def test_whole_number_accepts_python_numpy_and_tensor_integers(value):
    count = whole_number("num_steps", value)
    assert count == 3 and type(count) is int


@pytest.mark.parametrize(
    "value, shown",
    [
        (True, "True"),
        (0, "0"),
        (2.5, "2.5"),
        (3.0, "3.0"),
        ("3", "'3'"),
        (None, "None"),
        (np.float64(3.0), "np.float64(3.0)" if np.__version__ >= "2" else "3.0"),
        (torch.tensor(3.0), "tensor(3.)"),
        (torch.tensor([3, 4]), "tensor([3, 4])"),
    ],
    ids=repr,
)
def test_whole_number_refuses_with_the_house_wording(value, shown):
    with pytest.raises(ValueError) as caught:
        whole_number("num_steps", value, fix="pass a count such as trainer.run(2000).")
    assert str(caught.value) == (
        f"num_steps must be a whole number >= 1, got {shown}. "
        "Fix: pass a count such as trainer.run(2000)."
    )


def test_whole_number_minimum_and_no_fix():
    assert whole_number("steps", 2, minimum=2) == 2
    assert whole_number("seed", 0, minimum=0) == 0
    with pytest.raises(ValueError) as caught:
        whole_number("steps", 1, minimum=2)
    assert str(caught.value) == "steps must be a whole number >= 2, got 1."


def test_the_error_type_is_the_callers():
    with pytest.raises(
        InfError, match=r"^size must be a whole number >= 1, got 0\. Fix: size=5\.$"
    ):
        whole_number("size", 0, fix="size=5.", error=InfError)
    with pytest.raises(TypeError, match=r"^seed must be a whole number >= 0, got '0'\.$"):
        whole_number("seed", "0", minimum=0, error=TypeError)
    with pytest.raises(TypeError, match=r"^lr must be a positive number, got None\.$"):
        real_number("lr", None, positive=True, error=TypeError)
    with pytest.raises(KeyError):
        one_of("kind", "x", ("a",), error=KeyError)


@pytest.mark.parametrize(
    "value",
    [0.25, 1, np.float32(0.25), np.float64(0.25), torch.tensor(0.25), np.array(0.25)],
    ids=repr,
)
def test_real_number_accepts_python_numpy_and_tensor_numbers(value):
    number = real_number("lr", value, positive=True)
    assert number == pytest.approx(float(value)) and type(number) is float


@pytest.mark.parametrize(
    "value, options, message",
    [
        (True, {}, "lr must be a finite number, got True."),
        ("0.1", {}, "lr must be a finite number, got '0.1'."),
        (math.nan, {"finite": False}, "lr must be a real number, got nan."),
        (math.inf, {}, "lr must be a finite number, got inf."),
        (0.0, {"positive": True}, "lr must be a positive number, got 0.0."),
        (-1, {"positive": True}, "lr must be a positive number, got -1."),
        (torch.tensor([0.1, 0.2]), {}, "lr must be a finite number, got tensor([0.1000, 0.2000])."),
        (np.array([0.1, 0.2]), {}, "lr must be a finite number, got array([0.1, 0.2])."),
    ],
    ids=repr,
)
def test_real_number_refuses_with_the_house_wording(value, options, message):
    with pytest.raises(ValueError) as caught:
        real_number("lr", value, **options)
    assert str(caught.value) == message


def test_real_number_lets_infinity_through_when_asked():
    assert real_number("separation", math.inf, finite=False) == math.inf


def test_one_of_lists_the_choices():
    assert one_of("optim", "adam", ("adam", "sgd")) == "adam"
    with pytest.raises(ValueError) as caught:
        one_of("optim", "Adam", ("adam", "sgd"), fix='optim="adam".')
    assert (
        str(caught.value) == "optim must be one of 'adam', 'sgd', got 'Adam'. Fix: optim=\"adam\"."
    )


def test_refuse_words_a_check_no_helper_covers():
    with pytest.raises(ValueError) as caught:
        refuse("prob", "between 0 and 1", 90, fix="e.g. prob=0.9.")
    assert str(caught.value) == "prob must be between 0 and 1, got 90. Fix: e.g. prob=0.9."


def test_the_modules_use_it():
    """A few of the guards the modules used to copy, now one check each."""
    from vilab import datasets, evidence, inf, kl
    from vilab.plots import image_mosaic
    from vilab.plots.latent import latent_grid

    refusals = [
        (lambda: image_mosaic(np.zeros((4, 2, 2)), ncols=-1, image_shape=(2, 2)), ValueError,
         "ncols must be a whole number >= 1, got -1."),
        (lambda: latent_grid(grid_size=True), ValueError,
         "grid_size must be a whole number >= 2, got True."),
        (lambda: datasets.make_ppca_data(latent_dim=True), ValueError,
         "latent_dim must be a whole number >= 1, got True."),
        (lambda: evidence.coin_log_evidence([1, 0], concentration1=0), ValueError,
         "concentration1 must be a positive number, got 0."),
        (lambda: kl.two_modes(weight="0.3"), TypeError, "weight must be a real number, got '0.3'."),
        (lambda: inf.inference.VI(epochs=2.0), InfError,
         "epochs must be a whole number >= 1, got 2.0."),
    ]  # fmt: skip
    for call, error, message in refusals:
        with pytest.raises(error) as caught:
            call()
        assert str(caught.value).startswith(message)
    # numpy and tensor arguments pass where a plain int / float would
    data = datasets.make_gaussian_data(num_points=np.int64(3), scale=torch.tensor(2.0))
    assert data.shape == (3,)

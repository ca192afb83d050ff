"""Private parameter stores: the Pyro internals they rely on, and nesting."""

import pyro
import torch

from vilab.scope import _STORE_FIELDS, PrivateScope


def test_pyro_param_store_still_has_the_fields_we_swap():
    store = pyro.get_param_store()
    for name in _STORE_FIELDS:
        assert isinstance(getattr(store, name), dict), f"pyro renamed ParamStoreDict.{name}"


def test_scope_swaps_params_and_restores_them():
    pyro.param("shared", torch.tensor(1.0))
    scope = PrivateScope(seed=0)
    with scope:
        assert "shared" not in pyro.get_param_store()
        pyro.param("shared", torch.tensor(2.0))
        with scope:  # re-entering (a callback during a step) changes nothing
            assert pyro.param("shared").item() == 2.0
    assert pyro.param("shared").item() == 1.0
    with scope:
        assert pyro.param("shared").item() == 2.0


def test_scope_random_stream_continues_across_entries():
    scope = PrivateScope(seed=3)
    with scope:
        first = torch.rand(2)
    with scope:
        second = torch.rand(2)
    pyro.set_rng_seed(3)
    assert torch.equal(torch.cat([first, second]), torch.rand(4))


def test_inspecting_does_not_advance_the_stream():
    scope = PrivateScope(seed=3)
    with scope.inspecting():
        peek = torch.rand(2)
    with scope:
        assert torch.equal(torch.rand(2), peek)

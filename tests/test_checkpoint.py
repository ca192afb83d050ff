"""Checkpoints: a safe format, and a loaded run continues exactly where it stopped."""

import pytest
import torch

from vilab import CheckpointError
from vilab.exercises import temperature


def test_a_loaded_checkpoint_continues_where_it_stopped(tmp_path):
    whole = temperature.make_trainer(seed=2)
    whole.run(500, progress=False)

    first = temperature.make_trainer(seed=2)
    first.run(300, progress=False)
    first.save(tmp_path / "run.pt")

    resumed = temperature.make_trainer(seed=2)
    resumed.load(tmp_path / "run.pt")
    assert resumed.num_steps_done == 300
    assert resumed.history.loss == first.history.loss
    resumed.run(200, progress=False)
    assert resumed.history.loss == whole.history.loss
    for name, value in whole.params().items():
        assert torch.equal(resumed.params()[name], value)


def test_checkpoint_files_load_with_weights_only(tmp_path):
    trainer = temperature.make_trainer()
    trainer.run(20, progress=False)
    trainer.save(tmp_path / "run.pt")
    state = torch.load(tmp_path / "run.pt", weights_only=True)
    assert state["format"] == "vilab-checkpoint"
    assert set(state["params"]) == {"a", "b"}
    assert not (tmp_path / "run.pt.tmp").exists()


def test_loading_into_a_different_model_is_refused(tmp_path):
    import pyro
    import pyro.distributions as dist

    from vilab import Trainer

    trainer = temperature.make_trainer()
    trainer.save(tmp_path / "run.pt")

    def other_guide(sensor):
        pyro.sample("temp", dist.Normal(pyro.param("mean", torch.tensor(15.0)), 1.0))

    other = Trainer(temperature.model, other_guide, args=(temperature.SENSOR_READING,))
    with pytest.raises(CheckpointError, match=r"only in the checkpoint: \['a', 'b'\]"):
        other.load(tmp_path / "run.pt")


def test_missing_or_foreign_files_get_clear_errors(tmp_path):
    trainer = temperature.make_trainer()
    with pytest.raises(FileNotFoundError, match="No checkpoint"):
        trainer.load(tmp_path / "nope.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="could not be read"):
        trainer.load(tmp_path / "junk.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a vilab checkpoint"):
        trainer.load(tmp_path / "other.pt")

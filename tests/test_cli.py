"""`vilab run`: lists the exercises, trains headless and writes figures and a summary."""

import json

from vilab.cli import main


def test_run_without_exercise_lists_them(capsys):
    assert main(["run"]) == 0
    assert "temperature" in capsys.readouterr().out


def test_run_trains_and_writes_plot_and_summary(tmp_path, capsys):
    out = tmp_path / "temp"
    assert (
        main(
            [
                "run",
                "temperature",
                "--steps",
                "40",
                "--seed",
                "3",
                "--out",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    summary = json.loads((out / "summary.json").read_text())
    assert summary["exercise"] == "temperature" and summary["seed"] == 3
    assert summary["runs"]["VI"]["steps"] == 40
    assert summary["wall_time_s"] > 0
    assert set(summary["posterior"]["temp"]) >= {"vi_mean", "vi_std", "exact_mean"}
    for name in ("elbo.png", "posterior.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"
    assert "Wrote:" in capsys.readouterr().out


def test_same_seed_same_summary(tmp_path):
    for name in ("a", "b"):
        main(
            ["run", "temperature", "--steps", "25", "--out", str(tmp_path / name), "--no-progress"]
        )
    a, b = (json.loads((tmp_path / n / "summary.json").read_text()) for n in "ab")
    assert a["runs"]["VI"]["final_elbo"] == b["runs"]["VI"]["final_elbo"]


def test_unknown_exercise_is_explained(capsys):
    assert main(["run", "nosuch"]) == 2
    assert "Unknown exercise 'nosuch'. Available:" in capsys.readouterr().err


def test_smoke_flag_uses_the_short_run(tmp_path, monkeypatch):
    monkeypatch.setenv("VILAB_SMOKE", "0")
    main(["run", "temperature", "--smoke", "--out", str(tmp_path), "--no-progress"])
    summary = json.loads((tmp_path / "summary.json").read_text())
    from vilab.exercises.temperature import SMOKE_STEPS

    assert summary["runs"]["VI"]["steps"] == SMOKE_STEPS


# -- user errors: one line on stderr, a non-zero status, no traceback ----------------------------


def _offline(monkeypatch):
    import urllib.error
    import urllib.request

    def refuse(*args, **kwargs):
        raise urllib.error.URLError("no network in this test")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


def test_run_without_cached_data_prints_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VILAB_DATA_DIR", str(tmp_path / "empty-cache"))
    _offline(monkeypatch)
    status = main(["run", "linear_regression", "--smoke", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert status == 1
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("error: the data this command needs are not in the cache")
    assert "Could not download 'rugged'" in err and "vilab data fetch NAME" in err


def test_run_into_an_unwritable_folder_prints_one_line_before_training(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    status = main(["run", "temperature", "--steps", "5", "--out", str(blocker / "out")])
    captured = capsys.readouterr()
    assert status == 1
    assert captured.err.strip().splitlines() == [
        f"error: cannot write to the output folder {blocker / 'out'} (Not a directory). "
        f"Fix: pass --out with a folder you can write to, e.g. --out runs/mine."
    ]
    assert "Training" not in captured.out  # refused before any training


def test_ctrl_c_during_a_run_exits_130_without_traceback(tmp_path, monkeypatch, capsys):
    from vilab.exercises import temperature

    def interrupted(**kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(temperature, "train", interrupted)
    assert main(["run", "temperature", "--out", str(tmp_path)]) == 130
    assert capsys.readouterr().err.strip() == (
        "error: interrupted (Ctrl-C); nothing more was written."
    )


def test_a_run_that_diverges_prints_its_first_line(tmp_path, monkeypatch, capsys):
    from vilab import TrainingDiverged
    from vilab.exercises import temperature

    def diverging(**kwargs):
        raise TrainingDiverged("Training stopped at step 3: the loss became nan.\nMore.", step=3)

    monkeypatch.setattr(temperature, "train", diverging)
    assert main(["run", "temperature", "--out", str(tmp_path)]) == 1
    assert capsys.readouterr().err.strip() == (
        "error: Training stopped at step 3: the loss became nan. (train it in a notebook to "
        "read the whole explanation and fixes)"
    )

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

"""`vilab data list | fetch | import`, driven through a parser built here."""

import argparse

import pytest

from vilab.datasets import cache
from vilab.datasets.cli import add_data_parser


def run(*argv):
    parser = argparse.ArgumentParser(prog="vilab")
    add_data_parser(parser.add_subparsers())
    args = parser.parse_args(["data", *argv])
    return args.func(args)


def status_lines(out):
    return {line.split()[0]: line.split()[1:] for line in out.splitlines()[1:] if line.strip()}


def test_list_shows_status_and_path_of_every_file(toy, tmp_path, capsys):
    (tmp_path / "toy").mkdir()
    (tmp_path / "toy" / "toy.bin").write_bytes(toy.body)
    (tmp_path / "rugged_data.csv").write_text("not the real file")
    assert run("list", "--data-dir", str(tmp_path)) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"Cache folder: {tmp_path}"
    rows = status_lines(out)
    assert rows["toy"] == ["cached", str(tmp_path / "toy" / "toy.bin")]
    assert rows["rugged"] == ["corrupt", str(tmp_path / "rugged_data.csv")]
    assert rows["mnist-train-images"][0] == "missing"
    assert set(cache.REGISTRY) <= set(rows)


def test_data_dir_option_also_works_before_the_command(tmp_path, capsys):
    assert run("--data-dir", str(tmp_path), "list") == 0
    assert f"Cache folder: {tmp_path}" in capsys.readouterr().out


def test_list_real_data_folder(rugged_dir, capsys):
    assert run("list") == 0
    assert status_lines(capsys.readouterr().out)["rugged"][0] == "cached"


def test_fetch_downloads_into_the_cache(toy, server, tmp_path, capsys, files_in):
    server.serve(toy.mirror_path, toy.body)
    assert run("fetch", "toy", "--data-dir", str(tmp_path), "--no-progress") == 0
    assert "toy: ok" in capsys.readouterr().out
    assert files_in(tmp_path) == ["toy/toy.bin"]


def test_fetch_group_reports_each_file(toy, server, register, monkeypatch, tmp_path, capsys):
    server.serve(toy.canonical_path, toy.body)
    register("toy2", b"other", [server.url("/missing/toy2.bin")])
    monkeypatch.setitem(cache.GROUPS, "toys", ("toy", "toy2"))
    assert run("fetch", "toys", "--data-dir", str(tmp_path), "--no-progress") == 1
    captured = capsys.readouterr()
    assert "toy: ok" in captured.out
    assert "toy2: failed" in captured.err and "HTTP 404" in captured.err
    assert (tmp_path / "toy" / "toy.bin").exists() and not (tmp_path / "toy" / "toy2.bin").exists()


def test_fetch_unknown_name_fails_with_the_known_names(tmp_path, capsys):
    assert run("fetch", "cifar", "--data-dir", str(tmp_path)) == 1
    assert "Expected one of:" in capsys.readouterr().err


def test_import_verifies_then_copies(toy, tmp_path, capsys, files_in):
    source = tmp_path / "toy-download.bin"
    source.write_bytes(toy.body)
    cache_dir = tmp_path / "cache"
    assert run("import", "toy", str(source), "--data-dir", str(cache_dir)) == 0
    assert "verified and copied" in capsys.readouterr().out
    assert (cache_dir / "toy" / "toy.bin").read_bytes() == toy.body


def test_import_refuses_a_wrong_file(toy, tmp_path, capsys):
    source = tmp_path / "toy-download.bin"
    source.write_bytes(b"an HTML error page")
    cache_dir = tmp_path / "cache"
    assert run("import", "toy", str(source), "--data-dir", str(cache_dir)) == 1
    err = capsys.readouterr().err
    assert f"sha256 should be {toy.entry.checksum}" in err and "nothing was copied" in err
    assert not (cache_dir / "toy" / "toy.bin").exists()


def test_import_the_real_rugged_file(rugged_dir, tmp_path, capsys):
    source = rugged_dir / "rugged_data.csv"
    assert run("import", "rugged", str(source), "--data-dir", str(tmp_path)) == 0
    assert (tmp_path / "rugged_data.csv").read_bytes() == source.read_bytes()
    capsys.readouterr()
    assert run("list", "--data-dir", str(tmp_path)) == 0
    assert status_lines(capsys.readouterr().out)["rugged"][0] == "cached"


def test_data_without_command_prints_help(capsys):
    assert run() == 2
    assert "fetch" in capsys.readouterr().out


def test_fetch_requires_a_name(capsys):
    with pytest.raises(SystemExit):
        run("fetch")

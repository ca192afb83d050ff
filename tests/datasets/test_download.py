"""The real download code against a local HTTP server: all or nothing in the cache."""

import socket

import pytest

from vilab.datasets import DatasetUnavailable, DownloadError, fetch, import_file
from vilab.datasets.download import obtain


def test_download_success_stores_verified_file_and_no_temporaries(toy, server, tmp_path, files_in):
    server.serve(toy.canonical_path, toy.body)
    path, source = obtain("toy", tmp_path, progress=False)
    assert path == tmp_path / "toy" / "toy.bin"
    assert path.read_bytes() == toy.body
    assert path.stat().st_mode & 0o777 == 0o644  # not the temporary file's private mode
    assert source == f"download:{toy.urls[0]}"
    assert server.requests == [toy.canonical_path]
    assert files_in(tmp_path) == ["toy/toy.bin"]


def test_progress_bar_can_be_on(toy, server, tmp_path, files_in):
    server.serve(toy.canonical_path, toy.body)
    assert fetch("toy", tmp_path, progress=True).read_bytes() == toy.body
    assert files_in(tmp_path) == ["toy/toy.bin"]


def test_checksum_mismatch_leaves_nothing_and_explains(toy, server, tmp_path, files_in):
    server.serve(toy.canonical_path, b"not the file")
    server.serve(toy.mirror_path, toy.body[:-1] + b"X")
    with pytest.raises(DownloadError) as caught:
        fetch("toy", tmp_path, progress=False)
    message = str(caught.value)
    assert "'toy'" in message and "toy.bin" in message
    assert f"{toy.urls[0]}: sha256 mismatch" in message
    assert f"{toy.urls[1]}: sha256 mismatch" in message
    assert "vilab data import toy" in message
    assert str(tmp_path / "toy" / "toy.bin") in message
    assert files_in(tmp_path) == []


def test_404_on_canonical_falls_back_to_mirror(toy, server, tmp_path, files_in):
    server.serve(toy.mirror_path, toy.body)
    path, source = obtain("toy", tmp_path, progress=False)
    assert source == f"download:{toy.urls[1]}"
    assert server.requests == [toy.canonical_path, toy.mirror_path]
    assert path.read_bytes() == toy.body
    assert files_in(tmp_path) == ["toy/toy.bin"]


def test_http_errors_everywhere_name_each_url(toy, server, tmp_path, files_in):
    with pytest.raises(DownloadError) as caught:
        fetch("toy", tmp_path, progress=False)
    assert str(caught.value).count("HTTP 404") == 2
    assert files_in(tmp_path) == []


def test_connection_dropped_mid_file_leaves_nothing(toy, server, tmp_path, files_in):
    server.serve(toy.canonical_path, toy.body, cut=70_000)
    server.serve(toy.mirror_path, toy.body, cut=1_000)
    with pytest.raises(DownloadError, match=r"connection closed after 70,000 of 204,800 bytes"):
        fetch("toy", tmp_path, progress=False)
    assert files_in(tmp_path) == []


def test_unreachable_host_is_reported(toy, tmp_path, files_in, register, offline_registry):
    register("toy", toy.body, [f"http://127.0.0.1:{offline_registry}/toy.bin"])
    with pytest.raises(DownloadError, match="could not connect"):
        fetch("toy", tmp_path, progress=False)
    assert files_in(tmp_path) == []


def test_silent_server_times_out(toy, tmp_path, files_in, register):
    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        register("toy", toy.body, [f"http://127.0.0.1:{silent.getsockname()[1]}/toy.bin"])
        with pytest.raises(DownloadError, match="timed out"):
            fetch("toy", tmp_path, progress=False, timeout=0.3)
    assert files_in(tmp_path) == []


def test_cached_file_is_used_without_network(toy, server, tmp_path, files_in):
    server.serve(toy.canonical_path, toy.body)
    (tmp_path / "toy").mkdir()
    (tmp_path / "toy" / "toy.bin").write_bytes(toy.body)
    path, source = obtain("toy", tmp_path, progress=False)
    assert source == f"cache:{path}"
    assert server.requests == []
    assert files_in(tmp_path) == ["toy/toy.bin"]


def test_corrupt_cached_file_is_replaced_by_download(toy, server, tmp_path, files_in):
    server.serve(toy.canonical_path, toy.body)
    (tmp_path / "toy").mkdir()
    (tmp_path / "toy" / "toy.bin").write_bytes(b"half a file")
    assert fetch("toy", tmp_path, progress=False).read_bytes() == toy.body
    assert files_in(tmp_path) == ["toy/toy.bin"]


def test_download_false_explains_instead_of_going_online(toy, server, tmp_path):
    server.serve(toy.canonical_path, toy.body)
    with pytest.raises(DatasetUnavailable, match="download=False") as caught:
        obtain("toy", tmp_path, download_missing=False)
    assert "vilab data import toy" in str(caught.value)
    assert server.requests == []


def test_import_file_verifies_then_copies(toy, tmp_path, files_in):
    outside = tmp_path / "downloads"
    outside.mkdir()
    (outside / "toy.bin").write_bytes(toy.body)
    cache_dir = tmp_path / "cache"
    assert import_file("toy", outside, cache_dir).read_bytes() == toy.body  # a folder works
    assert files_in(cache_dir) == ["toy/toy.bin"]

    (outside / "toy.bin").write_bytes(b"something else")
    with pytest.raises(ValueError, match="nothing was copied"):
        import_file("toy", outside / "toy.bin", tmp_path / "other")
    assert not (tmp_path / "other").exists() or files_in(tmp_path / "other") == []
    with pytest.raises(FileNotFoundError, match="no such file"):
        import_file("toy", outside / "missing.bin", cache_dir)

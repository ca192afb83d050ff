"""Which cache folder is used, and how files are looked up and checked."""

import pytest

from vilab.datasets import cache, data_dir, file_status


def test_argument_beats_env_var_beats_default(monkeypatch, tmp_path):
    monkeypatch.setenv("VILAB_DATA_DIR", str(tmp_path / "from-env"))
    assert data_dir(tmp_path / "from-arg") == tmp_path / "from-arg"
    assert data_dir() == tmp_path / "from-env"
    monkeypatch.delenv("VILAB_DATA_DIR")
    assert data_dir() == cache.default_data_dir()


def test_relative_env_var_is_resolved_against_working_dir(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VILAB_DATA_DIR", "../shared/data")
    assert data_dir() == (tmp_path / ".." / "shared" / "data").resolve()


def test_default_is_checkout_data_folder_else_user_cache(monkeypatch, tmp_path):
    checkout = tmp_path / "checkout"
    (checkout / "data").mkdir(parents=True)
    (checkout / "pyproject.toml").write_text("")
    monkeypatch.setattr(cache, "_SOURCE_ROOT", checkout)
    assert cache.default_data_dir() == checkout / "data"

    monkeypatch.setattr(cache, "_SOURCE_ROOT", tmp_path / "site-packages")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.default_data_dir() == tmp_path / "home" / ".cache" / "vilab"


def test_repo_checkout_uses_its_data_folder():
    root = cache._SOURCE_ROOT
    if not (root / "pyproject.toml").is_file():
        pytest.skip(f"vilab is not running from a source checkout ({root})")
    assert cache.default_data_dir() == root / "data"


def test_bad_data_dir_type_is_explained():
    with pytest.raises(TypeError, match="Expected data_dir to be a str or pathlib.Path, got int"):
        data_dir(3)


def test_unknown_names_list_the_known_ones():
    with pytest.raises(ValueError, match="Expected one of: .*mnist-test-images.*rugged"):
        cache.get_entry("rugged.csv")
    with pytest.raises(ValueError, match="mnist-train"):
        cache.expand_names("mnist-validation")
    assert [e.name for e in cache.expand_names("mnist-test")] == [
        "mnist-test-images",
        "mnist-test-labels",
    ]


def test_registry_layout_matches_shared_data_folder():
    assert cache.REGISTRY["rugged"].relpath == "rugged_data.csv"
    assert cache.REGISTRY["rugged"].algo == "sha256"
    for name in cache.GROUPS["mnist"]:
        entry = cache.REGISTRY[name]
        assert entry.relpath.startswith("MNIST/raw/") and entry.algo == "md5"


def test_file_status_cached_missing_corrupt(toy, tmp_path):
    assert file_status(toy.entry, tmp_path) == "missing"
    (tmp_path / "toy").mkdir()
    (tmp_path / "toy" / "toy.bin").write_bytes(toy.body)
    assert file_status(toy.entry, tmp_path) == "cached"
    (tmp_path / "toy" / "toy.bin").write_bytes(toy.body[:100])
    assert file_status(toy.entry, tmp_path) == "corrupt"

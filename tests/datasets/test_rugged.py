"""The ruggedness data: the parser on small inputs, the loader on the real file."""

import numpy as np
import pytest
import torch

from vilab.datasets import DatasetUnavailable, load_rugged, load_rugged_table
from vilab.datasets.rugged import parse_rugged_csv

SMALL_CSV = (
    "isocode,country,rugged,rgdppc_2000,cont_africa\n"
    '"CIV","C\xf4te d\'Ivoire",0.224,1575.628,1\n'
    '"ABW","Aruba",0.462,,0\n'
)


def test_parser_keeps_text_and_turns_empty_cells_into_nan():
    table = parse_rugged_csv(SMALL_CSV)
    assert list(table["country"]) == ["C\xf4te d'Ivoire", "Aruba"]
    assert table["rugged"].dtype == np.float64
    assert table["rgdppc_2000"][0] == pytest.approx(1575.628)
    assert np.isnan(table["rgdppc_2000"][1])


def test_parser_rejects_ragged_rows_with_a_fix():
    with pytest.raises(ValueError, match=r"line\(s\) \[4\].*vilab data fetch rugged"):
        parse_rugged_csv(SMALL_CSV + '"XXX","Nowhere",1.0\n')


def test_missing_file_without_download_says_what_to_do(tmp_path, files_in):
    with pytest.raises(DatasetUnavailable) as caught:
        load_rugged(data_dir=tmp_path, download=False)
    message = str(caught.value)
    assert "vilab data import rugged" in message
    assert str(tmp_path / "rugged_data.csv") in message
    assert files_in(tmp_path) == []


def test_corrupt_file_is_not_trusted(tmp_path):
    (tmp_path / "rugged_data.csv").write_text(SMALL_CSV, encoding="iso-8859-1")
    with pytest.raises(DatasetUnavailable, match="fails its checksum"):
        load_rugged(data_dir=tmp_path, download=False)


def test_offline_download_attempt_leaves_no_file(tmp_path, files_in):
    with pytest.raises(DatasetUnavailable, match="could not connect"):
        load_rugged(data_dir=tmp_path)
    assert files_in(tmp_path) == []


def test_course_view_has_170_countries_49_in_africa(rugged_dir):
    data = load_rugged(download=False)
    assert len(data) == 170 and len(data.country) == 170
    for column in (data.cont_africa, data.rugged, data.log_gdp):
        assert column.dtype == torch.float32 and column.shape == (170,)
        assert torch.isfinite(column).all()
    assert int(data.cont_africa.sum()) == 49
    assert set(data.cont_africa.tolist()) == {0.0, 1.0}
    assert (data.rugged >= 0).all()
    assert 5.0 < data.log_gdp.min() and data.log_gdp.max() < 12.0
    assert data.x.shape == (170, 2) and torch.equal(data.y, data.log_gdp)
    assert data.source == f"cache:{rugged_dir / 'rugged_data.csv'}"


def test_country_names_are_decoded_as_latin1(rugged_dir):
    data = load_rugged(download=False)
    assert "C\xf4te d'Ivoire" in data.country


def test_log_gdp_matches_raw_column(rugged_dir):
    data = load_rugged(download=False)
    index = data.country.index("Switzerland")
    raw = data.table["rgdppc_2000"][list(data.table["country"]).index("Switzerland")]
    assert data.log_gdp[index].item() == pytest.approx(np.log(raw), rel=1e-6)


def test_full_table_has_234_rows_and_51_columns(rugged_dir):
    table = load_rugged_table(download=False)
    assert len(table) == 51
    assert {len(values) for values in table.values()} == {234}
    assert np.isnan(table["rgdppc_2000"]).sum() == 234 - 170


def test_data_dir_argument_beats_env_var(rugged_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("VILAB_DATA_DIR", str(tmp_path))
    assert len(load_rugged(data_dir=rugged_dir, download=False)) == 170

import numpy as np
import pytest
from astropy import units as u

from gammarules.data import DataStore, Observation
from gammarules.errors import DataFormatError

HDU_COLUMNS = ["OBS_ID", "HDU_TYPE", "HDU_CLASS", "FILE_DIR", "FILE_NAME", "HDU_NAME"]


def test_from_dir(dl3):
    store = DataStore.from_dir(dl3.store())
    assert store.obs_ids == [1, 2, 3]
    assert len(store.obs_table) == 3 and len(store.hdu_table) == 6
    assert store.obs_table.meta["MJDREFI"] == 55000
    assert store.hdu_index_path.name == "hdu-index.fits.gz"
    obs = store.obs(2)
    assert isinstance(obs, Observation) and obs.obs_id == 2
    assert obs.locations["events"].path == dl3.root / "data" / "run_000002.fits.gz"
    assert obs.locations["gti"].hdu_name == "GTI"
    assert len(obs.events) == dl3.runs[2]["n_events"]
    assert obs.meta["OBJECT"] == "Crab Nebula" and obs.meta["ZEN_PNT"] == 45.0


def test_uncompressed_and_explicit_index_names(dl3, tmp_path):
    directory = dl3.store(suffix=".fits")
    store = DataStore.from_dir(directory)
    assert store.hdu_index_path.name == "hdu-index.fits"
    (directory / "hdu-index.fits").rename(directory / "my-hdus.fits")
    (directory / "obs-index.fits").rename(tmp_path / "my-obs.fits")
    store = DataStore.from_dir(
        directory, hdu_index="my-hdus.fits", obs_index=tmp_path / "my-obs.fits"
    )
    assert store.obs_ids == [1, 2, 3]
    assert len(store.obs(3).events) == dl3.runs[3]["n_events"]


def test_paths_relative_to_index_directory(dl3):
    # index files in index/gps, data two levels up, as in CTA 1DC
    directory = dl3.store(index_dir="index/gps", file_dir="../../events")
    assert (dl3.root / "events" / "run_000001.fits.gz").is_file()
    store = DataStore.from_dir(directory)
    assert store.obs(1).locations["events"].path == dl3.root / "events" / "run_000001.fits.gz"
    assert len(store.obs(1).events) == dl3.runs[1]["n_events"]


def test_base_dir_keyword(dl3, tmp_path):
    data_root = tmp_path / "archive"
    directory = dl3.store(index_dir="archive", hdu_header={"BASE_DIR": str(data_root)})
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    for name in ("hdu-index.fits.gz", "obs-index.fits.gz"):
        (directory / name).rename(moved / name)
    store = DataStore.from_dir(moved)
    assert store.obs(3).locations["events"].path == data_root / "data" / "run_000003.fits.gz"
    assert len(store.obs(3).events) == dl3.runs[3]["n_events"]


def test_absolute_file_dir(dl3, tmp_path):
    directory = dl3.store()
    data_dir = str(directory / "data")
    rows = [HDU_COLUMNS, [3, "events", "events", data_dir, "run_000003.fits.gz", "EVENTS"]]
    dl3.write_index("moved/hdu-index.fits", rows, "HDU_INDEX")
    (directory / "obs-index.fits.gz").rename(tmp_path / "moved" / "obs-index.fits.gz")
    store = DataStore.from_dir(tmp_path / "moved")
    assert store.obs(3).locations["events"].path == directory / "data" / "run_000003.fits.gz"
    assert len(store.obs(3).events) == dl3.runs[3]["n_events"]


def test_get_observations_and_select(dl3):
    store = DataStore.from_dir(dl3.store())
    observations = store.get_observations([3, 1])
    assert [obs.obs_id for obs in observations] == [3, 1]
    assert [obs.obs_id for obs in store.get_observations()] == [1, 2, 3]
    assert store.select(target="CRAB") == [1, 2]
    assert store.select(cone=((83.633, 22.014), 0.6 * u.deg)) == [1, 2]
    assert store.select(ZEN_PNT=(0, 40)) == [1, 3]
    with pytest.raises(DataFormatError, match="obs-index.fits.gz.*no column 'MUONEFF'"):
        store.select(MUONEFF=(0.5, 1))


def test_obs_id_not_in_index(dl3):
    store = DataStore.from_dir(dl3.store())
    with pytest.raises(DataFormatError, match="obs id 99 is not in the observation index") as info:
        store.obs(99)
    assert str(store.obs_index_path) in str(info.value)


def test_missing_directory_and_index_files(dl3, tmp_path):
    with pytest.raises(DataFormatError, match="data store directory not found"):
        DataStore.from_dir(tmp_path / "nowhere")
    directory = dl3.store()
    (directory / "obs-index.fits.gz").unlink()
    with pytest.raises(DataFormatError, match="no observation index.*obs-index.fits.gz"):
        DataStore.from_dir(directory)
    with pytest.raises(DataFormatError, match="no HDU index file; expected custom.fits"):
        DataStore.from_dir(directory, hdu_index="custom.fits")


def test_file_listed_but_missing(dl3):
    directory = dl3.store()
    missing = directory / "data" / "run_000002.fits.gz"
    missing.unlink()
    obs = DataStore.from_dir(directory).obs(2)
    with pytest.raises(DataFormatError, match="file not found") as info:
        _ = obs.events
    message = str(info.value)
    assert str(missing) in message and "hdu-index.fits.gz" in message
    assert "'events'" in message and "obs 2" in message


def test_corrupt_gzip_data_file(dl3):
    directory = dl3.store()
    path = directory / "data" / "run_000001.fits.gz"
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    obs = DataStore.from_dir(directory).obs(1)
    with pytest.raises(DataFormatError, match="run_000001.fits.gz.*corrupt or truncated"):
        _ = obs.events
    with pytest.raises(DataFormatError, match="run_000001.fits.gz.*corrupt or truncated"):
        _ = obs.gti


def test_corrupt_index_file(dl3):
    directory = dl3.store()
    path = directory / "hdu-index.fits.gz"
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DataFormatError, match="hdu-index.fits.gz.*corrupt or truncated"):
        DataStore.from_dir(directory)


def test_bad_index_tables(dl3):
    rows = [HDU_COLUMNS[:-1], [1, "events", "events", "data", "run_000001.fits.gz"]]
    directory = dl3.store()
    dl3.write_index("hdu-index.fits.gz", rows, "HDU_INDEX")
    with pytest.raises(DataFormatError, match=r"hdu-index.fits.gz.*missing column.*HDU_NAME"):
        DataStore.from_dir(directory)

    rows = [HDU_COLUMNS, [1, "events", "events", "data", "a.fits", "EVENTS"]]
    rows.append([1, "events", "events", "data", "b.fits", "EVENTS"])
    dl3.write_index("hdu-index.fits.gz", rows, "HDU_INDEX")
    with pytest.raises(DataFormatError, match="obs 1 has more than one 'events' HDU"):
        DataStore.from_dir(directory)

    obs_rows = dl3.obs_rows(dl3.runs)
    dl3.write_index("hdu-index.fits.gz", [HDU_COLUMNS], "HDU_INDEX")
    dl3.write_index("obs-index.fits.gz", obs_rows + [obs_rows[1]], "OBS_INDEX")
    with pytest.raises(DataFormatError, match=r"obs ids \[1\] appear more than once"):
        DataStore.from_dir(directory)


def test_index_in_first_table_when_extname_differs(dl3):
    # MAGIC writes its HDU index with EXTNAME = 'OBS_INDEX'
    directory = dl3.store()
    rows = [HDU_COLUMNS, [2, "events", "events", "data", "run_000002.fits.gz", "EVENTS"]]
    dl3.write_index("hdu-index.fits.gz", rows, "OBS_INDEX")
    store = DataStore.from_dir(directory)
    assert sorted(store.obs(2).locations) == ["events"]
    assert np.all(store.obs(2).events.met > 0)

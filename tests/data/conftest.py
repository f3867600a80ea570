"""Tiny synthetic GADF data stores written into pytest's tmp_path."""

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

# Epoch MJD 55000.5 TT; elapsed times in seconds.
TIME_REF = {"MJDREFI": 55000, "MJDREFF": 0.5, "TIMESYS": "TT", "TIMEUNIT": "s", "TIMEREF": "LOCAL"}

# obs_id -> run description used by `SyntheticDL3.store`.
RUNS = {
    1: dict(
        pointing=(83.63, 22.51),
        target=("Crab Nebula", "crab", 83.633, 22.014),
        gti=([1000.0, 1600.0], [1500.0, 2800.0]),
        ontime=1700.0,
        livetime=1530.0,
        n_events=300,
        zenith=30.0,
    ),
    2: dict(
        pointing=(83.63, 21.51),
        target=("Crab Nebula", "crab", 83.633, 22.014),
        gti=([5000.0], [6800.0]),
        ontime=1800.0,
        livetime=1710.0,
        n_events=200,
        zenith=45.0,
    ),
    3: dict(
        pointing=(228.61, -59.02),
        target=("MSH 15-52", "msh1552", 228.529, -59.157),
        gti=([90000.0], [91800.0]),
        ontime=1800.0,
        livetime=1620.0,
        n_events=100,
        zenith=38.0,
    ),
}


def _apply(header, overrides):
    for key, value in (overrides or {}).items():
        if value is None:
            header.remove(key, ignore_missing=True)
        else:
            header[key] = value
    return header


class SyntheticDL3:
    """Writes GADF files: events, GTI and index tables, with controllable defects."""

    runs = RUNS

    def __init__(self, root):
        self.root = root

    def events_table(self, obs_id, run=None):
        run = self.runs[obs_id] if run is None else run
        rng = np.random.default_rng(obs_id)
        n = run["n_events"]
        starts, stops = run["gti"]
        time = np.sort(rng.uniform(starts[0], stops[-1], n))
        ra0, dec0 = run["pointing"]
        dec = dec0 + rng.uniform(-2.5, 2.5, n)
        ra = ra0 + rng.uniform(-2.5, 2.5, n) / np.cos(np.radians(dec0))
        return Table(
            {
                "EVENT_ID": np.arange(1, n + 1, dtype=np.int64),
                "TIME": time,
                "RA": ra.astype(np.float32),
                "DEC": dec.astype(np.float32),
                "ENERGY": (10 ** rng.uniform(-1, 2, n)).astype(np.float32),
                "MULTIP": rng.integers(2, 5, n).astype(np.int16),
            },
            units={"TIME": "s", "RA": "deg", "DEC": "deg", "ENERGY": "TeV"},
        )

    def events_hdu(self, obs_id, run=None, header=None, drop=(), table=None):
        run = self.runs[obs_id] if run is None else run
        table = self.events_table(obs_id, run) if table is None else table
        table.remove_columns(list(drop))
        starts, stops = run["gti"]
        name, _, ra_obj, dec_obj = run["target"]
        hdu = fits.BinTableHDU(table, name="EVENTS")
        hdu.header.update(TIME_REF)
        hdu.header.update(
            {
                "HDUCLASS": "GADF",
                "HDUCLAS1": "EVENTS",
                "OBS_ID": obs_id,
                "TSTART": starts[0],
                "TSTOP": stops[-1],
                "ONTIME": run["ontime"],
                "LIVETIME": run["livetime"],
                "DEADC": run["livetime"] / run["ontime"],
                "RA_PNT": run["pointing"][0],
                "DEC_PNT": run["pointing"][1],
                "OBJECT": name,
                "RA_OBJ": ra_obj,
                "DEC_OBJ": dec_obj,
                "GEOLON": 16.5,
                "GEOLAT": -23.27,
                "ALTITUDE": 1835.0,
            }
        )
        _apply(hdu.header, header)
        return hdu

    @staticmethod
    def gti_hdu(starts, stops, header=None, name="GTI"):
        hdu = fits.BinTableHDU(
            Table({"START": starts, "STOP": stops}, units={"START": "s", "STOP": "s"}), name=name
        )
        hdu.header.update(TIME_REF)
        _apply(hdu.header, header)
        return hdu

    def write_file(self, relpath, hdus):
        path = self.root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        fits.HDUList([fits.PrimaryHDU(), *hdus]).writeto(path, overwrite=True)
        return path

    def write_index(self, relpath, rows, extname, header=None):
        hdu = fits.BinTableHDU(Table(rows=rows[1:], names=rows[0]), name=extname)
        _apply(hdu.header, header)
        return self.write_file(relpath, [hdu])

    def obs_rows(self, runs):
        names = ["OBS_ID", "RA_PNT", "DEC_PNT", "ZEN_PNT", "OBJECT", "TARGET_TAG"]
        names += ["ONTIME", "LIVETIME", "TSTART", "TSTOP", "EVENT_COUNT"]
        rows = [names]
        for obs_id, run in runs.items():
            starts, stops = run["gti"]
            ra, dec = run["pointing"]
            name, tag = run["target"][:2]
            rows.append(
                (obs_id, ra, dec, run["zenith"], name, tag, run["ontime"], run["livetime"])
                + (starts[0], stops[-1], run["n_events"])
            )
        return rows

    def store(
        self,
        runs=None,
        file_dir="data",
        suffix=".fits.gz",
        index_dir=".",
        hdu_header=None,
        obs_header=None,
        events_header=None,
        extra_rows=(),
        with_gti=True,
    ):
        """Write a data store; return the directory holding the index files."""
        runs = RUNS if runs is None else runs
        hdu_rows = [["OBS_ID", "HDU_TYPE", "HDU_CLASS", "FILE_DIR", "FILE_NAME", "HDU_NAME"]]
        for obs_id, run in runs.items():
            name = f"run_{obs_id:06d}{suffix}"
            hdus = [self.events_hdu(obs_id, run, header=events_header)]
            hdus.append(self.gti_hdu(*run["gti"]))
            self.write_file(f"{index_dir}/{file_dir}/{name}", hdus)
            hdu_rows.append([obs_id, "events", "events", file_dir, name, "EVENTS"])
            if with_gti:
                hdu_rows.append([obs_id, "gti", "gti", file_dir, name, "GTI"])
        hdu_rows += [list(row) for row in extra_rows]
        self.write_index(f"{index_dir}/hdu-index{suffix}", hdu_rows, "HDU_INDEX", hdu_header)
        obs_header = {**TIME_REF, **(obs_header or {})}
        self.write_index(
            f"{index_dir}/obs-index{suffix}", self.obs_rows(runs), "OBS_INDEX", obs_header
        )
        return self.root / index_dir


@pytest.fixture
def dl3(tmp_path):
    return SyntheticDL3(tmp_path)

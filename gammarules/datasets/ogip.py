"""OGIP spectral files for ON/OFF spectrum datasets: PHA (type I), BKG, ARF and RMF.

Formats: OGIP/92-007 (PHA, BKG spectra) and CAL/GEN/92-002 (ARF, RMF).

What is written by `write_ogip` (energies in keV, channels numbered from 0 and declared with
TLMIN, as Gammapy and the joint-Crab files do):

- ``pha_{name}.fits`` SPECTRUM: CHANNEL, COUNTS, QUALITY (0 in the safe range, 1 outside),
  BACKSCAL (= acceptance), AREASCAL (= 1); EXPOSURE = livetime; BACKFILE, RESPFILE,
  ANCRFILE name the three files below; OBS_ID if ``meta["obs_id"]`` is an integer;
  followed by an EBOUNDS HDU (as in the RMF), which Gammapy expects.
- ``bkg_{name}.fits`` SPECTRUM: CHANNEL, COUNTS (= counts_off), QUALITY, BACKSCAL
  (= acceptance_off), AREASCAL; same EXPOSURE.
- ``arf_{name}.fits`` SPECRESP: ENERG_LO, ENERG_HI, SPECRESP = exposure / livetime [cm2].
- ``rmf_{name}.fits`` MATRIX: ENERG_LO, ENERG_HI, N_GRP and the variable-length F_CHAN,
  N_CHAN, MATRIX (float32) of the runs of non-zero elements of each edisp row; EBOUNDS:
  CHANNEL, E_MIN, E_MAX.

How `read_ogip` interprets the files:

- channel numbers: the PHA CHANNEL column counts from its TLMIN if given, else from the first
  EBOUNDS channel; F_CHAN counts from its TLMIN, else from 1 (the OGIP default).
- BACKSCAL, AREASCAL and QUALITY may be columns or keywords (defaults 1, 1 and 0).
- alpha = (EXPOSURE BACKSCAL AREASCAL)_on / (EXPOSURE BACKSCAL AREASCAL)_off, stored as
  acceptance = BACKSCAL_on and acceptance_off = (BACKSCAL AREASCAL EXPOSURE)_off /
  EXPOSURE_on. An ON spectrum with AREASCAL != 1 (which would also scale the source) is
  rejected.
- mask_safe = QUALITY == 0; exposure = SPECRESP * EXPOSURE_on; livetime = EXPOSURE_on.
- The RMF must be a redistribution matrix (HDUCLAS3 absent or "REDIST"); a GROUPING
  column is ignored (channels are used ungrouped); only type I (one spectrum) files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.io import fits

from gammarules.data.fits_io import open_fits
from gammarules.datasets.spectrum import SpectrumDatasetOnOff
from gammarules.errors import DataFormatError, GammarulesError
from gammarules.maps import MapAxis

__all__ = ["read_ogip", "write_ogip"]

FIRST_CHANNEL = 0


# ---------------------------------------------------------------- writing


def _ogip_header(**cards):
    header = fits.Header()
    header["HDUCLASS"] = "OGIP"
    for key, value in cards.items():
        header[key] = value
    return header


def _channel_columns(counts, quality, backscal):
    channels = FIRST_CHANNEL + np.arange(counts.size, dtype=np.int32)
    integral = np.all(counts == np.round(counts))
    return [
        fits.Column("CHANNEL", "J", array=channels),
        fits.Column(
            "COUNTS", "J" if integral else "D", array=np.round(counts) if integral else counts
        ),
        fits.Column("QUALITY", "I", array=quality.astype(np.int16)),
        fits.Column("BACKSCAL", "D", array=backscal),
        fits.Column("AREASCAL", "D", array=np.ones(counts.size)),
    ], bool(integral)


def _spectrum_hdu(counts, quality, backscal, livetime, hduclas2, obs_id, **keywords):
    columns, integral = _channel_columns(counts, quality, backscal)
    header = _ogip_header(
        HDUCLAS1="SPECTRUM",
        HDUCLAS2=hduclas2,
        HDUCLAS3="COUNT",
        HDUCLAS4="TYPE:I",
        HDUVERS="1.2.1",
        CHANTYPE="PHA",
        DETCHANS=counts.size,
        TELESCOP="UNKNOWN",
        INSTRUME="UNKNOWN",
        FILTER="NONE",
        EXPOSURE=livetime,
        POISSERR=integral,
        CORRFILE="none",
        CORRSCAL=1.0,
        **keywords,
    )
    if obs_id is not None:
        header["OBS_ID"] = obs_id
    hdu = fits.BinTableHDU.from_columns(columns, header=header, name="SPECTRUM")
    hdu.header["TLMIN1"] = FIRST_CHANNEL
    hdu.header["TLMAX1"] = FIRST_CHANNEL + counts.size - 1
    return hdu


def _ebounds_hdu(axis):
    edges = axis.edges.to_value("keV")
    columns = [
        fits.Column("CHANNEL", "J", array=FIRST_CHANNEL + np.arange(axis.nbin, dtype=np.int32)),
        fits.Column("E_MIN", "D", unit="keV", array=edges[:-1]),
        fits.Column("E_MAX", "D", unit="keV", array=edges[1:]),
    ]
    header = _ogip_header(
        HDUCLAS1="RESPONSE", HDUCLAS2="EBOUNDS", HDUVERS="1.2.0", CHANTYPE="PHA", DETCHANS=axis.nbin
    )
    return fits.BinTableHDU.from_columns(columns, header=header, name="EBOUNDS")


def _true_energy_columns(axis):
    edges = axis.edges.to_value("keV")
    return [
        fits.Column("ENERG_LO", "D", unit="keV", array=edges[:-1]),
        fits.Column("ENERG_HI", "D", unit="keV", array=edges[1:]),
    ]


def _matrix_groups(row):
    """First channel index, length and values of each run of non-zero elements."""
    nonzero = np.concatenate([[False], row != 0, [False]])
    starts = np.flatnonzero(~nonzero[:-1] & nonzero[1:])
    stops = np.flatnonzero(nonzero[:-1] & ~nonzero[1:])
    values = np.concatenate([row[a:b] for a, b in zip(starts, stops, strict=True)] or [[]])
    return starts, stops - starts, values.astype(np.float32)


def _variable_length(arrays, dtype):
    column = np.empty(len(arrays), dtype=object)
    for i, array in enumerate(arrays):
        column[i] = np.asarray(array, dtype=dtype)
    return column


def _rmf_hdu(dataset):
    groups = [_matrix_groups(row) for row in dataset.edisp.astype(np.float32)]
    starts, lengths, values = zip(*groups, strict=True)
    n_grp = np.array([len(start) for start in starts], dtype=np.int32)
    columns = _true_energy_columns(dataset.energy_axis_true) + [
        fits.Column("N_GRP", "J", array=n_grp),
        fits.Column(
            "F_CHAN", "PJ()", array=_variable_length([x + FIRST_CHANNEL for x in starts], np.int32)
        ),
        fits.Column("N_CHAN", "PJ()", array=_variable_length(lengths, np.int32)),
        fits.Column("MATRIX", "PE()", array=_variable_length(values, np.float32)),
    ]
    header = _ogip_header(
        HDUCLAS1="RESPONSE",
        HDUCLAS2="RSP_MATRIX",
        HDUCLAS3="REDIST",
        HDUVERS="1.3.0",
        CHANTYPE="PHA",
        DETCHANS=dataset.energy_axis.nbin,
        NUMGRP=int(n_grp.sum()),
        NUMELT=int(sum(v.size for v in values)),
        LO_THRES=0.0,
        TELESCOP="UNKNOWN",
        INSTRUME="UNKNOWN",
        FILTER="NONE",
    )
    hdu = fits.BinTableHDU.from_columns(columns, header=header, name="MATRIX")
    hdu.header["TLMIN4"] = FIRST_CHANNEL
    hdu.header["TLMAX4"] = FIRST_CHANNEL + dataset.energy_axis.nbin - 1
    return hdu


def _arf_hdu(dataset):
    livetime = dataset.livetime.to_value("s")
    if livetime <= 0:
        raise GammarulesError(f"dataset '{dataset.name}': livetime must be > 0 to write an ARF")
    columns = _true_energy_columns(dataset.energy_axis_true) + [
        fits.Column(
            "SPECRESP", "D", unit="cm2", array=dataset.exposure.to_value("cm2 s") / livetime
        )
    ]
    header = _ogip_header(HDUCLAS1="RESPONSE", HDUCLAS2="SPECRESP", HDUVERS="1.1.0")
    return fits.BinTableHDU.from_columns(columns, header=header, name="SPECRESP")


def write_ogip(dataset, outdir, overwrite=False):
    """Write ``dataset`` (a `SpectrumDatasetOnOff`) as OGIP files into ``outdir``.

    Returns the path of the PHA file; the others are named in its header.
    """
    if not isinstance(dataset, SpectrumDatasetOnOff):
        raise GammarulesError(f"write_ogip: need a SpectrumDatasetOnOff, got {type(dataset)}")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    names = {kind: f"{kind}_{dataset.name}.fits" for kind in ("pha", "bkg", "arf", "rmf")}
    livetime = dataset.livetime.to_value("s")
    quality = np.where(dataset.mask_safe, 0, 1)
    obs_id = dataset.meta.get("obs_id")
    obs_id = obs_id if isinstance(obs_id, int | np.integer) else None

    pha = _spectrum_hdu(
        dataset.counts,
        quality,
        dataset.acceptance,
        livetime,
        "TOTAL",
        obs_id,
        BACKFILE=names["bkg"],
        RESPFILE=names["rmf"],
        ANCRFILE=names["arf"],
    )
    bkg = _spectrum_hdu(
        dataset.counts_off, quality, dataset.acceptance_off, livetime, "BKG", obs_id
    )
    ebounds = _ebounds_hdu(dataset.energy_axis)
    hdus = {
        "pha": [pha, ebounds],
        "bkg": [bkg, ebounds],
        "arf": [_arf_hdu(dataset)],
        "rmf": [_rmf_hdu(dataset), ebounds],
    }
    for kind, extensions in hdus.items():
        fits.HDUList([fits.PrimaryHDU(), *extensions]).writeto(
            outdir / names[kind], overwrite=overwrite
        )
    return outdir / names["pha"]


# ---------------------------------------------------------------- reading


def _open(path, role):
    with open_fits(path, expected=f"an OGIP {role} file") as hdul:
        return [(hdu.name, hdu.header.copy(), hdu.data) for hdu in hdul]


class _Table:
    """One binary-table HDU of an OGIP file, with errors naming file, HDU and column."""

    def __init__(self, path, role, names):
        hdus = _open(path, role)
        found = [h for h in hdus if h[0] in names]
        if not found:
            raise DataFormatError(
                f"{path}: {role} file has no HDU named {' or '.join(names)} "
                f"(found {[h[0] for h in hdus]})"
            )
        self.name, self.header, self.data = found[0]
        self.path = path
        self.where = f"{path}[{self.name}]"
        if not isinstance(self.data, fits.FITS_rec):
            raise DataFormatError(f"{self.where}: expected a binary table")

    def column(self, name):
        if name not in self.data.columns.names:
            raise DataFormatError(f"{self.where}: column '{name}' is missing")
        return self.data[name]

    def keyword(self, name):
        if name not in self.header:
            raise DataFormatError(f"{self.where}: keyword '{name}' is missing")
        return self.header[name]

    def column_or_keyword(self, name, default):
        if name in self.data.columns.names:
            return np.asarray(self.data[name], dtype=float)
        return np.full(len(self.data), float(self.header.get(name, default)))

    def tlmin(self, column, default):
        index = self.data.columns.names.index(column) + 1
        return int(self.header.get(f"TLMIN{index}", default))

    def unit(self, column, default):
        return u.Unit(self.data.columns[column].unit or default)


def _edges(table, lo_name, hi_name, default_unit):
    lo = np.asarray(table.column(lo_name), dtype=float)
    hi = np.asarray(table.column(hi_name), dtype=float)
    if lo.size == 0 or not np.allclose(lo[1:], hi[:-1], rtol=1e-6, atol=0):
        raise DataFormatError(f"{table.where}: {lo_name}/{hi_name} are not contiguous bins")
    return np.append(lo, hi[-1]), table.unit(lo_name, default_unit)


def _spectrum(table, first_channel, n_channels):
    if "COUNTS" not in table.data.columns.names:
        raise DataFormatError(f"{table.where}: column 'COUNTS' is missing (RATE is not supported)")
    if table.column("COUNTS").ndim != 1:
        raise DataFormatError(f"{table.where}: only type I spectra (one spectrum) are supported")
    first = table.tlmin("CHANNEL", first_channel)
    index = np.asarray(table.column("CHANNEL"), dtype=int) - first
    if not np.array_equal(np.sort(index), np.arange(n_channels)):
        raise DataFormatError(
            f"{table.where}: CHANNEL must list channels {first}..{first + n_channels - 1} "
            f"once each (EBOUNDS has {n_channels})"
        )

    def by_channel(values):
        out = np.empty(n_channels, dtype=float)
        out[index] = values
        return out

    return {
        "counts": by_channel(table.column("COUNTS")),
        "quality": by_channel(table.column_or_keyword("QUALITY", 0)),
        "backscal": by_channel(table.column_or_keyword("BACKSCAL", 1)),
        "areascal": by_channel(table.column_or_keyword("AREASCAL", 1)),
        "exposure": float(table.keyword("EXPOSURE")),
    }


def _read_matrix(table, n_channels):
    if table.header.get("HDUCLAS3", "REDIST").strip() not in ("REDIST", ""):
        raise DataFormatError(
            f"{table.where}: HDUCLAS3={table.header['HDUCLAS3']!r}; "
            "only redistribution matrices (REDIST) are supported"
        )
    first = table.tlmin("F_CHAN", 1)
    n_grp = np.asarray(table.column("N_GRP"), dtype=int)
    f_chan, n_chan, values = table.column("F_CHAN"), table.column("N_CHAN"), table.column("MATRIX")
    matrix = np.zeros((n_grp.size, n_channels))
    for i in range(n_grp.size):
        starts = np.atleast_1d(f_chan[i])[: n_grp[i]].astype(int) - first
        lengths = np.atleast_1d(n_chan[i])[: n_grp[i]].astype(int)
        row = np.atleast_1d(values[i]).astype(float)
        stops = starts + lengths
        if np.any(starts < 0) or np.any(stops > n_channels) or lengths.sum() > row.size:
            raise DataFormatError(
                f"{table.where}: row {i}: channel groups F_CHAN={starts + first}, "
                f"N_CHAN={lengths} do not fit {n_channels} channels from {first} "
                f"and {row.size} MATRIX elements"
            )
        position = 0
        for start, stop in zip(starts, stops, strict=True):
            matrix[i, start:stop] = row[position : position + stop - start]
            position += stop - start
    return matrix


def _linked(pha_table, keyword):
    name = str(pha_table.header.get(keyword, "")).strip()
    if name.lower() in ("", "none"):
        raise DataFormatError(f"{pha_table.where}: keyword '{keyword}' is missing or 'none'")
    return pha_table.path.parent / name


def read_ogip(pha_path, name=None):
    """Read a PHA file and the BKG, RMF and ARF files it names into a `SpectrumDatasetOnOff`.

    The dataset name is ``name``, else the OBS_ID keyword, else the PHA file stem.
    """
    pha_path = Path(pha_path)
    pha_table = _Table(pha_path, "PHA", ("SPECTRUM",))
    rmf_path = _linked(pha_table, "RESPFILE")
    ebounds = _Table(rmf_path, "RMF", ("EBOUNDS",))
    reco_edges, reco_unit = _edges(ebounds, "E_MIN", "E_MAX", "keV")
    n_channels = reco_edges.size - 1
    first_channel = int(np.asarray(ebounds.column("CHANNEL"))[0])

    on = _spectrum(pha_table, first_channel, n_channels)
    bkg_table = _Table(_linked(pha_table, "BACKFILE"), "BKG", ("SPECTRUM",))
    off = _spectrum(bkg_table, first_channel, n_channels)
    if np.any(on["areascal"] != 1):
        raise DataFormatError(
            f"{pha_table.where}: AREASCAL != 1 in the ON spectrum is not supported"
        )

    arf = _Table(_linked(pha_table, "ANCRFILE"), "ARF", ("SPECRESP",))
    true_edges, true_unit = _edges(arf, "ENERG_LO", "ENERG_HI", "keV")
    rmf = _Table(rmf_path, "RMF", ("MATRIX", "SPECRESP MATRIX"))
    rmf_edges, rmf_unit = _edges(rmf, "ENERG_LO", "ENERG_HI", "keV")
    if rmf_edges.size != true_edges.size or not np.allclose(
        (rmf_edges * rmf_unit).to_value(true_unit), true_edges, rtol=1e-6, atol=0
    ):
        raise DataFormatError(f"{rmf.where}: ENERG_LO/ENERG_HI differ from those of {arf.where}")
    specresp = u.Quantity(arf.column("SPECRESP"), arf.unit("SPECRESP", "cm2")).to_value("cm2")

    livetime = on["exposure"]
    acceptance_off = off["backscal"] * off["areascal"] * (off["exposure"] / livetime)
    obs_id = pha_table.header.get("OBS_ID")
    meta = {} if obs_id is None else {"obs_id": obs_id}
    if name is None:
        name = str(obs_id) if obs_id is not None else pha_path.stem
    return SpectrumDatasetOnOff(
        counts=on["counts"],
        exposure=specresp * livetime,
        edisp=_read_matrix(rmf, n_channels),
        energy_axis=MapAxis(reco_edges, name="energy", unit=reco_unit),
        energy_axis_true=MapAxis(true_edges, name="energy_true", unit=true_unit),
        livetime=livetime * u.s,
        counts_off=off["counts"],
        acceptance=on["backscal"],
        acceptance_off=acceptance_off,
        mask_safe=on["quality"] == 0,
        name=name,
        meta=meta,
    )

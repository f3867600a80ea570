"""Reduced (DL4) datasets: 1D spectra with their response; NetCDF and OGIP I/O; stacking."""

from gammarules.datasets.netcdf import SCHEMA, SCHEMA_VERSION
from gammarules.datasets.ogip import read_ogip, write_ogip
from gammarules.datasets.spectrum import SpectrumDataset, SpectrumDatasetOnOff
from gammarules.datasets.stacking import stack

__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "SpectrumDataset",
    "SpectrumDatasetOnOff",
    "read_ogip",
    "stack",
    "write_ogip",
]

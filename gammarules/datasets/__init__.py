"""Reduced (DL4) datasets: 1D spectra and 3D maps with their response; NetCDF and OGIP I/O."""

from gammarules.datasets.map import EDispKernelMap, MapDataset, PSFMap
from gammarules.datasets.map_onoff import MapDatasetOnOff
from gammarules.datasets.netcdf import SCHEMA, SCHEMA_VERSION
from gammarules.datasets.ogip import read_ogip, write_ogip
from gammarules.datasets.spectrum import SpectrumDataset, SpectrumDatasetOnOff
from gammarules.datasets.stacking import stack

__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "EDispKernelMap",
    "MapDataset",
    "MapDatasetOnOff",
    "PSFMap",
    "SpectrumDataset",
    "SpectrumDatasetOnOff",
    "read_ogip",
    "stack",
    "write_ogip",
]

"""Real-data inputs shared by the background-maker tests."""

import pytest
from astropy.coordinates import SkyCoord

from gammarules.data import DataStore
from gammarules.datasets import MapDataset
from gammarules.makers import MapDatasetMaker
from gammarules.makers.safe_mask import SafeMaskMaker
from gammarules.maps import Map, MapAxis, WcsGeom


@pytest.fixture(scope="session")
def crab_23523_dataset(hess_dir):
    """Run 23523 on a 4 x 4 deg CAR map at 0.02 deg around the Crab (1-10 TeV in 10 bins,
    true 0.5-20 TeV in 20): counts, exposure, background; safe mask aeff-default +
    offset-max 2.5 deg."""
    observation = DataStore.from_dir(hess_dir).obs(23523)
    axis = MapAxis.from_energy_bounds(1, 10, 10)
    geom = WcsGeom.create(SkyCoord(83.633, 22.014, unit="deg"), 0.02, width=4, axes=[axis])
    true = MapAxis.from_energy_bounds(0.5, 20, 20, name="energy_true")
    empty = MapDataset.create(geom, true, name="23523")
    dataset = MapDatasetMaker(selection=["counts", "exposure", "background"]).run(
        empty, observation
    )
    return SafeMaskMaker(["aeff-default", "offset-max"], offset_max="2.5 deg").run(
        dataset, observation
    )


@pytest.fixture(scope="session")
def crab_exclusion_mask(data_dir):
    return Map.read(data_dir / "joint-crab/exclusion/exclusion_mask_crab.fits.gz")

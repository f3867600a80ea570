"""Background estimation for 1D spectra from OFF regions (reflected or wobble)."""

from __future__ import annotations

import numpy as np
from astropy.coordinates import SkyCoord
from regions import Regions

from gammarules.datasets import SpectrumDatasetOnOff
from gammarules.makers.reflected import ReflectedRegionsFinder
from gammarules.makers.spectrum import bin_energies, events_in_circles

__all__ = ["ReflectedRegionsBackgroundMaker"]


class ReflectedRegionsBackgroundMaker:
    """Counts in OFF regions; turns a `SpectrumDataset` into a `SpectrumDatasetOnOff`.

    Parameters
    ----------
    region_finder : `ReflectedRegionsFinder` or `WobbleRegionsFinder`
    exclusion_mask : `~gammarules.maps.Map`, optional
        True where the sky may be used for OFF regions.

    Each OFF region has the acceptance of the ON region (same offset), so
    ``alpha = 1 / n_off_regions`` in every energy bin; with no OFF region the dataset gets
    ``acceptance_off = 0`` and an empty safe mask.
    """

    def __init__(self, region_finder=None, exclusion_mask=None):
        self.region_finder = region_finder or ReflectedRegionsFinder()
        self.exclusion_mask = exclusion_mask

    def off_regions(self, dataset, observation):
        return self.region_finder.run(
            dataset.region, observation.pointing_radec, self.exclusion_mask
        )

    def run(self, dataset, observation):
        regions = self.off_regions(dataset, observation)
        events = observation.events
        in_off = np.zeros(len(events), dtype=bool)
        if regions:
            centers = SkyCoord([r.center for r in regions])
            in_off = events_in_circles(observation, centers, dataset.region.radius)
        counts_off = bin_energies(events.energy[in_off], dataset.energy_axis)
        nbin = dataset.energy_axis.nbin
        meta = dict(dataset.meta)
        meta["off_regions"] = Regions(regions).serialize(format="ds9")
        meta["n_off_regions"] = len(regions)
        return SpectrumDatasetOnOff.from_spectrum_dataset(
            dataset.copy(meta=meta, mask_safe=dataset.mask_safe & (len(regions) > 0)),
            counts_off=counts_off,
            acceptance=np.ones(nbin),
            acceptance_off=np.full(nbin, float(len(regions))),
        )

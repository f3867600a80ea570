"""Ring background: OFF counts of each pixel from a ring around it, outside excluded regions.

For every pixel and energy bin, ``counts_off`` is the sum of the counts over the pixels of
the ring (``r_in <= r <= r_in + width``, pixel centres) that are not excluded, and
``acceptance_off`` the same sum of the predicted background; the pixel's own predicted
background is its ``acceptance``. The ratio ``alpha = acceptance / acceptance_off`` turns
the OFF counts into the background estimate of the pixel, so an imperfect background
template is renormalised locally. As in Gammapy 2.1, the ring sums use the exclusion mask
only (not the safe mask), and bins whose ring holds no acceptance are removed from the safe
mask.
"""

from __future__ import annotations

import numpy as np
from astropy import units as u

from gammarules.datasets.map_onoff import MapDatasetOnOff
from gammarules.makers.fov_background import exclusion_mask_on
from gammarules.maps import Map
from gammarules.maps.kernels import convolve_image, ring_kernel

__all__ = ["RingBackgroundMaker"]


class RingBackgroundMaker:
    """Turns a `MapDataset` into a `MapDatasetOnOff` with ring OFF regions.

    Parameters
    ----------
    r_in : Quantity
        Inner radius of the ring.
    width : Quantity
        Width of the ring.
    exclusion_mask : `~gammarules.maps.Map`, optional
        Sky image, True where the sky may be used for OFF counts (see
        `~gammarules.makers.fov_background.exclusion_mask_on`).
    """

    def __init__(self, r_in, width, exclusion_mask=None):
        self.r_in = u.Quantity(r_in, "deg")
        self.width = u.Quantity(width, "deg")
        self.exclusion_mask = exclusion_mask

    def kernel(self, geom):
        """The ring on the pixel grid of ``geom`` (0/1 array of odd size)."""
        return ring_kernel(self.r_in, self.width, geom)

    def make_maps_off(self, dataset):
        """``counts_off`` and ``acceptance_off`` Maps (ring sums over usable pixels; the
        OFF counts are rounded to integers when the counts are integers, removing the
        rounding noise of the FFT convolution)."""
        usable = exclusion_mask_on(dataset.geom, self.exclusion_mask)
        kernel = self.kernel(dataset.geom)
        counts = dataset.counts.data
        counts_off = convolve_image(counts * usable, kernel)
        if np.array_equal(counts, np.round(counts)):
            counts_off = np.round(counts_off)
        background = dataset.npred_background().data
        return {
            "counts_off": Map(dataset.geom, counts_off),
            "acceptance_off": Map(dataset.geom, convolve_image(background * usable, kernel)),
        }

    def run(self, dataset, observation=None):
        """The `MapDatasetOnOff` of ``dataset``; ``acceptance`` is its `npred_background`."""
        maps = self.make_maps_off(dataset)
        has_off = maps["acceptance_off"].data > 0
        mask_safe = has_off if dataset.mask_safe is None else dataset.mask_safe.data & has_off
        return MapDatasetOnOff.from_map_dataset(
            dataset,
            acceptance=dataset.npred_background(),
            mask_safe=Map(dataset.geom, mask_safe),
            **maps,
        )

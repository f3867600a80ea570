"""DL3 -> DL4 for 1D spectra: counts, exposure and energy dispersion in an ON region.

The IRFs are evaluated at the offset of the ON-region centre from the pointing (the region
is small compared with the IRFs' offset dependence). With ``containment_correction`` the
exposure is multiplied by the PSF fraction contained in the (circular) ON region.

Point-like IRFs (HDUCLAS3 = POINT-LIKE) come with a direction cut: the ON region is then a
circle of radius RAD_MAX(E_reco, offset) around the region centre, evaluated for each event,
and no containment correction applies.
"""

from __future__ import annotations

import numpy as np
from astropy import units as u

from gammarules.errors import GammarulesError
from gammarules.maps.sphere import in_any_circle, unit_vectors

__all__ = [
    "SpectrumDatasetMaker",
    "bin_energies",
    "events_in_circles",
    "observation_meta",
    "rad_max_cut",
]

SELECTION = ("counts", "exposure", "edisp")


def bin_energies(energy, energy_axis):
    """Histogram of event energies (Quantity) in the bins of ``energy_axis`` (right-open)."""
    idx = energy_axis.coord_to_idx(energy)
    return np.bincount(idx[idx >= 0], minlength=energy_axis.nbin)[: energy_axis.nbin]


def rad_max_cut(observation, center, energy):
    """RAD_MAX of a point-like observation at each energy, for a region centred on ``center``."""
    rad_max = observation.rad_max
    if rad_max is None:
        raise GammarulesError(
            f"observation {observation.obs_id}: point-like IRFs without RAD_MAX (no RAD_MAX_2D "
            "HDU and no RAD_MAX header keyword); cannot define the ON region"
        )
    offset = observation.pointing_radec.separation(center)
    return u.Quantity(rad_max.evaluate(energy=energy, offset=offset), "deg")


def _is_pointlike(observation):
    return bool(getattr(observation.aeff, "is_pointlike", False))


def events_in_circles(observation, centers, radius):
    """Events inside any of the circles of common ``radius`` around ``centers`` (SkyCoord).

    For point-like IRFs the radius is RAD_MAX at each event's energy and the circles' offset
    (the circles share one offset from the pointing, as reflected and wobble regions do).
    """
    events = observation.events
    centers = centers.reshape(-1)
    if _is_pointlike(observation):
        radius = rad_max_cut(observation, centers[0], events.energy)
    radius = u.Quantity(radius, "deg").to_value("rad")
    return in_any_circle(unit_vectors(events.radec), unit_vectors(centers), radius)


def observation_meta(observation):
    """``obs_id`` and ``pointing`` of an observation, for a reduced dataset's meta."""
    return {
        "obs_id": int(observation.obs_id),
        "pointing": {
            "ra_deg": float(observation.pointing_radec.ra.deg),
            "dec_deg": float(observation.pointing_radec.dec.deg),
        },
    }


class SpectrumDatasetMaker:
    """Fills a `SpectrumDataset` from one observation.

    Parameters
    ----------
    selection : sequence of {"counts", "exposure", "edisp"}
        Products to compute; the others are kept from the input dataset.
    containment_correction : bool
        Multiply the exposure by the PSF containment fraction of the ON region.
    """

    def __init__(self, selection=SELECTION, containment_correction=False):
        unknown = sorted(set(selection) - set(SELECTION))
        if unknown:
            raise GammarulesError(f"SpectrumDatasetMaker: unknown selection {unknown}")
        self.selection = tuple(selection)
        self.containment_correction = bool(containment_correction)

    def run(self, dataset, observation):
        """A new dataset with the selected products of ``observation`` in ``dataset.region``."""
        region = dataset.region
        if region is None:
            raise GammarulesError(f"dataset '{dataset.name}' has no ON region (meta['region'])")
        offset = observation.pointing_radec.separation(region.center)
        products = {}
        if "counts" in self.selection:
            inside = events_in_circles(observation, region.center, region.radius)
            products["counts"] = bin_energies(
                observation.events.energy[inside], dataset.energy_axis
            )
        if "exposure" in self.selection:
            products["exposure"] = self.make_exposure(dataset, observation, region, offset)
            products["livetime"] = observation.livetime
        if "edisp" in self.selection:
            products["edisp"] = observation.edisp.to_kernel(
                offset, dataset.energy_axis_true, dataset.energy_axis
            )
        meta = dict(dataset.meta)
        meta.update(
            observation_meta(observation),
            offset_deg=float(offset.to_value("deg")),
            containment_correction=self.containment_correction,
        )
        return dataset.copy(meta=meta, **products)

    def make_exposure(self, dataset, observation, region, offset):
        """Effective area x livetime at the region offset (x PSF containment if requested)."""
        energy_true = dataset.energy_axis_true.center
        area = u.Quantity(observation.aeff.evaluate(energy_true=energy_true, offset=offset), "cm2")
        exposure = area * u.Quantity(observation.livetime, "s")
        if self.containment_correction and not _is_pointlike(observation):
            if observation.psf is None:
                raise GammarulesError(
                    f"observation {observation.obs_id}: containment correction needs a PSF, "
                    "but the data store lists none"
                )
            containment = observation.psf.containment(
                rad=region.radius, energy_true=energy_true, offset=offset
            )
            exposure = exposure * u.Quantity(containment, "").value
        return exposure.to("cm2 s")

"""DL3 -> DL4 for 3D analyses: counts, exposure, background, PSF and edisp maps.

- counts: the events binned on the dataset's WCS pixels and reco-energy bins (in C++).
- exposure: effective area at each true-energy bin centre and pixel-centre offset from the
  pointing, times the livetime.
- background: the IRF rate integrated over each reco-energy bin (exact for the power law
  between nodes), times the pixel solid angle and the observation ontime (the GADF background
  rate is per unit ontime, dead time included). Background3D needs the field-of-view
  coordinates of each pixel: for FOVALIGN = RADEC, the longitude and latitude of the pixel
  in the spherical frame whose origin is the pointing (astropy's SkyOffsetFrame), with the
  longitude sign flipped (GADF: fov_lon increases towards decreasing RA); for ALTAZ the same
  in horizontal coordinates at the middle of the observation (observatory from GEOLON,
  GEOLAT, ALTITUDE). The H.E.S.S. DR1
  files (EVENTS CREATOR = "SASH FITS::EventListWriter", HDUVERS = "0.2") were written with
  the opposite longitude sign; their fov_lon is not flipped (as Gammapy does for them).
- PSF and edisp maps: the IRFs at the offset of each coarse pixel centre, with the exposure
  at those centres as stacking weight.
"""

from __future__ import annotations

import numpy as np
from astropy import units as u
from astropy.coordinates import AltAz

from gammarules.datasets.map import EDispKernelMap, PSFMap
from gammarules.errors import GammarulesError
from gammarules.irf import Background2D, Background3D
from gammarules.makers.spectrum import observation_meta
from gammarules.maps import Map
from gammarules.maps.binning import bin_events_wcs, to_frame

__all__ = ["MapDatasetMaker", "fov_coordinates", "has_reversed_fov_lon", "make_map_dataset"]

SELECTION = ("counts", "exposure", "background", "psf", "edisp")


_LEGACY_HESS = ("SASH FITS::EventListWriter", "0.2")


def fov_coordinates(skycoord, pointing, reverse_lon=False, altaz=None):
    """``(fov_lon, fov_lat)`` (deg) of ``skycoord`` in the field of view of ``pointing``.

    RADEC-aligned, or ALTAZ-aligned when ``altaz`` (an `~astropy.coordinates.AltAz` frame:
    time and location) is given. GADF sign (fov_lon grows towards decreasing RA, or
    decreasing azimuth) unless ``reverse_lon``.
    """
    if altaz is None:
        coord, centre = skycoord.icrs, pointing.icrs
    else:
        coord, centre = skycoord.transform_to(altaz), pointing.transform_to(altaz)
    offset = coord.transform_to(centre.skyoffset_frame())
    lon = offset.lon.wrap_at(180 * u.deg).deg
    return (lon if reverse_lon else -lon), offset.lat.deg


def has_reversed_fov_lon(observation):
    """True for the H.E.S.S. DR1 files, whose background fov_lon has the non-GADF sign."""
    meta = getattr(observation.events, "meta", {})
    found = tuple(str(meta.get(key, "")).strip() for key in ("CREATOR", "HDUVERS"))
    return found == _LEGACY_HESS


def _exposure(observation, energy_axis_true, offset_deg):
    energy = energy_axis_true.center[:, np.newaxis, np.newaxis]
    area = observation.aeff.evaluate(energy_true=energy, offset=offset_deg * u.deg)
    return (area * u.Quantity(observation.livetime, "s")).to_value("cm2 s")


class MapDatasetMaker:
    """Fills a `MapDataset` from one observation.

    Parameters
    ----------
    selection : sequence of {"counts", "exposure", "background", "psf", "edisp"}
        Products to compute; the others are kept from the input dataset.
    background_oversampling : int or None
        Evaluate the background at ``n x n`` sub-pixel centres of each pixel and average.
    """

    def __init__(self, selection=SELECTION, background_oversampling=None):
        unknown = sorted(set(selection) - set(SELECTION))
        if unknown:
            raise GammarulesError(f"MapDatasetMaker: unknown selection {unknown}")
        self.selection = tuple(selection)
        self.background_oversampling = background_oversampling

    def make_counts(self, geom, observation):
        events = observation.events
        lon, lat = to_frame(events.radec, geom.frame)
        data = bin_events_wcs(
            lon, lat, geom.wcs, geom.spatial_shape, events.energy, geom.axes[0].edges
        )
        return Map(geom, data.astype(float))

    def make_exposure(self, geom, observation):
        offset = geom.separation(observation.pointing_radec).deg
        return Map(geom, _exposure(observation, geom.axes[0], offset), unit="cm2 s")

    def _background_rate(self, observation, edges, coords):
        """Rate per solid angle (s-1 sr-1) in each energy bin at ``coords``."""
        bkg, pointing = observation.bkg, observation.pointing_radec
        if isinstance(bkg, Background2D):
            return bkg.integrate_energy(edges, coords.separation(pointing).to("deg"))
        if isinstance(bkg, Background3D):
            altaz = None
            if bkg.fov_alignment == "ALTAZ":
                time = observation.tstart + 0.5 * (observation.tstop - observation.tstart)
                altaz = AltAz(obstime=time, location=observation.earth_location)
            elif bkg.fov_alignment != "RADEC":
                raise GammarulesError(
                    f"background FOVALIGN={bkg.fov_alignment!r}: expected 'RADEC' or 'ALTAZ'"
                )
            reverse = has_reversed_fov_lon(observation)
            lon, lat = fov_coordinates(coords, pointing, reverse, altaz)
            return bkg.integrate_energy(edges, lon * u.deg, lat * u.deg)
        raise GammarulesError(f"background IRF of type {type(bkg).__name__} is not supported")

    def make_background(self, geom, observation):
        if observation.bkg is None:
            raise GammarulesError(f"observation {observation.obs_id}: no background IRF")
        edges = geom.axes[0].edges
        factor = self.background_oversampling
        if factor:
            coords = geom.subpixel_coords(int(factor))
            rate = self._background_rate(observation, edges, coords).to_value("s-1 sr-1")
            rate = rate.mean(axis=1).reshape((-1, *geom.spatial_shape))
        else:
            rate = self._background_rate(observation, edges, geom.get_coord())
            rate = rate.to_value("s-1 sr-1")
        counts = rate * geom.solid_angle().to_value("sr") * observation.ontime.to_value("s")
        return Map(geom, counts)

    def make_psf(self, psf_map, observation):
        if observation.psf is None:
            raise GammarulesError(f"observation {observation.obs_id}: no PSF IRF")
        geom = psf_map.irf_map.geom
        energy_axis_true, rad_axis = geom.axes
        offset = psf_map.geom.separation(observation.pointing_radec).deg
        values = observation.psf.evaluate(
            rad=rad_axis.center[np.newaxis, :, np.newaxis, np.newaxis],
            energy_true=energy_axis_true.center[:, np.newaxis, np.newaxis, np.newaxis],
            offset=offset * u.deg,
        )
        values = np.broadcast_to(u.Quantity(values, "sr-1").value, geom.data_shape)
        irf = Map(geom, values.copy(), unit="sr-1")
        exposure = psf_map.exposure_map.copy(data=_exposure(observation, energy_axis_true, offset))
        return PSFMap(irf, exposure)

    def make_edisp(self, edisp_map, observation):
        if observation.edisp is None:
            raise GammarulesError(f"observation {observation.obs_id}: no energy dispersion IRF")
        geom = edisp_map.irf_map.geom
        energy_axis_true, energy_axis = geom.axes
        offset = edisp_map.geom.separation(observation.pointing_radec).deg
        kernels = observation.edisp.to_kernels(offset * u.deg, energy_axis_true, energy_axis)
        data = np.moveaxis(kernels, 0, -1).reshape(geom.data_shape)
        exposure = edisp_map.exposure_map.copy(
            data=_exposure(observation, energy_axis_true, offset)
        )
        return EDispKernelMap(Map(geom, data), exposure)

    def run(self, dataset, observation):
        """A new dataset with the selected products of ``observation``; mask_safe all True."""
        geom = dataset.geom
        products = {}
        if "counts" in self.selection:
            products["counts"] = self.make_counts(geom, observation)
        if "exposure" in self.selection:
            products["exposure"] = self.make_exposure(dataset.exposure.geom, observation)
            products["livetime"] = u.Quantity(observation.livetime, "s")
        if "background" in self.selection:
            products["background"] = self.make_background(geom, observation)
        if "psf" in self.selection and dataset.psf is not None:
            products["psf"] = self.make_psf(dataset.psf, observation)
        if "edisp" in self.selection and dataset.edisp is not None:
            products["edisp"] = self.make_edisp(dataset.edisp, observation)
        meta = dict(dataset.meta)
        meta.update(observation_meta(observation))
        products["mask_safe"] = Map(geom, np.ones(geom.data_shape, dtype=bool))
        return dataset.copy(meta=meta, **products)


def make_map_dataset(dataset, observation, cutout_width="5 deg", maker=None, safe_mask_maker=None):
    """One observation reduced on the cutout of ``dataset`` around its pointing.

    ``maker`` defaults to `MapDatasetMaker()`; ``safe_mask_maker`` (optional) then sets the
    safe mask. The result can be stacked into ``dataset``.
    """
    cutout = dataset.cutout(
        observation.pointing_radec,
        u.Quantity(cutout_width, "deg"),
        name=f"obs_{observation.obs_id}",
    )
    result = (maker or MapDatasetMaker()).run(cutout, observation)
    if safe_mask_maker is not None:
        result = safe_mask_maker.run(result, observation)
    return result

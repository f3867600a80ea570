"""A small synthetic observation for the maker tests: real EventList and IRF objects.

The effective area is linear in offset (so its interpolation is exact) and tabulated at the
true-energy bin centres of the test axes; the PSF is a 2D Gaussian whose containment is
known in closed form.
"""

from types import SimpleNamespace

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.table import Table
from astropy.time import Time
from regions import CircleSkyRegion

from gammarules.data import EventList
from gammarules.data.time_ref import TimeReference
from gammarules.irf import EffectiveAreaTable2D, EnergyDispersion2D, RadMax2D
from gammarules.maps import MapAxis

POINTING = SkyCoord(83.633, 22.514, unit="deg")
ON_OFFSET_DEG = 0.6
ON_RADIUS_DEG = 0.11
LIVETIME_S = 1800.0
AEFF_SLOPE = 0.1  # relative decrease of the area per degree of offset


def energy_axes():
    reco = MapAxis.from_energy_bounds(0.1, 100, 12, name="energy")
    true = MapAxis.from_energy_bounds(0.05, 200, 18, name="energy_true")
    return reco, true


def on_region(position_angle_deg=30.0):
    center = POINTING.directional_offset_by(position_angle_deg * u.deg, ON_OFFSET_DEG * u.deg)
    return CircleSkyRegion(center, ON_RADIUS_DEG * u.deg)


def area_at_nodes_m2(energy_true_tev):
    """Effective area (m2) at zero offset."""
    return 1e5 * energy_true_tev**1.5 / (1 + energy_true_tev**1.5)


def effective_area(true_axis, pointlike=False):
    offset = MapAxis([0.0, 0.5, 1.0, 1.5, 2.0, 2.5], name="offset", unit="deg", interp="lin")
    area = area_at_nodes_m2(true_axis.center_in("TeV"))[:, None]
    data = area * (1 - AEFF_SLOPE * offset.center_in("deg"))[None, :]
    meta = {"HDUCLAS3": "POINT-LIKE" if pointlike else "FULL-ENCLOSURE"}
    return EffectiveAreaTable2D([true_axis.rename("energy_true"), offset], data, "m2", meta)


def energy_dispersion():
    true = MapAxis.from_energy_bounds(0.01, 300, 25, name="energy_true")
    migra = MapAxis(np.linspace(0.2, 2.0, 37), name="migra", unit="", interp="lin")
    offset = MapAxis([0.0, 1.0, 2.0], name="offset", unit="deg", interp="lin")
    mu = migra.center_in("")[None, :, None]
    sigma = (
        np.array([0.1, 0.2])[None, None, :]
        * (1 + 0.2 * np.log10(true.center_in("TeV")))[:, None, None] ** 2
    )
    pdf = np.exp(-0.5 * ((mu - 1.05) / sigma) ** 2)
    return EnergyDispersion2D([true, migra, offset], pdf)


class GaussianPSF:
    """A 2D Gaussian PSF of width ``sigma(E) = 0.1 deg (E / TeV)^-0.3``."""

    @staticmethod
    def sigma_deg(energy_true):
        return 0.1 * u.Quantity(energy_true, "TeV").value ** -0.3

    def containment(self, rad, energy_true, offset):
        rad = u.Quantity(rad, "deg").value
        return 1 - np.exp(-0.5 * (rad / self.sigma_deg(energy_true)) ** 2)


def rad_max_table():
    """RAD_MAX 0.1 deg below 1 TeV and 0.2 deg above, within 1 deg of offset."""
    energy = MapAxis([0.01, 1.0, 300.0], name="energy", unit="TeV")
    offset = MapAxis([0.0, 1.0, 3.0], name="offset", unit="deg", interp="lin")
    return RadMax2D([energy, offset], [[0.1, 0.5], [0.2, 0.5]], unit="deg")


def event_list(radec, energy_tev):
    table = Table(
        {
            "TIME": np.arange(len(energy_tev), dtype=float) * u.s,
            "RA": radec.ra.deg * u.deg,
            "DEC": radec.dec.deg * u.deg,
            "ENERGY": np.asarray(energy_tev, dtype=float) * u.TeV,
        }
    )
    return EventList(table, TimeReference(Time(51910, format="mjd", scale="tt")))


def random_events_around(centers, n_per_center, max_distance_deg, seed):
    """Events uniform on the sky within ``max_distance_deg`` of each centre, log-uniform in E."""
    rng = np.random.default_rng(seed)
    ra, dec = [], []
    for center in centers:
        distance = max_distance_deg * np.sqrt(rng.uniform(0, 1, n_per_center))
        angle = rng.uniform(0, 360, n_per_center)
        coords = center.directional_offset_by(angle * u.deg, distance * u.deg)
        ra.append(coords.ra.deg)
        dec.append(coords.dec.deg)
    radec = SkyCoord(np.concatenate(ra), np.concatenate(dec), unit="deg")
    energy = 10 ** rng.uniform(np.log10(0.03), np.log10(300), len(radec))
    return radec, energy


def observation(events, pointlike=False, psf=True, rad_max=True, obs_id=4242):
    _, true = energy_axes()
    return SimpleNamespace(
        obs_id=obs_id,
        pointing_radec=POINTING,
        livetime=LIVETIME_S * u.s,
        events=events,
        aeff=effective_area(true, pointlike),
        edisp=energy_dispersion(),
        psf=GaussianPSF() if psf else None,
        rad_max=rad_max_table() if (pointlike and rad_max) else None,
    )


def histogram(energy_tev, axis):
    """Counts per bin of ``axis`` (bins are right-open; random energies never hit an edge)."""
    return np.histogram(energy_tev, bins=axis.edges_in("TeV"))[0]

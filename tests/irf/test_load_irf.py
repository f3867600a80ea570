import numpy as np
import pytest
from irf_tables import bins, cell

from gammarules.errors import DataFormatError
from gammarules.irf import (
    Background2D,
    Background3D,
    EffectiveAreaTable2D,
    EnergyDispersion2D,
    PSF3Gauss,
    PSFKing,
    PSFTable,
    RadMax2D,
    load_irf,
)

ENERGY = bins("ENERG", [0.1, 1, 10], "TeV")
OFFSET = bins("THETA", [0, 1, 2], "deg")
MIGRA = bins("MIGRA", [0.5, 1, 1.5], "")
RAD = bins("RAD", [0, 0.1, 0.2], "deg")
FOV = bins("DETX", [-1, 0, 1], "deg") + bins("DETY", [-1, 0, 1], "deg")
ONES_2D, ONES_3D = cell(np.ones((2, 2))), cell(np.ones((2, 2, 2)))
GAUSS = [("SCALE", ONES_2D, "")]
GAUSS += [(f"SIGMA_{i}", ONES_2D, "deg") for i in (1, 2, 3)]
GAUSS += [(f"AMPL_{i}", ONES_2D, "") for i in (2, 3)]

TABLES = {
    "AEFF_2D": ENERGY + OFFSET + [("EFFAREA", ONES_2D, "m2")],
    "EDISP_2D": ENERGY + MIGRA + OFFSET + [("MATRIX", ONES_3D, "")],
    "PSF_TABLE": ENERGY + OFFSET + RAD + [("RPSF", ONES_3D, "sr-1")],
    "PSF_3GAUSS": ENERGY + OFFSET + GAUSS,
    "PSF_KING": ENERGY + OFFSET + [("GAMMA", 2 * ONES_2D, ""), ("SIGMA", ONES_2D, "deg")],
    "BKG_2D": ENERGY + OFFSET + [("BKG", ONES_2D, "s-1 MeV-1 sr-1")],
    "BKG_3D": ENERGY + FOV + [("BKG", ONES_3D, "s-1 MeV-1 sr-1")],
    "RAD_MAX_2D": ENERGY + OFFSET + [("RAD_MAX", ONES_2D, "deg")],
}

CLASSES = {
    "AEFF_2D": EffectiveAreaTable2D,
    "EDISP_2D": EnergyDispersion2D,
    "PSF_TABLE": PSFTable,
    "PSF_3GAUSS": PSF3Gauss,
    "PSF_KING": PSFKing,
    "BKG_2D": Background2D,
    "BKG_3D": Background3D,
    "RAD_MAX_2D": RadMax2D,
}

# (HDUCLAS2, legacy HDUCLAS4 as in CTA 1DC or none, EXTNAME) of each format
COMPONENTS = {
    "AEFF_2D": ("EFF_AREA", "2D", "EFFECTIVE AREA"),
    "EDISP_2D": ("EDISP", "2D", "ENERGY DISPERSION"),
    "PSF_TABLE": ("RPSF", None, "POINT SPREAD FUNCTION"),
    "PSF_3GAUSS": ("RPSF", "3GAUSS", "POINT SPREAD FUNCTION"),
    "PSF_KING": ("PSF", None, "PSF"),
    "BKG_2D": ("BKG", None, "BACKGROUND"),
    "BKG_3D": ("BKG", "3D", "BACKGROUND"),
    "RAD_MAX_2D": ("RAD_MAX", None, "RAD_MAX"),
}


@pytest.mark.parametrize("tag", sorted(TABLES))
def test_dispatch_on_hduclas4(write_irf, tag):
    path = write_irf(TABLES[tag], {"HDUCLAS1": "RESPONSE", "HDUCLAS4": tag}, name="IRF")
    irf = load_irf(path, "IRF")
    assert type(irf) is CLASSES[tag]
    assert irf.axes.shape == ((2, 2, 2) if tag in ("EDISP_2D", "PSF_TABLE", "BKG_3D") else (2, 2))


@pytest.mark.parametrize("tag", sorted(TABLES))
def test_dispatch_without_hduclas4(write_irf, tag):
    hduclas2, legacy, extname = COMPONENTS[tag]
    header = {"HDUCLAS2": hduclas2, **({"HDUCLAS4": legacy} if legacy else {})}
    path = write_irf(TABLES[tag], header, name="X")
    assert type(load_irf(path, "X")) is CLASSES[tag]
    # nothing but the EXTNAME
    path = write_irf(TABLES[tag], name=extname)
    assert type(load_irf(path, extname)) is CLASSES[tag]


def test_unsupported_hduclas4(write_irf):
    path = write_irf(TABLES["PSF_TABLE"], {"HDUCLAS2": "RPSF", "HDUCLAS4": "GTPSF"}, name="PSF")
    with pytest.raises(
        DataFormatError, match=r"\[PSF\]: unsupported HDUCLAS4 'GTPSF'; supported: "
    ):
        load_irf(path, "PSF")


def test_unknown_irf(write_irf):
    path = write_irf(TABLES["AEFF_2D"], name="SOMETHING")
    with pytest.raises(DataFormatError, match=r"\[SOMETHING\]: cannot tell which IRF this is"):
        load_irf(path, "SOMETHING")


@pytest.mark.data
def test_real_files(data_dir):
    expected = {
        "hess-dl3-dr1/data/hess_dl3_dr1_obs_id_023523.fits.gz": {
            "AEFF": EffectiveAreaTable2D, "EDISP": EnergyDispersion2D, "PSF": PSFTable,
            "BKG": Background3D,
        },
        # CTA 1DC: HDUCLAS4 is "2D", "3GAUSS", "3D"
        "cta-1dc/caldb/data/cta/1dc/bcf/South_z20_50h/irf_file.fits": {
            "EFFECTIVE AREA": EffectiveAreaTable2D, "POINT SPREAD FUNCTION": PSF3Gauss,
            "ENERGY DISPERSION": EnergyDispersion2D, "BACKGROUND": Background3D,
        },
        "cta-caldb/Prod5-North-20deg-AverageAz-4LSTs09MSTs.180000s-v0.1.fits.gz": {
            "EFFECTIVE AREA": EffectiveAreaTable2D, "POINT SPREAD FUNCTION": PSF3Gauss,
            "ENERGY DISPERSION": EnergyDispersion2D, "BACKGROUND": Background3D,
        },
        "magic/rad_max/data/20131004_05029748_DL3_CrabNebula-W0.40+215.fits": {
            "RAD_MAX": RadMax2D, "EFFECTIVE AREA": EffectiveAreaTable2D,
            "ENERGY DISPERSION": EnergyDispersion2D,
        },
        "joint-crab/dl3/magic/run_05029748_DL3.fits": {
            "EFFECTIVE AREA": EffectiveAreaTable2D, "ENERGY DISPERSION": EnergyDispersion2D,
        },
    }  # fmt: skip
    for filename, hdus in expected.items():
        for hdu, cls in hdus.items():
            irf = load_irf(data_dir / filename, hdu)
            assert type(irf) is cls, (filename, hdu)
            assert irf.is_pointlike == filename.startswith(("magic", "joint-crab"))

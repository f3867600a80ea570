import astropy.units as u
import numpy as np
import pytest
from scipy.integrate import quad

from gammarules.errors import ConfigError
from gammarules.models import (
    BrokenPowerLawSpectralModel,
    ConstantSpectralModel,
    ExpCutoffPowerLawSpectralModel,
    LogParabolaSpectralModel,
    PowerLaw2SpectralModel,
    PowerLawSpectralModel,
    SmoothBrokenPowerLawSpectralModel,
    SuperExpCutoffPowerLaw4FGLDR3SpectralModel,
    SuperExpCutoffPowerLaw4FGLSpectralModel,
)

DNDE = u.Unit("TeV-1 cm-2 s-1")
ENERGIES = np.array([0.05, 0.3, 1.0, 2.5, 7.0, 40.0])


def all_models():
    """One instance of every model, with parameters away from their defaults."""
    return [
        PowerLawSpectralModel(index=2.3, amplitude="2e-12 cm-2 s-1 TeV-1", reference="1 TeV"),
        PowerLaw2SpectralModel(
            amplitude="3e-11 cm-2 s-1", index=2.7, emin="0.3 TeV", emax="30 TeV"
        ),
        LogParabolaSpectralModel(alpha=2.4, beta=0.15, amplitude="4e-11 cm-2 s-1 TeV-1"),
        ExpCutoffPowerLawSpectralModel(
            index=1.8, amplitude="1e-12 cm-2 s-1 TeV-1", lambda_="0.12 TeV-1", alpha=1.3
        ),
        SuperExpCutoffPowerLaw4FGLDR3SpectralModel(
            amplitude="1e-12 cm-2 s-1 TeV-1",
            reference="0.01 TeV",
            expfactor=0.3,
            index_1=1.6,
            index_2=0.6,
        ),
        SuperExpCutoffPowerLaw4FGLSpectralModel(
            amplitude="1e-12 cm-2 s-1 TeV-1",
            reference="0.01 TeV",
            expfactor=1e-3,
            index_1=1.6,
            index_2=0.6,
        ),
        BrokenPowerLawSpectralModel(
            index1=1.8, index2=3.1, amplitude="1e-12 cm-2 s-1 TeV-1", ebreak="2.5 TeV"
        ),
        SmoothBrokenPowerLawSpectralModel(
            index1=1.8, index2=3.1, amplitude="1e-12 cm-2 s-1 TeV-1", ebreak="2.5 TeV", beta=0.7
        ),
        ConstantSpectralModel(const="3e-13 cm-2 s-1 TeV-1"),
    ]


def test_tags_follow_gammapy_names():
    tags = {type(m).__name__: m.tag for m in all_models()}
    assert tags["PowerLawSpectralModel"] == ["PowerLawSpectralModel", "pl"]
    assert tags["PowerLaw2SpectralModel"] == ["PowerLaw2SpectralModel", "pl-2"]
    assert tags["SuperExpCutoffPowerLaw4FGLDR3SpectralModel"][1] == "secpl-4fgl-dr3"
    assert tags["SmoothBrokenPowerLawSpectralModel"][1] == "sbpl"


def test_powerlaw_values():
    model = PowerLawSpectralModel(index=2.0, amplitude="4e-12 cm-2 s-1 TeV-1", reference="1 TeV")
    assert model(2 * u.TeV).to_value(DNDE) == pytest.approx(1e-12, rel=1e-14)
    # the same energy in GeV gives the same flux; output is always TeV-1 cm-2 s-1
    np.testing.assert_allclose(model([500, 2000] * u.GeV).to_value(DNDE), [1.6e-11, 1e-12])
    # analytic integral of 4e-12 E^-2 from 1 to 10 TeV = 4e-12 * (1 - 1/10)
    assert model.integral(1 * u.TeV, 10 * u.TeV).to_value("cm-2 s-1") == pytest.approx(3.6e-12)
    # energy flux: 4e-12 * ln(10) TeV cm-2 s-1
    assert model.energy_flux(1 * u.TeV, 10 * u.TeV).to_value("TeV cm-2 s-1") == pytest.approx(
        4e-12 * np.log(10)
    )


def test_powerlaw_integral_at_index_one_is_logarithmic():
    model = PowerLawSpectralModel(index=1.0, amplitude="1e-12 cm-2 s-1 TeV-1", reference="2 TeV")
    expected = 1e-12 * 2 * np.log(8 / 0.5)
    assert model.integral_values(0.5, 8.0) == pytest.approx(expected, rel=1e-14)
    near = PowerLawSpectralModel(index=1 + 1e-12, amplitude=1e-12, reference=2.0)
    assert near.integral_values(0.5, 8.0) == pytest.approx(expected, rel=1e-9)


def test_powerlaw2_amplitude_is_the_integral_flux():
    model = PowerLaw2SpectralModel(
        amplitude="5e-12 cm-2 s-1", index=2.5, emin="1 TeV", emax="10 TeV"
    )
    assert model.integral(1 * u.TeV, 10 * u.TeV).to_value("cm-2 s-1") == pytest.approx(5e-12)
    # dnde = F (1 - g) E^-g / (emax^(1-g) - emin^(1-g)) with g = 2.5
    norm = 5e-12 * (-1.5) / (10**-1.5 - 1.0)
    assert model(3 * u.TeV).to_value(DNDE) == pytest.approx(norm * 3**-2.5, rel=1e-13)
    # the same spectrum as a PowerLaw
    pl = PowerLawSpectralModel(index=2.5, amplitude=norm, reference=1.0)
    np.testing.assert_allclose(
        model.integral_values(0.2, [0.5, 3, 70]), pl.integral_values(0.2, [0.5, 3, 70])
    )
    np.testing.assert_allclose(
        model.energy_flux_values(2, 5), pl.energy_flux_values(2, 5), rtol=1e-13
    )

    flat = PowerLaw2SpectralModel(amplitude=1e-12, index=1.0, emin=1.0, emax=100.0)
    assert flat(10 * u.TeV).to_value(DNDE) == pytest.approx(1e-12 / (10 * np.log(100)))


def test_logparabola_natural_log_form_and_log10_conversion():
    model = LogParabolaSpectralModel(alpha=2.0, beta=0.5, amplitude=1e-12, reference=1.0)
    # at E = e TeV: ln x = 1, exponent -(2 + 0.5) -> 1e-12 * e^-2.5
    assert model(np.e * u.TeV).to_value(DNDE) == pytest.approx(1e-12 * np.exp(-2.5), rel=1e-14)

    log10_form = LogParabolaSpectralModel.from_log10(
        alpha=2.3, beta=0.4, amplitude=2e-12, reference=1.5
    )
    assert log10_form.beta.value == pytest.approx(0.4 / np.log(10))
    x = ENERGIES / 1.5
    expected = 2e-12 * x ** (-2.3 - 0.4 * np.log10(x))
    np.testing.assert_allclose(log10_form(ENERGIES * u.TeV).to_value(DNDE), expected, rtol=1e-13)


def test_expcutoff_values():
    model = ExpCutoffPowerLawSpectralModel(
        index=2.0, amplitude=1e-12, reference=1.0, lambda_=0.5, alpha=2.0
    )
    # at 2 TeV: 1e-12 / 4 * exp(-(0.5 * 2)^2)
    assert model(2 * u.TeV).to_value(DNDE) == pytest.approx(0.25e-12 * np.exp(-1.0), rel=1e-14)


def test_secpl_4fgl_dr3_matches_the_fermi_formula():
    amplitude, e0, d, gamma, b = 3e-12, 0.002, 0.4, 1.7, 0.65
    model = SuperExpCutoffPowerLaw4FGLDR3SpectralModel(
        amplitude=amplitude, reference=e0, expfactor=d, index_1=gamma, index_2=b
    )
    x = ENERGIES / e0
    expected = amplitude * x ** (d / b - gamma) * np.exp(d / b**2 * (1 - x**b))
    np.testing.assert_allclose(model(ENERGIES * u.TeV).to_value(DNDE), expected, rtol=1e-12)

    # index_2 -> 0 is a log parabola with beta = expfactor / 2, continuous through 0
    limit = LogParabolaSpectralModel(alpha=gamma, beta=d / 2, amplitude=amplitude, reference=e0)
    for index_2 in (0.0, 1e-9, -1e-9):
        model.index_2.value = index_2
        np.testing.assert_allclose(model.evaluate(ENERGIES), limit.evaluate(ENERGIES), rtol=1e-7)


def test_secpl_4fgl_dr1_uses_mev_in_the_cutoff():
    model = SuperExpCutoffPowerLaw4FGLSpectralModel(
        amplitude=1e-12, reference=0.001, expfactor=2e-3, index_1=1.5, index_2=0.5
    )
    # at 0.1 TeV = 1e5 MeV with reference 1e3 MeV: exp(2e-3 * (1e3^0.5 - 1e5^0.5))
    expected = 1e-12 * 100**-1.5 * np.exp(2e-3 * (np.sqrt(1e3) - np.sqrt(1e5)))
    assert model(0.1 * u.TeV).to_value(DNDE) == pytest.approx(expected, rel=1e-13)


def test_broken_powerlaw_values_and_integral_across_the_break():
    model = BrokenPowerLawSpectralModel(index1=1.5, index2=3.0, amplitude=1e-12, ebreak=2.0)
    assert model(1 * u.TeV).to_value(DNDE) == pytest.approx(1e-12 * 0.5**-1.5)
    assert model(2 * u.TeV).to_value(DNDE) == pytest.approx(1e-12)
    assert model(4 * u.TeV).to_value(DNDE) == pytest.approx(1e-12 / 8)
    # integral from 1 to 4: 1e-12 * 2 * [int_0.5^1 x^-1.5 dx + int_1^2 x^-3 dx]
    below = 2 * (1 / np.sqrt(0.5) - 1)
    above = (1 - 1 / 4) / 2
    expected = 1e-12 * 2 * (below + above)
    assert model.integral_values(1.0, 4.0) == pytest.approx(expected, rel=1e-14)
    # intervals entirely below or above the break
    assert model.integral_values(2.0, 4.0) == pytest.approx(1e-12 * 2 * above)
    assert model.integral_values(0.5, 0.5) == 0.0


def test_smooth_broken_powerlaw_asymptotes():
    model = SmoothBrokenPowerLawSpectralModel(
        index1=1.5, index2=3.0, amplitude=1e-12, ebreak=1.0, reference=1.0, beta=0.5
    )
    # at the break the smoothing factor is 2^-beta
    assert model(1 * u.TeV).to_value(DNDE) == pytest.approx(1e-12 * 2**-0.5)
    # far below: power law index1; far above: index2 with amplitude A * ebreak^(index2-index1)
    assert model(1e-6 * u.TeV).to_value(DNDE) == pytest.approx(1e-12 * 1e9, rel=1e-5)
    assert model(1e6 * u.TeV).to_value(DNDE) == pytest.approx(1e-12 * 1e-18, rel=1e-5)


def test_constant_values_and_integrals():
    model = ConstantSpectralModel(const="2e-12 cm-2 s-1 TeV-1")
    np.testing.assert_array_equal(model([1, 5] * u.TeV).to_value(DNDE), [2e-12, 2e-12])
    assert model.integral(1 * u.TeV, 4 * u.TeV).to_value("cm-2 s-1") == pytest.approx(6e-12)
    assert model.energy_flux(1 * u.TeV, 3 * u.TeV).to_value("TeV cm-2 s-1") == pytest.approx(8e-12)


@pytest.mark.parametrize("model", all_models(), ids=lambda m: m.tag[1])
def test_integral_and_energy_flux_against_adaptive_quadrature(model):
    edges = np.geomspace(0.05, 80, 9)
    emin, emax = edges[:-1], edges[1:]
    flux = model.integral(emin * u.TeV, emax * u.TeV).to_value("cm-2 s-1")
    eflux = model.energy_flux(emin * u.TeV, emax * u.TeV).to_value("TeV cm-2 s-1")
    for lo, hi, f, ef in zip(emin, emax, flux, eflux, strict=True):
        ref = quad(model.evaluate, lo, hi, epsabs=0, epsrel=1e-12, limit=200)[0]
        ref_e = quad(lambda e: e * model.evaluate(e), lo, hi, epsabs=0, epsrel=1e-12, limit=200)[0]
        assert f == pytest.approx(ref, rel=1e-6)
        assert ef == pytest.approx(ref_e, rel=1e-6)
    # one wide interval (0.1 - 100 TeV) in ln E, where adaptive quad is reliable
    wide = quad(
        lambda t: np.exp(t) * model.evaluate(np.exp(t)),
        np.log(0.1),
        np.log(100),
        epsabs=0,
        epsrel=1e-12,
        limit=400,
    )[0]
    assert model.integral_values(0.1, 100.0) == pytest.approx(wide, rel=1e-6)


def test_quadrature_deep_in_a_cutoff():
    # the spectrum falls by tens of e-folds across each bin, still integrated accurately
    model = ExpCutoffPowerLawSpectralModel(index=2.0, amplitude=1e-12, lambda_=10.0, alpha=1.5)
    for lo, hi in [(1.0, 2.0), (3.0, 5.0)]:
        ref = quad(model.evaluate, lo, hi, epsabs=0, epsrel=1e-12)[0]
        assert model.integral_values(lo, hi) == pytest.approx(ref, rel=1e-6)


def test_integral_broadcasts_and_parameter_overrides():
    model = LogParabolaSpectralModel(alpha=2.2, beta=0.1, amplitude=1e-12, reference=1.0)
    emin = np.array([[0.1], [1.0]])
    emax = np.array([0.5, 2.0, 10.0])
    values = model.integral_values(emin, emax)
    assert values.shape == (2, 3)
    assert values[1, 1] == pytest.approx(model.integral_values(1.0, 2.0), rel=1e-14)
    # evaluate with overridden values in canonical units
    assert model.evaluate(2.0, beta=0.0) == pytest.approx(1e-12 * 2**-2.2)
    with pytest.raises(ConfigError, match=r"unknown parameters \['gamma'\]"):
        model.evaluate(2.0, gamma=1.0)


def test_parameter_units_other_than_canonical():
    tev = PowerLawSpectralModel(index=2.0, amplitude="1e-12 cm-2 s-1 TeV-1", reference="1 TeV")
    mev = PowerLawSpectralModel(index=2.0, amplitude="1e-18 cm-2 s-1 MeV-1", reference="1e6 MeV")
    assert mev.amplitude.unit == u.Unit("MeV-1 cm-2 s-1")  # kept as given
    np.testing.assert_allclose(mev(ENERGIES * u.TeV), tev(ENERGIES * u.TeV), rtol=1e-13)
    assert mev.integral_values(1, 10) == pytest.approx(tev.integral_values(1, 10), rel=1e-13)


def test_bad_parameters_and_energies_raise():
    with pytest.raises(ConfigError, match="unknown parameters \\['gamma'\\]"):
        PowerLawSpectralModel(gamma=2)
    with pytest.raises(ConfigError, match="'amplitude'.*convertible to"):
        PowerLawSpectralModel(amplitude="1e-12 TeV")
    with pytest.raises(ConfigError, match="'reference': expected a quantity in 'TeV'"):
        PowerLawSpectralModel(reference="1")
    model = PowerLawSpectralModel()
    with pytest.raises(ConfigError, match="energy must be an energy quantity"):
        model(1.0)
    with pytest.raises(ConfigError, match="energy_max must be an energy quantity"):
        model.integral(1 * u.TeV, 3 * u.m)


def test_attribute_assignment_sets_values_or_links_parameters():
    a = PowerLawSpectralModel(index=2.0)
    a.index.frozen = True
    a.index = 2.7
    assert a.index.value == 2.7 and a.index.frozen  # same object, new value
    a.reference = 500 * u.GeV
    assert a.reference.quantity == 500 * u.GeV

    b = ExpCutoffPowerLawSpectralModel()
    b.index = a.index  # linked: one parameter shared by both models
    a.index.value = 3.1
    assert b.index.value == 3.1
    with pytest.raises(ConfigError, match="got a Parameter named 'amplitude'"):
        b.index = a.amplitude


def test_copy_is_independent():
    model = LogParabolaSpectralModel(alpha=2.1)
    model.covariance = np.diag([1e-26, 0, 0.01, 0.0])
    copied = model.copy()
    copied.alpha.value = 3.0
    copied.alpha.error = 0.5
    assert model.alpha.value == 2.1 and model.alpha.error == pytest.approx(0.1)
    np.testing.assert_allclose(np.diag(copied.covariance), [1e-26, 0, 0.25, 0])


def test_evaluate_error_matches_analytic_powerlaw_propagation():
    amplitude, index, e0 = 3e-12, 2.4, 1.0
    s_amp, s_index, rho = 4e-13, 0.08, -0.6
    model = PowerLawSpectralModel(index=index, amplitude=amplitude, reference=e0)
    cov = np.zeros((3, 3))
    cov[0, 0], cov[1, 1] = s_index**2, s_amp**2
    cov[0, 1] = cov[1, 0] = rho * s_index * s_amp
    model.covariance = cov

    energy = np.array([0.2, 1.0, 3.0, 30.0])
    dnde = amplitude * (energy / e0) ** -index
    d_amp = dnde / amplitude
    d_index = -np.log(energy / e0) * dnde
    var = d_amp**2 * s_amp**2 + d_index**2 * s_index**2 + 2 * d_amp * d_index * cov[0, 1]
    value, error = model.evaluate_error(energy * u.TeV)
    np.testing.assert_allclose(value.to_value(DNDE), dnde, rtol=1e-14)
    np.testing.assert_allclose(error.to_value(DNDE), np.sqrt(var), rtol=1e-6)

    # integral flux between 1 and 10 TeV: F = A e0 (x2^g - x1^g) / g, g = 1 - index
    g = 1 - index
    flux = amplitude * e0 * (10**g - 1) / g
    d_amp_f = flux / amplitude
    d_index_f = -amplitude * e0 * ((10**g * np.log(10) * g - (10**g - 1)) / g**2)
    var_f = d_amp_f**2 * s_amp**2 + d_index_f**2 * s_index**2 + 2 * d_amp_f * d_index_f * cov[0, 1]
    value, error = model.integral_error(1 * u.TeV, 10 * u.TeV)
    assert value.to_value("cm-2 s-1") == pytest.approx(flux, rel=1e-13)
    assert error.to_value("cm-2 s-1") == pytest.approx(np.sqrt(var_f), rel=1e-6)


def test_evaluate_error_in_non_canonical_units():
    tev = PowerLawSpectralModel(index=2.0, amplitude="2e-12 cm-2 s-1 TeV-1")
    gev = PowerLawSpectralModel(index=2.0, amplitude="2e-15 cm-2 s-1 GeV-1")
    tev.covariance = np.diag([0.01, 1e-26, 0.0])
    gev.covariance = np.diag([0.01, 1e-32, 0.0])  # the same errors, in GeV-1
    _, err_tev = tev.evaluate_error([0.5, 5] * u.TeV)
    _, err_gev = gev.evaluate_error([0.5, 5] * u.TeV)
    np.testing.assert_allclose(err_gev.to_value(DNDE), err_tev.to_value(DNDE), rtol=1e-6)


def test_evaluate_error_is_zero_without_errors():
    value, error = ExpCutoffPowerLawSpectralModel().evaluate_error([1, 2] * u.TeV)
    assert np.all(value.value > 0)
    np.testing.assert_array_equal(error.value, 0.0)

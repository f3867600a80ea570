import astropy.units as u
import numpy as np
import pytest

from gammarules.errors import ConfigError
from gammarules.models import Parameter, Parameters, PowerLawSpectralModel


def test_parameter_from_quantity_string_and_number():
    par = Parameter("amplitude", "3e-12 cm-2 s-1 TeV-1")
    assert par.value == 3e-12
    assert par.unit == u.Unit("TeV-1 cm-2 s-1")
    assert par.quantity == 3e-12 * u.Unit("TeV-1 cm-2 s-1")

    converted = Parameter("reference", 100 * u.GeV, unit="TeV")
    assert converted.value == pytest.approx(0.1, rel=1e-15)
    assert converted.unit == u.TeV

    plain = Parameter("index", 2.5, error=0.1, min=1, max=4)
    assert (plain.value, plain.error, plain.min, plain.max) == (2.5, 0.1, 1.0, 4.0)
    assert plain.unit == u.dimensionless_unscaled


def test_parameter_quantity_setter_converts_and_rejects_other_dimensions():
    par = Parameter("reference", 1.0, "TeV")
    par.quantity = 500 * u.GeV
    assert par.unit == u.GeV and par.value == 500
    par.value = 2 * u.TeV
    assert par.value == pytest.approx(2000)
    with pytest.raises(ConfigError, match="reference.*convertible to 'GeV'"):
        par.quantity = 1 * u.cm
    with pytest.raises(ConfigError, match="reference.*convertible"):
        par.value = 3 * u.s


def test_parameter_bounds_must_be_ordered():
    with pytest.raises(ConfigError, match="'index': min .* larger than max"):
        Parameter("index", 2.0, min=3, max=1)
    with pytest.raises(ConfigError, match="invalid unit"):
        Parameter("x", 1.0, unit="not-a-unit")


def test_parameter_autoscale_keeps_value_and_scales_bounds():
    par = Parameter("amplitude", 3.7e-12, "TeV-1 cm-2 s-1", error=4e-13, min=0, max=1e-10)
    par.autoscale()
    assert par.scale == pytest.approx(1e-12)
    assert par.factor == pytest.approx(3.7)
    assert par.value == pytest.approx(3.7e-12, rel=1e-15)
    assert par.factor_error == pytest.approx(0.4)
    assert (par.factor_min, par.factor_max) == pytest.approx((0.0, 100.0))
    par.factor = 2.0
    assert par.value == pytest.approx(2e-12)

    par.scale_method = "factor1"
    par.autoscale()
    assert par.factor == 1.0 and par.value == pytest.approx(2e-12)


def test_parameters_access_values_and_free_parameters():
    model = PowerLawSpectralModel(index=2.2, amplitude="1e-11 cm-2 s-1 TeV-1")
    pars = model.parameters
    assert pars.names == ["index", "amplitude", "reference"]
    assert pars["index"] is pars[0] is model.index
    assert pars[-1].name == "reference"
    assert "amplitude" in pars and model.amplitude in pars and "norm" not in pars
    np.testing.assert_array_equal(pars.values, [2.2, 1e-11, 1.0])

    free = pars.free_parameters
    assert free.names == ["index", "amplitude"]  # reference is frozen by default
    free.set_values([2.5, 3e-12])
    np.testing.assert_array_equal(pars.values, [2.5, 3e-12, 1.0])

    model.amplitude.frozen = True
    assert pars.free_parameters.names == ["index"]

    model.index.error = 0.2
    np.testing.assert_array_equal(pars.errors, [0.2, 0.0, 0.0])


def test_parameters_errors_on_bad_access():
    pars = Parameters([Parameter("a", 1.0), Parameter("b", 2.0), Parameter("a", 3.0)])
    with pytest.raises(ConfigError, match="no parameter named 'c'"):
        pars["c"]
    with pytest.raises(ConfigError, match="'a' is ambiguous"):
        pars["a"]
    with pytest.raises(ConfigError, match="out of range"):
        pars[5]
    with pytest.raises(ConfigError, match="expected 3 values"):
        pars.set_values([1.0, 2.0])
    with pytest.raises(ConfigError, match="holds Parameter objects"):
        Parameters([1.0])


def test_unique_parameters_drop_shared_objects():
    shared = Parameter("index", 2.0)
    pars = Parameters([shared, Parameter("amplitude", 1.0), shared])
    assert len(pars) == 3
    assert pars.unique_parameters.names == ["index", "amplitude"]


def test_parameter_dict_round_trip_and_unknown_keys():
    par = Parameter("lambda_", 0.2, "TeV-1", error=0.01, min=0, frozen=True, interp="log")
    data = par.to_dict()
    assert data["unit"] == "TeV-1"
    again = Parameter.from_dict(data)
    assert again.to_dict() == data
    assert Parameter.from_dict({**data, "is_norm": False}).value == 0.2
    with pytest.raises(ConfigError, match=r"unsupported keys \['link'\]"):
        Parameter.from_dict({**data, "link": "@x"})
    with pytest.raises(ConfigError, match="'name' and 'value' are required"):
        Parameter.from_dict({"name": "x"})

"""The exceptions gammarules raises: one base class, one subclass per kind of failure."""


class GammarulesError(Exception):
    """Base class of every error raised by gammarules."""


class DataFormatError(GammarulesError):
    """An input file is missing, unreadable, or not in the expected format.

    The message names the file, HDU, column or keyword and what was expected.
    """


class ConfigError(GammarulesError):
    """An analysis configuration is invalid; the message names the key."""


class FitError(GammarulesError):
    """A likelihood fit could not be set up or did not produce a usable result."""

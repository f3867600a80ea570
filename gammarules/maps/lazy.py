"""Deferred import of healpy, whose import (with matplotlib) takes about a second: every
workflow job imports gammarules.maps, few use HEALPix."""

from __future__ import annotations

import importlib.util
import sys

__all__ = ["healpy"]


def _lazy(name):
    """The module ``name``, loaded on first attribute access (importlib's LazyLoader)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


healpy = _lazy("healpy")

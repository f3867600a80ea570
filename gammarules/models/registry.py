"""Model classes by the type name used in model files ("PowerLawSpectralModel", "pl", ...).

Kinds: "spectral", "spatial", "temporal" (the parts of a sky model) and "component"
(the entries of a model file's ``components`` list, e.g. "SkyModel"). A type that is
not registered is kept as an `UnsupportedModel` when a file is read.
"""

_REGISTRY: dict[tuple[str, str], type] = {}


def register(kind: str):
    """Class decorator registering a model class under every name in its ``tag``."""

    def decorator(cls):
        tags = [cls.tag] if isinstance(cls.tag, str) else cls.tag
        for tag in tags:
            _REGISTRY[(kind, tag)] = cls
        return cls

    return decorator


def model_class(kind: str, tag: str) -> type | None:
    """The class registered for `tag` in `kind`, or None."""
    return _REGISTRY.get((kind, tag))

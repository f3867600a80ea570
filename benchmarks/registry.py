"""Registry of benchmark workloads, filled by the ``bench_*.py`` modules.

A workload is a setup function decorated with `workload`: it prepares the inputs (not timed)
and returns a function without arguments, the timed part.
"""

from dataclasses import dataclass

WORKLOADS = {}


@dataclass(frozen=True)
class Workload:
    name: str
    setup: object
    items: int | None
    unit: str
    description: str


def workload(name=None, items=None, unit="items"):
    """Register a setup function; ``items`` processed per call give the throughput column."""

    def register(setup):
        key = name or setup.__name__
        if key in WORKLOADS:
            raise ValueError(f"benchmark workload {key!r} is registered twice")
        doc = (setup.__doc__ or "").strip().splitlines()
        WORKLOADS[key] = Workload(key, setup, items, unit, doc[0] if doc else "")
        return setup

    return register

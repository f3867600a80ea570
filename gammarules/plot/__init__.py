"""Figures of the analyses (matplotlib, written to files)."""

from gammarules.plot.spectrum import plot_counts_spectrum, plot_sed

__all__ = ["plot_counts_spectrum", "plot_sed"]

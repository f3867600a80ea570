"""Convolution kernels on the pixel grid of a WCS geometry, and image convolution.

Kernels are square arrays of odd size centred on the middle pixel. Radii are measured on the
grid with the geometry's pixel scale (flat-sky approximation, good for the sub-degree
kernels of correlation, rings and PSFs away from the projection's singularities).
"""

from __future__ import annotations

import numpy as np
from astropy import units as u
from scipy import fft

from gammarules.errors import GammarulesError

__all__ = ["ImageConvolution", "convolve_image", "kernel_radius", "ring_kernel", "tophat_kernel"]


def _pixel_deg(geom):
    return float(geom.pixel_scale.to_value("deg").mean())


def kernel_radius(shape_half, geom):
    """Distance (deg) of each pixel of a ``(2h+1, 2h+1)`` kernel from its centre."""
    offsets = np.arange(-shape_half, shape_half + 1) * _pixel_deg(geom)
    return np.hypot(offsets[np.newaxis, :], offsets[:, np.newaxis])


def tophat_kernel(radius, geom):
    """Disk of ``radius``: 1 for pixels whose centre lies within it, else 0."""
    radius = u.Quantity(radius, "deg").value
    half = int(np.floor(radius / _pixel_deg(geom)))
    return (kernel_radius(half, geom) <= radius).astype(float)


def ring_kernel(r_in, width, geom):
    """Annulus ``r_in <= r <= r_in + width`` (pixel centres): 1 inside, else 0."""
    r_in = u.Quantity(r_in, "deg").value
    r_out = r_in + u.Quantity(width, "deg").value
    if not (r_in >= 0 and r_out > r_in):
        raise GammarulesError(f"ring kernel: need r_in >= 0 and width > 0, got {r_in}, {width}")
    radius = kernel_radius(int(np.floor(r_out / _pixel_deg(geom))), geom)
    kernel = ((radius >= r_in) & (radius <= r_out)).astype(float)
    if not kernel.any():
        raise GammarulesError(
            f"ring kernel {r_in}-{r_out} deg contains no pixel centre at "
            f"{_pixel_deg(geom)} deg per pixel"
        )
    return kernel


class ImageConvolution:
    """Convolution of images of one shape with fixed kernels ``(..., ky, kx)`` (odd sizes).

    The kernel FFTs are computed once; each call costs one forward and one inverse real FFT
    per image, on a grid padded by half a kernel (enough to keep the wrap-around of the
    circular convolution out of the image). Outside the image counts as zero.
    """

    def __init__(self, kernel, image_shape):
        kernel = np.asarray(kernel, dtype=float)
        ky, kx = kernel.shape[-2:]
        if ky % 2 == 0 or kx % 2 == 0:
            raise GammarulesError(f"convolution kernel needs odd sizes, got {kernel.shape}")
        ny, nx = image_shape
        self.half = (ky // 2, kx // 2)
        self.image_shape = (ny, nx)
        self.fft_shape = [
            fft.next_fast_len(ny + ky // 2, real=True),
            fft.next_fast_len(nx + kx // 2, real=True),
        ]
        self._kernel_fft = fft.rfft2(kernel, self.fft_shape, workers=-1)

    def __call__(self, data):
        """``data`` (..., ny, nx) convolved, same shape."""
        product = fft.rfft2(data, self.fft_shape, workers=-1) * self._kernel_fft
        full = fft.irfft2(product, self.fft_shape, workers=-1)
        (hy, hx), (ny, nx) = self.half, self.image_shape
        return full[..., hy : hy + ny, hx : hx + nx]


def convolve_image(data, kernel):
    """``data`` (..., ny, nx) convolved with ``kernel`` (ky, kx) or (..., ky, kx) per image.

    Same output shape as ``data``; outside the map counts as zero. FFT-based; values that
    are zero up to rounding are set to exactly zero.
    """
    data = np.asarray(data, dtype=float)
    kernel = np.asarray(kernel, dtype=float)
    out = ImageConvolution(kernel, data.shape[-2:])(data)
    scale = np.abs(data).max(initial=0) * np.abs(kernel).sum() * 1e-12
    return np.where(np.abs(out) <= scale, 0.0, out)

// Events -> counts histograms on sky maps, optionally with an energy axis.
//
// WCS maps: celestial (lon, lat) -> native spherical (phi, theta) -> projection plane (x, y)
// -> pixel, following Calabretta & Greisen 2002, A&A 395, 1077 ("WCS Paper II"): the rotation
// of their eq. (5) with the celestial coordinates of the native pole (alpha_p, delta_p) and
// LONPOLE phi_p (computed in gammarules.maps.binning from CRVAL, LONPOLE and LATPOLE), then the
// projections CAR (Sect. 5.2.3), TAN (5.1.3), SIN (5.1.5, no PV), ZEA (5.1.6) and AIT
// (5.3.4); a diagonal linear part (CDELT, CRPIX) takes the plane to pixels. Pixel centres are at
// integer 0-based coordinates; pixel i holds [i - 0.5, i + 0.5).
// HEALPix: pixel index of (lon, lat) in the RING or NESTED scheme (Gorski et al. 2005, ApJ 622,
// 759): equatorial belt |z| <= 2/3 and polar caps, with z = sin(lat).
// Energies: bin j holds [edges[j], edges[j + 1]), found by binary search.
//
// Events outside the map or the energy range, or with NaN coordinates, are not counted.
// Counts are integers, so the result does not depend on the number of threads.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "gammarules_core.hpp"

namespace py = pybind11;

namespace gammarules {
namespace {

using Array = py::array_t<double, py::array::c_style | py::array::forcecast>;
using Pixels = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;
using Counts = py::array_t<std::int64_t>;

constexpr double kPi = 3.141592653589793238462643383279502884;
constexpr double kDegToRad = kPi / 180.0;
constexpr double kRadToDeg = 180.0 / kPi;
constexpr double kTwoOverPi = 0.6366197723675813430755350534900574;

// ------------------------------------------------------------------------------------------
// WCS projections
// ------------------------------------------------------------------------------------------

enum class Projection { CAR, TAN, SIN, ZEA, AIT };

Projection projection_from_code(const std::string &code) {
    if (code == "CAR") return Projection::CAR;
    if (code == "TAN") return Projection::TAN;
    if (code == "SIN") return Projection::SIN;
    if (code == "ZEA") return Projection::ZEA;
    if (code == "AIT") return Projection::AIT;
    throw py::value_error("projection " + code + " is not supported (CAR, TAN, SIN, ZEA, AIT)");
}

struct Wcs {
    Projection projection;
    double alpha_p, sin_delta_p, cos_delta_p, phi_p;  // native pole and LONPOLE, rad
    double crpix[2];                                   // reference pixel, 0-based
    double cdelt[2];                                   // deg per pixel
};

Wcs make_wcs(const std::string &projection, double alpha_p, double delta_p, double phi_p,
             std::pair<double, double> crpix, std::pair<double, double> cdelt) {
    if (!(cdelt.first != 0.0 && cdelt.second != 0.0))
        throw py::value_error("cdelt must be non-zero");
    return Wcs{projection_from_code(projection),
               alpha_p * kDegToRad,
               std::sin(delta_p * kDegToRad),
               std::cos(delta_p * kDegToRad),
               phi_p * kDegToRad,
               {crpix.first, crpix.second},
               {cdelt.first, cdelt.second}};
}

// Pixel coordinates of (lon, lat) in degrees; false where the projection is undefined (the far
// hemisphere of TAN and SIN) or the input is NaN.
inline bool world_to_pixel(const Wcs &w, double lon, double lat, double &px, double &py) {
    const double dalpha = lon * kDegToRad - w.alpha_p, delta = lat * kDegToRad;
    const double sin_d = std::sin(delta), cos_d = std::cos(delta);
    const double sin_a = std::sin(dalpha), cos_a = std::cos(dalpha);
    // Unit vector in the native frame: (x, y) along phi - phi_p = 0, 90 deg; z to the native pole.
    const double x = sin_d * w.cos_delta_p - cos_d * w.sin_delta_p * cos_a;
    const double y = -cos_d * sin_a;
    const double z = sin_d * w.sin_delta_p + cos_d * w.cos_delta_p * cos_a;
    const double cos_theta = std::hypot(x, y), sin_theta = z;
    double phi = w.phi_p + std::atan2(y, x);
    if (phi > kPi)
        phi -= 2.0 * kPi;
    else if (phi < -kPi)
        phi += 2.0 * kPi;

    double px_plane, py_plane;  // projection plane, deg
    if (w.projection == Projection::CAR) {
        px_plane = phi * kRadToDeg;
        py_plane = std::atan2(sin_theta, cos_theta) * kRadToDeg;
    } else if (w.projection == Projection::AIT) {
        const double gamma = kRadToDeg * std::sqrt(2.0 / (1.0 + cos_theta * std::cos(0.5 * phi)));
        px_plane = 2.0 * gamma * cos_theta * std::sin(0.5 * phi);
        py_plane = gamma * sin_theta;
    } else {
        double r;  // zenithal projections: radius in the plane, deg
        if (w.projection == Projection::TAN) {
            if (!(sin_theta > 0.0)) return false;
            r = kRadToDeg * cos_theta / sin_theta;
        } else if (w.projection == Projection::SIN) {
            if (!(sin_theta >= 0.0)) return false;
            r = kRadToDeg * cos_theta;
        } else {  // ZEA: 2 sin((90 - theta) / 2), written without cancellation near theta = 90
            r = kRadToDeg * (sin_theta > 0.0 ? cos_theta * std::sqrt(2.0 / (1.0 + sin_theta))
                                             : std::sqrt(2.0 * (1.0 - sin_theta)));
        }
        px_plane = r * std::sin(phi);
        py_plane = -r * std::cos(phi);
    }
    px = w.crpix[0] + px_plane / w.cdelt[0];
    py = w.crpix[1] + py_plane / w.cdelt[1];
    return px == px && py == py;
}

// Index of the pixel holding 0-based coordinate p on an axis of n pixels, or -1.
inline std::int64_t pixel_index(double p, std::int64_t n) {
    const double shifted = p + 0.5;
    if (!(shifted >= 0.0 && shifted < static_cast<double>(n))) return -1;
    return static_cast<std::int64_t>(shifted);
}

// ------------------------------------------------------------------------------------------
// HEALPix
// ------------------------------------------------------------------------------------------

// Bits of v (< 2^32) moved to the even bit positions.
inline std::uint64_t spread_bits(std::uint64_t v) {
    v &= 0xffffffffULL;
    v = (v | (v << 16)) & 0x0000ffff0000ffffULL;
    v = (v | (v << 8)) & 0x00ff00ff00ff00ffULL;
    v = (v | (v << 4)) & 0x0f0f0f0f0f0f0f0fULL;
    v = (v | (v << 2)) & 0x3333333333333333ULL;
    v = (v | (v << 1)) & 0x5555555555555555ULL;
    return v;
}

inline std::int64_t nest_index(std::int64_t nside, std::int64_t ix, std::int64_t iy, int face) {
    const auto bits = spread_bits(static_cast<std::uint64_t>(ix)) |
                      (spread_bits(static_cast<std::uint64_t>(iy)) << 1);
    return face * nside * nside + static_cast<std::int64_t>(bits);
}

// Pixel of (lon, lat) in degrees, or -1 for NaN or |lat| > 90. nest requires a power of 2.
inline std::int64_t healpix_pixel(std::int64_t nside, bool nest, double lon, double lat) {
    if (!(lat >= -90.0 && lat <= 90.0) || !std::isfinite(lon)) return -1;
    const double z = std::sin(lat * kDegToRad), za = std::fabs(z);
    // tt in [0, 4): longitude in units of 90 deg
    double tt = std::fmod(lon * kDegToRad * kTwoOverPi, 4.0);
    if (tt < 0.0) {
        tt += 4.0;
        if (tt >= 4.0) tt = 0.0;
    }
    const std::int64_t nl4 = 4 * nside;
    if (za <= 2.0 / 3.0) {
        // equatorial belt: indices of the two families of pixel edge lines through the point
        const double t1 = nside * (0.5 + tt), t2 = nside * z * 0.75;
        const auto jp = static_cast<std::int64_t>(t1 - t2);
        const auto jm = static_cast<std::int64_t>(t1 + t2);
        if (nest) {
            const std::int64_t ifp = jp / nside, ifm = jm / nside;
            const int face = static_cast<int>(ifp == ifm ? (ifp | 4) : (ifp < ifm ? ifp : ifm + 8));
            return nest_index(nside, jm & (nside - 1), nside - (jp & (nside - 1)) - 1, face);
        }
        const std::int64_t ring = nside + 1 + jp - jm;  // 1 .. 2 nside + 1, from z = 2/3
        const std::int64_t shift = 1 - (ring & 1);
        const std::int64_t ip = ((jp + jm - nside + shift + 1) / 2) % nl4;
        return 2 * nside * (nside - 1) + (ring - 1) * nl4 + ip;
    }
    // polar caps: 3 (1 - |z|) written as 3 cos^2(lat) / (1 + |z|), exact near the poles
    const double scaled = nside * std::cos(lat * kDegToRad) * std::sqrt(3.0 / (1.0 + za));
    if (nest) {
        const int ntt = std::min(3, static_cast<int>(tt));
        const double tp = tt - ntt;
        const auto jp = std::min<std::int64_t>(static_cast<std::int64_t>(tp * scaled), nside - 1);
        const auto jm =
            std::min<std::int64_t>(static_cast<std::int64_t>((1.0 - tp) * scaled), nside - 1);
        return z >= 0.0 ? nest_index(nside, nside - jm - 1, nside - jp - 1, ntt)
                        : nest_index(nside, jp, jm, ntt + 8);
    }
    const double tp = tt - std::floor(tt);
    const auto jp = static_cast<std::int64_t>(tp * scaled);
    const auto jm = static_cast<std::int64_t>((1.0 - tp) * scaled);
    const std::int64_t ring = jp + jm + 1;  // from the nearest pole
    const std::int64_t ip = static_cast<std::int64_t>(tt * ring) % (4 * ring);
    return z > 0.0 ? 2 * ring * (ring - 1) + ip : 12 * nside * nside - 2 * ring * (ring + 1) + ip;
}

void check_nside(std::int64_t nside, bool nest) {
    if (nside < 1 || nside > (std::int64_t(1) << 29))
        throw py::value_error("nside must be in 1 .. 2^29, got " + std::to_string(nside));
    if (nest && (nside & (nside - 1)) != 0)
        throw py::value_error("nside must be a power of 2 for the NESTED scheme, got " +
                              std::to_string(nside));
}

// ------------------------------------------------------------------------------------------
// Histograms
// ------------------------------------------------------------------------------------------

void check_size(const py::array &a, py::ssize_t n, const char *name) {
    if (a.size() != n)
        throw py::value_error(std::string(name) + " has " + std::to_string(a.size()) +
                              " elements, expected " + std::to_string(n) + " (the size of lon)");
}

// Energy binning: none (one bin holding everything) or edges with one energy per event.
struct EnergyBins {
    const double *energy = nullptr;
    std::vector<double> edges;

    std::int64_t n_bins() const { return energy ? std::int64_t(edges.size()) - 1 : 1; }

    // Bin of event i, or -1.
    std::int64_t index(std::size_t i) const {
        if (!energy) return 0;
        const double e = energy[i];
        if (!(e >= edges.front() && e < edges.back())) return -1;
        return std::upper_bound(edges.begin(), edges.end(), e) - edges.begin() - 1;
    }
};

EnergyBins energy_bins(const std::optional<Array> &energy, const std::optional<Array> &edges,
                       py::ssize_t n) {
    EnergyBins bins;
    if (energy.has_value() != edges.has_value())
        throw py::value_error("give both energy and energy_edges, or neither");
    if (!energy) return bins;
    check_size(*energy, n, "energy");
    bins.energy = energy->data();
    bins.edges.assign(edges->data(), edges->data() + edges->size());
    if (bins.edges.size() < 2) throw py::value_error("energy_edges needs at least 2 values");
    for (std::size_t j = 1; j < bins.edges.size(); ++j)
        if (!(bins.edges[j] > bins.edges[j - 1]))
            throw py::value_error("energy_edges must be strictly increasing");
    return bins;
}

// Counts (n_energy, n_spatial) of events i in [0, n): spatial(i) gives the spatial bin of event
// i or -1. With several threads, each thread fills its own histogram over a contiguous range
// of events and the histograms are added; when these would be larger than the input, each
// thread writes the bin index of its events instead and one pass counts them.
template <class Spatial>
void histogram(std::size_t n, const EnergyBins &energy, std::int64_t n_spatial,
               int requested_threads, std::int64_t *counts, const Spatial &spatial) {
    const auto n_bins = static_cast<std::size_t>(energy.n_bins() * n_spatial);
    std::fill(counts, counts + n_bins, 0);
    auto bin = [&](std::size_t i) -> std::int64_t {
        const std::int64_t s = spatial(i);
        if (s < 0) return -1;
        const std::int64_t e = energy.index(i);
        return e < 0 ? -1 : e * n_spatial + s;
    };
    const unsigned n_threads = resolve_num_threads(requested_threads, n);
    if (n_threads == 1) {
        for (std::size_t i = 0; i < n; ++i)
            if (const auto b = bin(i); b >= 0) ++counts[b];
        return;
    }
    if (n_bins * (n_threads - 1) <= n) {
        std::vector<std::vector<std::int64_t>> own(n_threads - 1, std::vector<std::int64_t>(n_bins));
        parallel_ranges(n, n_threads, [&](unsigned t, std::size_t begin, std::size_t end) {
            std::int64_t *h = t == 0 ? counts : own[t - 1].data();
            for (std::size_t i = begin; i < end; ++i)
                if (const auto b = bin(i); b >= 0) ++h[b];
        });
        for (const auto &h : own)
            for (std::size_t b = 0; b < n_bins; ++b) counts[b] += h[b];
        return;
    }
    std::vector<std::int64_t> index(n);
    parallel_ranges(n, n_threads, [&](unsigned, std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) index[i] = bin(i);
    });
    for (const auto b : index)
        if (b >= 0) ++counts[b];
}

Counts new_counts(const EnergyBins &energy, std::vector<py::ssize_t> spatial_shape) {
    spatial_shape.insert(spatial_shape.begin(), energy.n_bins());
    return Counts(spatial_shape);
}

void check_shape(std::int64_t nx, std::int64_t ny) {
    if (nx < 1 || ny < 1)
        throw py::value_error("the map needs at least one pixel, got nx=" + std::to_string(nx) +
                              ", ny=" + std::to_string(ny));
}

Counts bin_wcs(const Array &lon, const Array &lat, const std::string &projection,
               double alpha_p, double delta_p, double phi_p, std::pair<double, double> crpix,
               std::pair<double, double> cdelt, std::int64_t nx, std::int64_t ny,
               const std::optional<Array> &energy, const std::optional<Array> &energy_edges,
               int n_threads) {
    const Wcs w = make_wcs(projection, alpha_p, delta_p, phi_p, crpix, cdelt);
    check_shape(nx, ny);
    check_size(lat, lon.size(), "lat");
    const EnergyBins bins = energy_bins(energy, energy_edges, lon.size());
    Counts out = new_counts(bins, {ny, nx});
    const double *lo = lon.data(), *la = lat.data();
    std::int64_t *c = out.mutable_data();
    py::gil_scoped_release release;
    histogram(static_cast<std::size_t>(lon.size()), bins, nx * ny, n_threads, c,
              [&](std::size_t i) -> std::int64_t {
                  double px, py;
                  if (!world_to_pixel(w, lo[i], la[i], px, py)) return -1;
                  const std::int64_t ix = pixel_index(px, nx), iy = pixel_index(py, ny);
                  return ix < 0 || iy < 0 ? -1 : iy * nx + ix;
              });
    return out;
}

Counts bin_pixels(const Array &x, const Array &y, std::int64_t nx, std::int64_t ny,
                  const std::optional<Array> &energy, const std::optional<Array> &energy_edges,
                  int n_threads) {
    check_shape(nx, ny);
    if (y.size() != x.size())
        throw py::value_error("y has " + std::to_string(y.size()) + " elements, expected " +
                              std::to_string(x.size()) + " (the size of x)");
    const EnergyBins bins = energy_bins(energy, energy_edges, x.size());
    Counts out = new_counts(bins, {ny, nx});
    const double *px = x.data(), *py = y.data();
    std::int64_t *c = out.mutable_data();
    py::gil_scoped_release release;
    histogram(static_cast<std::size_t>(x.size()), bins, nx * ny, n_threads, c,
              [&](std::size_t i) -> std::int64_t {
                  const std::int64_t ix = pixel_index(px[i], nx), iy = pixel_index(py[i], ny);
                  return ix < 0 || iy < 0 ? -1 : iy * nx + ix;
              });
    return out;
}

Counts bin_healpix(const Array &lon, const Array &lat, std::int64_t nside, bool nest,
                   const std::optional<Array> &energy, const std::optional<Array> &energy_edges,
                   const std::optional<Pixels> &pixels, int n_threads) {
    check_nside(nside, nest);
    check_size(lat, lon.size(), "lat");
    const EnergyBins bins = energy_bins(energy, energy_edges, lon.size());
    // partial maps: the pixels, sorted and unique; the column of a pixel is its rank
    const std::int64_t *first = nullptr, *last = nullptr;
    std::int64_t n_spatial = 12 * nside * nside;
    if (pixels) {
        first = pixels->data();
        last = first + pixels->size();
        n_spatial = pixels->size();
        for (auto p = first; p != last; ++p)
            if (*p < 0 || *p >= 12 * nside * nside || (p != first && !(p[-1] < *p)))
                throw py::value_error("pixels must be sorted, unique and in 0 .. 12 nside^2 - 1");
    }
    Counts out = new_counts(bins, {n_spatial});
    const double *lo = lon.data(), *la = lat.data();
    std::int64_t *c = out.mutable_data();
    py::gil_scoped_release release;
    histogram(static_cast<std::size_t>(lon.size()), bins, n_spatial, n_threads, c,
              [&](std::size_t i) -> std::int64_t {
                  const std::int64_t p = healpix_pixel(nside, nest, lo[i], la[i]);
                  if (!first || p < 0) return p;
                  const auto found = std::lower_bound(first, last, p);
                  return found != last && *found == p ? found - first : -1;
              });
    return out;
}

// ------------------------------------------------------------------------------------------
// Per-event coordinates (used to test the projections and by map filling)
// ------------------------------------------------------------------------------------------

std::pair<Array, Array> wcs_world_to_pixel(const Array &lon, const Array &lat,
                                           const std::string &projection, double alpha_p,
                                           double delta_p, double phi_p,
                                           std::pair<double, double> crpix,
                                           std::pair<double, double> cdelt, int n_threads) {
    const Wcs w = make_wcs(projection, alpha_p, delta_p, phi_p, crpix, cdelt);
    check_size(lat, lon.size(), "lat");
    const std::vector<py::ssize_t> shape(lon.shape(), lon.shape() + lon.ndim());
    Array x(shape), y(shape);
    const double *lo = lon.data(), *la = lat.data();
    double *xs = x.mutable_data(), *ys = y.mutable_data();
    const auto n = static_cast<std::size_t>(lon.size());
    py::gil_scoped_release release;
    parallel_blocks(n, resolve_num_threads(n_threads, n), [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i)
            if (!world_to_pixel(w, lo[i], la[i], xs[i], ys[i])) xs[i] = ys[i] = std::nan("");
    });
    return {std::move(x), std::move(y)};
}

Pixels healpix_ang2pix(std::int64_t nside, const Array &lon, const Array &lat, bool nest,
                       int n_threads) {
    check_nside(nside, nest);
    check_size(lat, lon.size(), "lat");
    Pixels out(std::vector<py::ssize_t>(lon.shape(), lon.shape() + lon.ndim()));
    const double *lo = lon.data(), *la = lat.data();
    std::int64_t *o = out.mutable_data();
    const auto n = static_cast<std::size_t>(lon.size());
    py::gil_scoped_release release;
    parallel_blocks(n, resolve_num_threads(n_threads, n), [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) o[i] = healpix_pixel(nside, nest, lo[i], la[i]);
    });
    return out;
}

}  // namespace

void register_binning(py::module_ &m) {
    // Angles in degrees; crpix 0-based (x, y); cdelt (x, y) in deg per pixel; the native pole
    // (alpha_p, delta_p) and phi_p (LONPOLE) as in WCS Paper II.
    const auto proj = py::arg("projection"), ap = py::arg("alpha_p"), dp = py::arg("delta_p"),
               pp = py::arg("phi_p"), crpix = py::arg("crpix"), cdelt = py::arg("cdelt");
    m.def("bin_wcs", &bin_wcs, py::arg("lon"), py::arg("lat"), proj, ap, dp, pp, crpix, cdelt,
          py::arg("nx"), py::arg("ny"), py::arg("energy") = py::none(),
          py::arg("energy_edges") = py::none(), py::arg("n_threads") = 0,
          "Counts (n_energy, ny, nx) of events (lon, lat) in deg on a WCS map.");
    m.def("bin_pixels", &bin_pixels, py::arg("x"), py::arg("y"), py::arg("nx"), py::arg("ny"),
          py::arg("energy") = py::none(), py::arg("energy_edges") = py::none(),
          py::arg("n_threads") = 0,
          "Counts (n_energy, ny, nx) of events at 0-based pixel coordinates (x, y).");
    m.def("bin_healpix", &bin_healpix, py::arg("lon"), py::arg("lat"), py::arg("nside"),
          py::arg("nest"), py::arg("energy") = py::none(), py::arg("energy_edges") = py::none(),
          py::arg("pixels") = py::none(), py::arg("n_threads") = 0,
          "Counts (n_energy, n_pixels) of events (lon, lat) in deg on a HEALPix map; pixels: "
          "sorted pixel indices of a partial map.");
    m.def("wcs_world_to_pixel", &wcs_world_to_pixel, py::arg("lon"), py::arg("lat"), proj, ap,
          dp, pp, crpix, cdelt, py::arg("n_threads") = 0,
          "0-based pixel coordinates (x, y) of (lon, lat) in deg; NaN where undefined.");
    m.def("healpix_ang2pix", &healpix_ang2pix, py::arg("nside"), py::arg("lon"), py::arg("lat"),
          py::arg("nest"), py::arg("n_threads") = 0,
          "HEALPix pixel indices of (lon, lat) in deg; -1 for NaN or |lat| > 90.");
}

}  // namespace gammarules

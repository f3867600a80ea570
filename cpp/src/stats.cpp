// Poisson fit statistics (-2 log L + constant) per bin and summed over bins.
//
// Conventions (the same as Gammapy's `cash` and `wstat`, so values compare directly):
//   cash  = 2 (mu - n log mu), with mu replaced by 1e-25 where mu <= 1e-25;
//   wstat = 2 [mu_sig + (1 + alpha) mu_bkg - n_on - n_off
//              + n_on log(n_on / (mu_sig + alpha mu_bkg)) + n_off log(n_off / mu_bkg)],
//           where n log(n / x) is 0 for n = 0 and mu_bkg is the background that maximises the
//           on/off likelihood for the given signal (Arnaud, XSPEC manual, appendix B). The
//           constant n log n - n terms make wstat 0 for a perfect fit.
// The NumPy twins are gammarules.stats.fit_statistic.cash / wstat / wstat_mu_bkg.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cmath>
#include <optional>
#include <string>

#include "gammarules_core.hpp"
#include "vector_math.hpp"

namespace py = pybind11;

namespace gammarules {
namespace {

constexpr double kCashTruncation = 1e-25;

using Array = py::array_t<double, py::array::c_style | py::array::forcecast>;
using Mask = py::array_t<bool, py::array::c_style | py::array::forcecast>;

inline double cash_bin(double n, double mu) {
    // Written so that NaN in mu propagates (a NaN compares false).
    const double m = mu <= kCashTruncation ? kCashTruncation : mu;
    const double with_counts = 2.0 * (m - n * vector_log(m));
    return n == 0.0 ? 2.0 * m : with_counts;
}

// Profiled background: the non-negative root of
//   alpha (1 + alpha) b^2 - c b - n_off mu_sig = 0,  c = alpha (n_on + n_off) - (1 + alpha) mu_sig,
// i.e. (c + d) / (2 alpha (1 + alpha)) with d the square root of the discriminant; for c < 0 it
// is computed as 2 n_off mu_sig / (d - c), which avoids the cancellation in c + d.
inline double wstat_mu_bkg_bin(double n_on, double n_off, double alpha, double mu_sig) {
    const double c = alpha * (n_on + n_off) - (1.0 + alpha) * mu_sig;
    const double d = std::sqrt(c * c + 4.0 * alpha * (1.0 + alpha) * n_off * mu_sig);
    const bool c_positive = c >= 0.0;
    const double numerator = c_positive ? c + d : 2.0 * n_off * mu_sig;
    const double denominator = c_positive ? 2.0 * alpha * (1.0 + alpha) : d - c;
    return numerator / denominator;
}

inline double wstat_bin(double n_on, double n_off, double alpha, double mu_sig) {
    const double mu_bkg = wstat_mu_bkg_bin(n_on, n_off, alpha, mu_sig);
    const double mu_on = mu_sig + alpha * mu_bkg;
    // n log(n / mu) is computed for all bins (no branches, so loops vectorise) and dropped for n = 0
    const double on_term = n_on * vector_log(n_on / mu_on);
    const double off_term = n_off * vector_log(n_off / mu_bkg);
    double stat = mu_sig + (1.0 + alpha) * mu_bkg - n_on - n_off;
    stat += n_on == 0.0 ? 0.0 : on_term;
    stat += n_off == 0.0 ? 0.0 : off_term;
    return 2.0 * stat;
}

// The hot loops, compiled for several instruction sets (see vector_math.hpp).
GAMMARULES_SIMD_CLONES
void cash_values(const double *n, const double *mu, std::size_t count, double *out) {
    for (std::size_t i = 0; i < count; ++i) out[i] = cash_bin(n[i], mu[i]);
}

GAMMARULES_SIMD_CLONES
void wstat_values(const double *n_on, const double *n_off, double alpha, const double *mu_sig,
                  std::size_t count, double *out) {
    for (std::size_t i = 0; i < count; ++i) out[i] = wstat_bin(n_on[i], n_off[i], alpha, mu_sig[i]);
}

GAMMARULES_SIMD_CLONES
void wstat_values(const double *n_on, const double *n_off, const double *alpha,
                  const double *mu_sig, std::size_t count, double *out) {
    for (std::size_t i = 0; i < count; ++i)
        out[i] = wstat_bin(n_on[i], n_off[i], alpha[i], mu_sig[i]);
}

void check_size(const py::array &a, py::ssize_t n, const char *name, const char *ref) {
    if (a.size() != n)
        throw py::value_error(std::string(name) + " has " + std::to_string(a.size()) +
                              " elements, expected " + std::to_string(n) + " (the size of " +
                              ref + ")");
}

// alpha is one value for all bins (size 1) or one value per bin.
bool alpha_per_bin(const Array &alpha, py::ssize_t n) {
    if (alpha.size() == 1) return false;
    check_size(alpha, n, "alpha", "n_on, or 1");
    return true;
}

const bool *mask_data(const std::optional<Mask> &mask, py::ssize_t n) {
    if (!mask) return nullptr;
    check_size(*mask, n, "mask", "n_on");
    return mask->data();
}

Array empty_like(const Array &a) {
    return Array(std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim()));
}

// fill(begin, end, out) for the on/off bins [begin, end), alpha scalar or per bin.
auto wstat_fill(const Array &n_on, const Array &n_off, const Array &alpha, const Array &mu_sig) {
    check_size(n_off, n_on.size(), "n_off", "n_on");
    check_size(mu_sig, n_on.size(), "mu_sig", "n_on");
    const bool per_bin = alpha_per_bin(alpha, n_on.size());
    const double *on = n_on.data(), *off = n_off.data(), *a = alpha.data(), *mu = mu_sig.data();
    return [=](std::size_t begin, std::size_t end, double *out) {
        if (per_bin)
            wstat_values(on + begin, off + begin, a + begin, mu + begin, end - begin, out);
        else
            wstat_values(on + begin, off + begin, a[0], mu + begin, end - begin, out);
    };
}

auto cash_fill(const Array &n_on, const Array &mu_on) {
    check_size(mu_on, n_on.size(), "mu_on", "n_on");
    const double *n = n_on.data(), *mu = mu_on.data();
    return [=](std::size_t begin, std::size_t end, double *out) {
        cash_values(n + begin, mu + begin, end - begin, out);
    };
}

Array cash(const Array &n_on, const Array &mu_on, int n_threads) {
    const auto fill = cash_fill(n_on, mu_on);
    Array out = empty_like(n_on);
    double *o = out.mutable_data();
    const auto size = static_cast<std::size_t>(n_on.size());
    py::gil_scoped_release release;
    parallel_fill(size, o, n_threads, fill);
    return out;
}

double cash_sum(const Array &n_on, const Array &mu_on, const std::optional<Mask> &mask,
                int n_threads) {
    const auto fill = cash_fill(n_on, mu_on);
    const bool *keep = mask_data(mask, n_on.size());
    const auto size = static_cast<std::size_t>(n_on.size());
    py::gil_scoped_release release;
    return parallel_sum(size, keep, n_threads, fill);
}

Array wstat(const Array &n_on, const Array &n_off, const Array &alpha, const Array &mu_sig,
            int n_threads) {
    const auto fill = wstat_fill(n_on, n_off, alpha, mu_sig);
    Array out = empty_like(n_on);
    double *o = out.mutable_data();
    const auto size = static_cast<std::size_t>(n_on.size());
    py::gil_scoped_release release;
    parallel_fill(size, o, n_threads, fill);
    return out;
}

double wstat_sum(const Array &n_on, const Array &n_off, const Array &alpha, const Array &mu_sig,
                 const std::optional<Mask> &mask, int n_threads) {
    const auto fill = wstat_fill(n_on, n_off, alpha, mu_sig);
    const bool *keep = mask_data(mask, n_on.size());
    const auto size = static_cast<std::size_t>(n_on.size());
    py::gil_scoped_release release;
    return parallel_sum(size, keep, n_threads, fill);
}

}  // namespace

void register_stats(py::module_ &m) {
    m.attr("CASH_TRUNCATION") = kCashTruncation;
    // n_threads: threads for inputs above 2^18 elements; 0 (or negative) uses the default.
    m.def("cash", &cash, py::arg("n_on"), py::arg("mu_on"), py::arg("n_threads") = 0,
          "Per-bin Cash statistic 2 (mu - n log mu), mu truncated at 1e-25.");
    m.def("cash_sum", &cash_sum, py::arg("n_on"), py::arg("mu_on"), py::arg("mask") = py::none(),
          py::arg("n_threads") = 0, "Sum of the Cash statistic over the bins where mask is true.");
    m.def("wstat", &wstat, py::arg("n_on"), py::arg("n_off"), py::arg("alpha"), py::arg("mu_sig"),
          py::arg("n_threads") = 0,
          "Per-bin WStat with the profiled background; alpha is one value or one per bin.");
    m.def("wstat_sum", &wstat_sum, py::arg("n_on"), py::arg("n_off"), py::arg("alpha"),
          py::arg("mu_sig"), py::arg("mask") = py::none(), py::arg("n_threads") = 0,
          "Sum of WStat over the bins where mask is true.");
}

}  // namespace gammarules

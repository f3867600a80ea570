// Declarations shared by the kernels of gammarules._core.
// Every kernel works on plain contiguous arrays in canonical units and has a NumPy twin in
// the Python package that the tests compare it with.
#pragma once
#include <pybind11/pybind11.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <system_error>
#include <thread>
#include <vector>

namespace gammarules {
void register_stats(pybind11::module_ &m);
void register_binning(pybind11::module_ &m);

// ---------------------------------------------------------------------------------------------
// Threads. Kernels split their input into fixed blocks of `kBlock` elements; a block is always
// processed by one thread, and per-block results are combined in block order. Results are
// therefore identical for any number of threads.
// ---------------------------------------------------------------------------------------------

// Inputs with more elements than this are processed with several threads.
constexpr std::size_t kThreadingThreshold = std::size_t(1) << 18;
constexpr std::size_t kBlock = 1024;

// Default number of threads; 0 means std::thread::hardware_concurrency().
inline std::atomic<int> default_num_threads{0};

// Number of threads to use for `n` elements when the caller asks for `requested` (0: default).
inline unsigned resolve_num_threads(int requested, std::size_t n) {
    int wanted = requested > 0 ? requested : default_num_threads.load();
    if (wanted <= 0) wanted = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    if (n <= kThreadingThreshold) return 1;
    const std::size_t blocks = (n + kBlock - 1) / kBlock;
    return static_cast<unsigned>(std::min<std::size_t>(static_cast<std::size_t>(wanted), blocks));
}

// Calls body(t, begin, end) for t in [0, n_threads) on contiguous ranges [begin, end) covering
// [0, n): range t holds the blocks [n_blocks t / n_threads, n_blocks (t + 1) / n_threads) and
// runs on its own thread (on the calling thread for t = 0, and for any range no thread could
// be started for).
template <class Body>
void parallel_ranges(std::size_t n, unsigned n_threads, const Body &body) {
    if (n_threads <= 1) {
        body(0u, std::size_t(0), n);
        return;
    }
    const std::size_t n_blocks = (n + kBlock - 1) / kBlock;
    auto range = [&](unsigned t) {
        const std::size_t begin = n_blocks * t / n_threads * kBlock;
        const std::size_t end = n_blocks * (t + 1) / n_threads * kBlock;
        body(t, std::min(n, begin), std::min(n, end));
    };
    std::vector<std::thread> workers;
    unsigned started = 1;
    try {
        for (; started < n_threads; ++started) workers.emplace_back(range, started);
    } catch (const std::system_error &) {
        // no more threads available: the calling thread takes the remaining ranges
    }
    range(0);
    for (unsigned t = started; t < n_threads; ++t) range(t);
    for (auto &w : workers) w.join();
}

// Calls body(begin, end) on consecutive blocks [begin, end) covering [0, n), spread over
// `n_threads` threads, each thread taking a contiguous run of blocks (see parallel_ranges).
template <class Body>
void parallel_blocks(std::size_t n, unsigned n_threads, const Body &body) {
    parallel_ranges(n, n_threads, [&](unsigned, std::size_t begin, std::size_t end) {
        for (std::size_t b = begin; b < end; b += kBlock) body(b, std::min(end, b + kBlock));
    });
}

// Pairwise sum of x[0..n): error grows like log(n) rather than n. The leaves of 64 values use
// eight interleaved partial sums; the split points depend on n only, so the result does too.
inline double pairwise_sum(const double *x, std::size_t n) {
    if (n <= 64) {
        double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        std::size_t i = 0;
        for (; i + 8 <= n; i += 8)
            for (int k = 0; k < 8; ++k) acc[k] += x[i + k];
        double s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
        for (; i < n; ++i) s += x[i];
        return s;
    }
    const std::size_t half = (n / 2 + 7) / 8 * 8;
    return pairwise_sum(x, half) + pairwise_sum(x + half, n - half);
}

// Sum of values over [0, n) where mask (may be null) is true. fill(begin, end, out) writes the
// values of elements [begin, end) to out[0 .. end - begin). Values are summed pairwise within
// each block, and block sums pairwise in block order.
template <class Fill>
double parallel_sum(std::size_t n, const bool *mask, int requested_threads, const Fill &fill) {
    const std::size_t n_blocks = (n + kBlock - 1) / kBlock;
    std::vector<double> block_sums(n_blocks, 0.0);
    parallel_blocks(n, resolve_num_threads(requested_threads, n), [&](std::size_t begin, std::size_t end) {
        double values[kBlock];
        const std::size_t count = end - begin;
        fill(begin, end, values);
        if (mask)
            for (std::size_t i = 0; i < count; ++i) values[i] = mask[begin + i] ? values[i] : 0.0;
        block_sums[begin / kBlock] = pairwise_sum(values, count);
    });
    return pairwise_sum(block_sums.data(), n_blocks);
}

// out[i] = value of element i for i in [0, n), with fill as in parallel_sum.
template <class Fill>
void parallel_fill(std::size_t n, double *out, int requested_threads, const Fill &fill) {
    parallel_blocks(n, resolve_num_threads(requested_threads, n),
                    [&](std::size_t begin, std::size_t end) { fill(begin, end, out + begin); });
}
}  // namespace gammarules

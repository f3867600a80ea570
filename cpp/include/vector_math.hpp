// Elementary functions written so that loops calling them auto-vectorise (no branches, no
// library calls), and a macro that compiles hot loops for several instruction sets.
#pragma once
#include <cstdint>
#include <cstring>
#include <limits>

// GAMMARULES_SIMD_CLONES: on x86-64 Linux with GCC, compile the function twice -- for x86-64-v3 (AVX2)
// and for the baseline -- and pick one at load time from the CPU. The build uses
// -ffp-contract=off, so both versions round identically and give the same results.
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__)
#define GAMMARULES_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define GAMMARULES_SIMD_CLONES
#endif

namespace gammarules {

inline double double_from_bits(std::uint64_t bits) {
    double x;
    std::memcpy(&x, &bits, sizeof x);
    return x;
}

inline std::uint64_t bits_of(double x) {
    std::uint64_t bits;
    std::memcpy(&bits, &x, sizeof bits);
    return bits;
}

// Natural logarithm, branch-free, within about 1 ulp of std::log, with the same special values
// (log 0 = -inf, log inf = inf, NaN for negative or NaN input; subnormals handled).
//
// x = 2^e m with m in [sqrt(1/2), sqrt(2)); log m = 2 atanh(s) with s = (m - 1) / (m + 1),
// |s| <= 3 - 2 sqrt(2), evaluated as 2 s + s z P(z), z = s^2. P interpolates
// (2 atanh(s) / s - 2) / z at Chebyshev nodes on [0, (3 - 2 sqrt 2)^2] (relative error < 5e-16).
inline double vector_log(double x) {
    constexpr double kMinNormal = std::numeric_limits<double>::min();
    constexpr double kTwo52 = 4503599627370496.0;
    constexpr std::uint64_t kOne = 0x3ff0000000000000ULL;             // bits of 1.0
    constexpr std::uint64_t kSqrtHalf = 0x3fe6a09e667f3bcdULL;       // bits of sqrt(1/2)
    constexpr std::uint64_t kTwo52Bits = 0x4330000000000000ULL;      // bits of 2^52
    constexpr double kLn2Hi = 6.93147180369123816490e-01;            // ln 2, upper 32 bits
    constexpr double kLn2Lo = 1.90821492927058770002e-10;            // ln 2 - kLn2Hi

    const bool subnormal = x < kMinNormal;
    const std::uint64_t bits = bits_of(subnormal ? x * kTwo52 : x);
    // biased exponent of x / sqrt(1/2), i.e. e + 1023
    const std::uint64_t k = (bits + (kOne - kSqrtHalf)) >> 52;
    const double m = double_from_bits(bits - (k << 52) + kOne);
    // exact integer to double for 0 <= k < 2^52, without a (non-vectorisable) int64 conversion
    const double e = (double_from_bits(kTwo52Bits | k) - (kTwo52 + 1023.0)) - (subnormal ? 52.0 : 0.0);

    const double f = m - 1.0;
    const double s = f / (2.0 + f);
    const double z = s * s;
    double p = 0.14616449685043406;
    p = p * z + 0.15331721600556042;
    p = p * z + 0.18182889125261723;
    p = p * z + 0.2222221113479508;
    p = p * z + 0.28571428625975487;
    p = p * z + 0.39999999999899505;
    p = p * z + 0.666666666666667;
    double result = e * kLn2Hi + ((2.0 * s + s * (z * p)) + e * kLn2Lo);

    constexpr double kInf = std::numeric_limits<double>::infinity();
    result = x == kInf ? kInf : result;
    result = x == 0.0 ? -kInf : result;
    result = !(x >= 0.0) ? std::numeric_limits<double>::quiet_NaN() : result;
    return result;
}

}  // namespace gammarules

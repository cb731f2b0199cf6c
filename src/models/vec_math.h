// Branch-free float maths for the hand-written CPU loops (rnn_lstm_fused.cpp, mdn_fused.cpp), so
// the loops calling it vectorise, and the attribute that builds such loops for AVX2 and baseline.
// Include it after every other header of a .cpp: it sets no-trapping-math for the rest of that
// file, because GCC if-converts the clamps into vector min/max only when float compares may not trap.
#pragma once

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif

#include <cstdint>
#include <cstring>

namespace k2k::detail {

// GCC builds the element loops twice, for AVX2 and for the baseline, and picks one when the program
// starts (ifunc). Other compilers build the baseline only.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define K2K_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define K2K_VECTOR_CLONES
#endif

// exp(x) without branches: Cody-Waite reduction x = k·ln2 + r, |r| <= ln2/2, then Cephes' degree-6
// polynomial for e^r (relative error about 2e-7 over the clamped range), times 2^k built in the
// exponent bits. x is clamped to [-87, 88]: the results stay finite and normal (e^-87 ~ 1.6e-38
// stands in for anything smaller).
inline float exp_clamped(float x) {
    x = x > -87.0f ? x : -87.0f;
    x = x < 88.0f ? x : 88.0f;
    const float round_magic = 12582912.0f;  // 1.5·2^23: adding and subtracting it rounds to an integer
    const float k = (x * 1.44269504088896341f + round_magic) - round_magic;
    float r = x - k * 0.693359375f;
    r = r - k * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const float er = p * r * r + r + 1.0f;
    const int32_t bits = (int32_t(k) + 127) << 23;
    float scale;
    std::memcpy(&scale, &bits, sizeof scale);
    return er * scale;
}

}  // namespace k2k::detail

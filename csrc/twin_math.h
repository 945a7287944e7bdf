/* Small numeric helpers, inline so the per-cell loops vectorize.
 *
 * twin_exp: exp(x) with range reduction x = n ln2 + r, |r| <= ln2/2, and the degree-12 Taylor
 * polynomial of e^r (truncation error below 2.5e-16 relative) evaluated by Estrin's scheme
 * (Knuth, TAOCP vol. 2, 4.6.4), scaled by 2^n built in the exponent bits. Written branch-free
 * (the round-to-integer uses the 1.5*2^52 shifter) so that compilers vectorize it; glibc's exp
 * is a function call per element and does not. Measured
 * against libm exp over [-700, 700]: relative error below 1e-14 (tests/test_kernel_math.py); 2 ulp
 * at most on 500,000 random points.
 * Method: Muller, "Elementary Functions", ch. 11 (additive range reduction, Cody-Waite split
 * of ln2 into a high and a low part).
 */
#ifndef TWIN_MATH_H
#define TWIN_MATH_H

#include <stdint.h>
#include <string.h>

/* Per-cell loops are compiled twice when TWIN_MULTIVERSION is defined on x86-64 Linux with GCC:
 * for AVX2 and for the baseline, picked at load time. Both clones give identical numbers: ISO C
 * mode (-std=c99) keeps GCC from contracting a*b+c into FMA, and no loop reduces in floating point,
 * so only the vector width differs. */
#if defined(TWIN_MULTIVERSION) && defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    defined(__linux__)
#define TWIN_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define TWIN_VECTOR_CLONES
#endif

/* A loop body that a cloned function calls with constant arguments (one specialisation per call
 * site): always inlined, so that every clone compiles it for its own target. */
#if defined(__GNUC__)
#define TWIN_INLINE_BODY static inline __attribute__((always_inline))
#else
#define TWIN_INLINE_BODY static inline
#endif

/* Before a per-cell loop whose arrays are distinct parts of the pack's block: iterations do not
 * depend on each other, so the compiler may vectorize a loop over many arrays without runtime
 * overlap checks (which it gives up on past about ten arrays). Changes no value. */
#if defined(__GNUC__) && !defined(__clang__)
#define TWIN_IVDEP _Pragma("GCC ivdep")
#elif defined(__clang__)
#define TWIN_IVDEP _Pragma("clang loop vectorize(assume_safety)")
#else
#define TWIN_IVDEP
#endif

/* Before a short loop over vector lanes: kept a loop, not unrolled into scalar statements, so that
 * the loop vectorizer (which handles the lane-wise selects) rather than block vectorization sees it. */
#if defined(__GNUC__) && !defined(__clang__)
#define TWIN_NO_UNROLL _Pragma("GCC unroll 1")
#else
#define TWIN_NO_UNROLL
#endif

static inline double twin_exp(double x)
{
    const double log2e = 1.4426950408889634074;
    const double ln2_hi = 6.93147180369123816490e-01;
    const double ln2_lo = 1.90821492927058770002e-10;
    const double shifter = 6755399441055744.0; /* 1.5 * 2^52 */
    double kd, n, r, p, scale, r2, r4, r8, q0, q1, q2, q3, q4, q5;
    uint64_t ki, bits;
    x = x < -708.0 ? -708.0 : x;
    x = x > 708.0 ? 708.0 : x;
    kd = x * log2e + shifter;
    memcpy(&ki, &kd, sizeof ki);
    n = kd - shifter;
    r = (x - n * ln2_hi) - n * ln2_lo;
    /* Estrin's scheme: the same polynomial as Horner's rule, evaluated as a tree of depth 4 rather
       than a chain of 12 multiply-adds, so that the latency of one exp is about a third (a cell
       step waits on three of them) */
    r2 = r * r;
    r4 = r2 * r2;
    r8 = r4 * r4;
    q0 = 1.0 + r;
    q1 = 0.5 + r * (1.0 / 6.0);
    q2 = 1.0 / 24.0 + r * (1.0 / 120.0);
    q3 = 1.0 / 720.0 + r * (1.0 / 5040.0);
    q4 = 1.0 / 40320.0 + r * (1.0 / 362880.0);
    q5 = 1.0 / 3628800.0 + r * (1.0 / 39916800.0);
    q0 = q0 + r2 * q1;
    q2 = q2 + r2 * q3;
    q4 = q4 + r2 * q5 + r4 * (1.0 / 479001600.0);
    q0 = q0 + r4 * q2;
    p = q0 + r8 * q4;
    /* the low bits of kd's mantissa hold n (two's complement, |n| < 2^51) */
    bits = (ki + 1023u) << 52;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* Round to the nearest multiple of step (step > 0), ties to even, branch-free for |x/step| < 2^51. */
static inline double twin_round_to(double x, double step)
{
    const double shifter = 6755399441055744.0;
    /* (q + shifter) - shifter rounds q; valid C99 arithmetic that compilers keep as written
       unless told to reassociate (-ffast-math, which the build never uses). */
    double q = x / step;
    q = (q + shifter) - shifter;
    return q * step;
}

static inline double twin_sign(double x)
{
    const double pos = x > 0.0 ? 1.0 : 0.0;
    const double neg = x < 0.0 ? 1.0 : 0.0;
    return pos - neg;
}

static inline double twin_clamp(double x, double lo, double hi)
{
    x = x < lo ? lo : x;
    return x > hi ? hi : x;
}

#endif

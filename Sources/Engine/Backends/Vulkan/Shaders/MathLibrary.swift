/// Float32 and integer math for kernels. Vulkan only bounds GLSL's built-ins loosely (`sin`/`cos` to an
/// absolute 2^-11, `exp` to 3 + 2|x| ulp, division to 2.5 ulp) and leaves NaN handling to the
/// driver, so results would differ by device. These versions use only add, multiply, fused
/// multiply-add and bit operations, with `precise` where the rounding order matters, so they
/// are within a few ulp of the CPU on any device (lavapipe, NVIDIA, AMD, Intel).
///
/// Method: Cody-Waite argument reduction with split constants whose high parts have few
/// enough bits that products with the reduction multiple are exact, then Taylor series
/// (coefficients 1/n!, 1/(2n+1)) on the reduced interval; `erf` uses Chebyshev fits of
/// erfc(x)·exp(x²) on [1, 2] and [2, 3.92] made for this file (tools: numpy chebfit).
enum VulkanMathLibrary {
    static let source = #"""
#define Z_INF uintBitsToFloat(0x7f800000u)
#define Z_NAN uintBitsToFloat(0x7fc00000u)
#define Z_LN2_HI 0.693145751953125
#define Z_LN2_LO 1.428606765330187e-06
#define Z_PI_HI 3.1415927410125732
#define Z_PI_LO -8.742277657347586e-08
#define Z_PIO2_HI 1.5707963705062866
#define Z_PIO2_LO -4.371138828673793e-08
#define Z_PIO4_HI 0.7853981852531433
#define Z_PIO4_LO -2.1855694143368964e-08

bool zisnan(float x) { return (floatBitsToUint(x) & 0x7fffffffu) > 0x7f800000u; }
bool zisinf(float x) { return (floatBitsToUint(x) & 0x7fffffffu) == 0x7f800000u; }
bool zisfinite(float x) { return (floatBitsToUint(x) & 0x7fffffffu) < 0x7f800000u; }
bool zsignbit(float x) { return (floatBitsToUint(x) & 0x80000000u) != 0u; }
bool ztruthy(float x) { return (floatBitsToUint(x) & 0x7fffffffu) != 0u; }
float zabs(float x) { return uintBitsToFloat(floatBitsToUint(x) & 0x7fffffffu); }
float zcopysign(float m, float s) {
    return uintBitsToFloat((floatBitsToUint(m) & 0x7fffffffu) | (floatBitsToUint(s) & 0x80000000u));
}
// 2^k for k in [-126, 127].
float zpow2i(int k) { return uintBitsToFloat(uint(k + 127) << 23); }

// a / b, corrected by one step on the exact residual (built-in division may be 2.5 ulp off).
float zdiv(float a, float b) {
    float q = a / b;
    precise float r = fma(-q, b, a);
    return (zisfinite(r) && zisfinite(q) && q != 0.0) ? q + r / b : q;
}

float zsqrt(float x) {
    if (zisnan(x) || x < 0.0) return Z_NAN;
    if (x == 0.0 || zisinf(x)) return x;
    float s = sqrt(x);
    precise float r = fma(-s, s, x);
    return s + r * (0.5 / s);
}

float zsign(float x) { return x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : x); }

float zmaximum(float a, float b) { return zisnan(a) ? a : (zisnan(b) ? b : (a > b ? a : b)); }
float zminimum(float a, float b) { return zisnan(a) ? a : (zisnan(b) ? b : (a < b ? a : b)); }

float zexp(float x) {
    if (zisnan(x)) return x;
    if (x > 88.72283172607421875) return Z_INF;
    if (x < -103.97208404541015625) return 0.0;
    float n = roundEven(x * 1.44269502162933349609);
    precise float r = x - n * Z_LN2_HI;
    r = r - n * Z_LN2_LO;
    float p = 2.48015873015873e-05;
    p = p * r + 1.98412698412698e-04;
    p = p * r + 1.38888888888889e-03;
    p = p * r + 8.33333333333333e-03;
    p = p * r + 4.16666666666667e-02;
    p = p * r + 1.66666666666667e-01;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    int ni = int(n);
    int n1 = ni / 2;
    return p * zpow2i(n1) * zpow2i(ni - n1);
}

float zexpm1(float x) {
    if (zabs(x) < 0.5) {
        float p = 2.75573192239859e-07;
        p = p * x + 2.75573192239859e-06;
        p = p * x + 2.48015873015873e-05;
        p = p * x + 1.98412698412698e-04;
        p = p * x + 1.38888888888889e-03;
        p = p * x + 8.33333333333333e-03;
        p = p * x + 4.16666666666667e-02;
        p = p * x + 1.66666666666667e-01;
        p = p * x + 0.5;
        return x + x * x * p;
    }
    if (x < -17.5) return -1.0;
    return zexp(x) - 1.0;
}

// log(1 + f) for f in [sqrt(1/2) - 1, sqrt(2) - 1]: with s = f / (2 + f),
// log(1 + f) = 2 atanh(s) = f - s (f - R), R = sum_k 2 s^(2k) / (2k + 1).
float zlog1p_reduced(float f) {
    float s = f / (2.0 + f);
    float z = s * s;
    float R = z * (0.666666666666667 + z * (0.4 + z * (0.285714285714286 + z * (0.222222222222222
        + z * (0.181818181818182 + z * 0.153846153846154)))));
    return f - s * (f - R);
}

// x = m 2^e with m in [sqrt(1/2), sqrt(2)); returns log(m). x > 0, finite.
float zlog_mantissa(float x, out int e) {
    e = 0;
    if (x < 1.17549435e-38) { x *= 16777216.0; e = -24; }
    uint bits = floatBitsToUint(x);
    e += int(bits >> 23) - 127;
    float m = uintBitsToFloat((bits & 0x007fffffu) | 0x3f800000u);
    if (m > 1.41421356237) { m *= 0.5; e += 1; }
    return zlog1p_reduced(m - 1.0);
}

float zlog(float x) {
    if (zisnan(x) || x < 0.0) return Z_NAN;
    if (x == 0.0) return -Z_INF;
    if (zisinf(x)) return x;
    int e;
    float lm = zlog_mantissa(x, e);
    float fe = float(e);
    return fe * Z_LN2_HI + (lm + fe * Z_LN2_LO);
}

float zlog2(float x) {
    if (zisnan(x) || x < 0.0) return Z_NAN;
    if (x == 0.0) return -Z_INF;
    if (zisinf(x)) return x;
    int e;
    float lm = zlog_mantissa(x, e);
    return float(e) + (lm * 1.44269502162933349609 + lm * 1.925963033500011e-08);
}

float zlog10(float x) {
    if (zisnan(x) || x < 0.0) return Z_NAN;
    if (x == 0.0) return -Z_INF;
    if (zisinf(x)) return x;
    int e;
    float lm = zlog_mantissa(x, e);
    float fe = float(e);
    return fe * 0.30103302001953125 + (lm * 0.43429448190325176 + fe * -3.024355464731343e-06);
}

float zlog1p(float x) {
    if (zisnan(x) || x < -1.0) return Z_NAN;
    if (x == -1.0) return -Z_INF;
    if (zisinf(x)) return x;
    if (x > -0.2928932188 && x < 0.4142135623) return zlog1p_reduced(x);
    return zlog(1.0 + x);
}

// x = q pi/2 + r, |r| <= pi/4 (plus rounding). pi/2 is split into 8 + 8 + 8 + 24 bits,
// so j * part is exact for |j| < 2^16 (|x| < 1e5).
float zreduce_pio2(float x, out int q) {
    float j = roundEven(x * 0.636619772367581343);
    precise float r = x - j * 1.5703125;
    r = r - j * 4.84466552734375e-04;
    r = r - j * -6.407499313354492e-07;
    r = r - j * 9.92093629470503e-10;
    q = int(j) & 3;
    return r;
}
float zsin_poly(float r) {
    float z = r * r;
    float p = -2.50521083854417e-08;
    p = p * z + 2.75573192239859e-06;
    p = p * z + -1.98412698412698e-04;
    p = p * z + 8.33333333333333e-03;
    p = p * z + -1.66666666666667e-01;
    return r + r * z * p;
}
float zcos_poly(float r) {
    float z = r * r;
    float p = 2.08767569878681e-09;
    p = p * z + -2.75573192239859e-07;
    p = p * z + 2.48015873015873e-05;
    p = p * z + -1.38888888888889e-03;
    p = p * z + 4.16666666666667e-02;
    return (1.0 - 0.5 * z) + z * z * p;
}
float zsin(float x) {
    if (!zisfinite(x)) return Z_NAN;
    if (zabs(x) > 1.0e5) return sin(x);
    int q;
    float r = zreduce_pio2(x, q);
    float v = (q & 1) == 0 ? zsin_poly(r) : zcos_poly(r);
    return (q & 2) == 0 ? v : -v;
}
float zcos(float x) {
    if (!zisfinite(x)) return Z_NAN;
    if (zabs(x) > 1.0e5) return cos(x);
    int q;
    float r = zreduce_pio2(x, q);
    float v = (q & 1) == 0 ? zcos_poly(r) : zsin_poly(r);
    return (q == 1 || q == 2) ? -v : v;
}
float ztan(float x) {
    if (!zisfinite(x)) return Z_NAN;
    if (zabs(x) > 1.0e5) return tan(x);
    int q;
    float r = zreduce_pio2(x, q);
    float s = zsin_poly(r), c = zcos_poly(r);
    return (q & 1) == 0 ? zdiv(s, c) : -zdiv(c, s);
}

// atan on |t| <= tan(pi/8): t - t z (1/3 - z/5 + z^2/7 - ...), z = t^2.
float zatan_poly(float t) {
    float z = t * t;
    float p = -0.0476190476190476;
    p = p * z + 0.0526315789473684;
    p = p * z + -0.0588235294117647;
    p = p * z + 0.0666666666666667;
    p = p * z + -0.0769230769230769;
    p = p * z + 0.0909090909090909;
    p = p * z + -0.111111111111111;
    p = p * z + 0.142857142857143;
    p = p * z + -0.2;
    p = p * z + 0.333333333333333;
    return t - t * z * p;
}
float zatan(float x) {
    if (zisnan(x)) return x;
    float ax = zabs(x);
    float r;
    if (ax > 2.414213562373095) {
        r = Z_PIO2_HI + (zatan_poly(-zdiv(1.0, ax)) + Z_PIO2_LO);
    } else if (ax > 0.4142135623730950) {
        r = Z_PIO4_HI + (zatan_poly(zdiv(ax - 1.0, ax + 1.0)) + Z_PIO4_LO);
    } else {
        r = zatan_poly(ax);
    }
    return zcopysign(r, x);
}
float zatan2(float y, float x) {
    if (zisnan(x) || zisnan(y)) return Z_NAN;
    float ay = zabs(y), ax = zabs(x);
    float r;
    if (ay == 0.0) {
        r = zsignbit(x) ? Z_PI_HI : 0.0;
    } else if (ax == 0.0) {
        r = Z_PIO2_HI;
    } else if (zisinf(ax) && zisinf(ay)) {
        r = zsignbit(x) ? 2.356194490192345 : Z_PIO4_HI;
    } else if (zisinf(ax)) {
        r = zsignbit(x) ? Z_PI_HI : 0.0;
    } else if (zisinf(ay)) {
        r = Z_PIO2_HI;
    } else {
        float a = zatan(zdiv(ay, ax));
        r = zsignbit(x) ? (Z_PI_HI - a) + Z_PI_LO : a;
    }
    return zcopysign(r, y);
}
float zasin(float x) {
    if (zisnan(x) || zabs(x) > 1.0) return Z_NAN;
    return zatan2(x, zsqrt((1.0 - x) * (1.0 + x)));
}
float zacos(float x) {
    if (zisnan(x) || zabs(x) > 1.0) return Z_NAN;
    return zatan2(zsqrt((1.0 - x) * (1.0 + x)), x);
}

float zsinh(float x) {
    if (zisnan(x) || zisinf(x)) return x;
    float ax = zabs(x);
    if (ax < 1.0) {
        float z = x * x;
        float p = 1.60590438368216e-10;
        p = p * z + 2.50521083854417e-08;
        p = p * z + 2.75573192239859e-06;
        p = p * z + 1.98412698412698e-04;
        p = p * z + 8.33333333333333e-03;
        p = p * z + 1.66666666666667e-01;
        return x + x * z * p;
    }
    float r;
    if (ax < 20.0) {
        float e = zexp(ax);
        r = 0.5 * (e - zdiv(1.0, e));
    } else {
        float h = zexp(0.5 * ax);
        r = (0.5 * h) * h;
    }
    return zcopysign(r, x);
}
float zcosh(float x) {
    if (zisnan(x)) return x;
    float ax = zabs(x);
    if (ax < 20.0) {
        float e = zexp(ax);
        return 0.5 * (e + zdiv(1.0, e));
    }
    float h = zexp(0.5 * ax);
    return (0.5 * h) * h;
}
float ztanh(float x) {
    if (zisnan(x)) return x;
    float ax = zabs(x);
    if (ax > 9.1) return zcopysign(1.0, x);
    float u = zexpm1(2.0 * ax);
    return zcopysign(zdiv(u, u + 2.0), x);
}
float zasinh(float x) {
    if (zisnan(x) || zisinf(x)) return x;
    float ax = zabs(x);
    float r;
    if (ax > 4096.0) {
        r = zlog(ax) + 0.6931471805599453;
    } else {
        float z = ax * ax;
        r = zlog1p(ax + zdiv(z, 1.0 + zsqrt(1.0 + z)));
    }
    return zcopysign(r, x);
}
float zacosh(float x) {
    if (zisnan(x) || x < 1.0) return Z_NAN;
    if (zisinf(x)) return x;
    if (x > 4096.0) return zlog(x) + 0.6931471805599453;
    float t = x - 1.0;
    return zlog1p(t + zsqrt(t * (t + 2.0)));
}
float zatanh(float x) {
    if (zisnan(x) || zabs(x) > 1.0) return Z_NAN;
    float ax = zabs(x);
    if (ax == 1.0) return zcopysign(Z_INF, x);
    return zcopysign(0.5 * zlog1p(zdiv(2.0 * ax, 1.0 - ax)), x);
}
float zsigmoid(float x) {
    if (x >= 0.0) return zdiv(1.0, 1.0 + zexp(-x));
    float e = zexp(x);
    return zdiv(e, 1.0 + e);
}

// erf for |x| < 1: 2/sqrt(pi) sum (-1)^n x^(2n+1) / (n! (2n+1)).
float zerf_small(float x) {
    float z = x * x;
    float p = 9.422759065e-11;
    p = p * z + -1.229055530e-09;
    p = p * z + 1.480719282e-08;
    p = p * z + -1.636584469e-07;
    p = p * z + 1.646211437e-06;
    p = p * z + -1.492565036e-05;
    p = p * z + 1.205533298e-04;
    p = p * z + -8.548327023e-04;
    p = p * z + 5.223977625e-03;
    p = p * z + -2.686617065e-02;
    p = p * z + 1.128379167e-01;
    p = p * z + -3.761263890e-01;
    p = p * z + 1.128379167e+00;
    return x * p;
}
// erfc(x) for 1 <= x < 3.92 as exp(-x^2) g(x), g fitted on [1, 2] and [2, 3.92].
float zerfc_mid(float x) {
    float g;
    if (x < 2.0) {
        float u = (x - 1.5) * 2.0;
        g = 2.390215847e-08;
        g = g * u + -1.516427233e-07;
        g = g * u + 8.705112577e-07;
        g = g * u + -5.161474292e-06;
        g = g * u + 2.947179382e-05;
        g = g * u + -1.608155144e-04;
        g = g * u + 8.360836073e-04;
        g = g * u + -4.116362426e-03;
        g = g * u + 1.903776079e-02;
        g = g * u + -8.181145787e-02;
        g = g * u + 3.215854168e-01;
    } else {
        float u = (x - 2.96) * 1.0416666666666667;
        g = 2.465570788e-07;
        g = g * u + -1.079964250e-06;
        g = g * u + 4.009428721e-06;
        g = g * u + -1.691968282e-05;
        g = g * u + 7.020925841e-05;
        g = g * u + -2.812886960e-04;
        g = g * u + 1.095582033e-03;
        g = g * u + -4.140917677e-03;
        g = g * u + 1.514544059e-02;
        g = g * u + -5.343823507e-02;
        g = g * u + 1.812017411e-01;
    }
    // x^2 = z + lo exactly; exp(-z - lo) ~ exp(-z) (1 - lo).
    float z = x * x;
    precise float lo = fma(x, x, -z);
    return zexp(-z) * (1.0 - lo) * g;
}
float zerf(float x) {
    if (zisnan(x)) return x;
    float ax = zabs(x);
    if (ax < 1.0) return zerf_small(x);
    float r = ax < 3.92 ? 1.0 - zerfc_mid(ax) : 1.0;
    return zcopysign(r, x);
}
// Inverse of erf: an initial guess (Winitzki's closed form), then Halley steps on
// erf(x) = y, written as (1 - y) - erfc(x) near 1 where erfc keeps the precision.
float zerfinv(float y) {
    if (zisnan(y) || zabs(y) > 1.0) return Z_NAN;
    float ay = zabs(y);
    if (ay == 1.0) return zcopysign(Z_INF, y);
    if (ay == 0.0) return y;
    float w = zlog((1.0 - ay) * (1.0 + ay));
    float t = 4.330746750799873 + 0.5 * w;
    float x = zsqrt(zsqrt(t * t - w * 6.802721088435374) - t);
    float oneMinus = 1.0 - ay;
    for (int i = 0; i < 3; ++i) {
        float f = x < 1.0 ? zerf_small(x) - ay : oneMinus - zerfc_mid(min(x, 3.9));
        float d = 1.1283791670955126 * zexp(-x * x);
        x = x - zdiv(f, d + x * f);
    }
    return zcopysign(x, y);
}

float zpow(float a, float b) {
    if (b == 0.0 || a == 1.0) return 1.0;
    if (zisnan(a) || zisnan(b)) return Z_NAN;
    float ab = zabs(a);
    if (zisinf(b)) {
        if (ab == 1.0) return 1.0;
        return ((ab > 1.0) == (b > 0.0)) ? Z_INF : 0.0;
    }
    bool isInt = floor(b) == b;
    bool odd = isInt && zabs(b) < 16777216.0 && (int(zabs(b)) & 1) == 1;
    if (a < 0.0 && !isInt) return Z_NAN;
    float r;
    if (ab == 0.0) {
        r = b < 0.0 ? Z_INF : 0.0;
    } else if (zisinf(ab)) {
        r = b < 0.0 ? 0.0 : Z_INF;
    } else if (isInt && zabs(b) <= 4.0) {
        int n = int(zabs(b));
        float m = ab;
        r = n == 1 ? m : (n == 2 ? m * m : (n == 3 ? (m * m) * m : (m * m) * (m * m)));
        if (b < 0.0) r = zdiv(1.0, r);
    } else {
        r = zexp(b * zlog(ab));
    }
    return odd ? zcopysign(r, a) : r;
}

// C fmod: a - trunc(a / b) b with the sign of a (exact while |a / b| < 2^24).
float zfmod(float a, float b) {
    if (zisnan(a) || zisnan(b) || zisinf(a) || b == 0.0) return Z_NAN;
    if (zisinf(b)) return a;
    float q = trunc(zdiv(a, b));
    precise float r = fma(-q, b, a);
    float ab = zabs(b);
    if (r != 0.0 && zsignbit(r) != zsignbit(a)) r = r + (zsignbit(a) ? -ab : ab);
    if (zabs(r) >= ab) r = r - (zsignbit(a) ? -ab : ab);
    return r == 0.0 ? zcopysign(0.0, a) : r;
}
// Python / NumPy remainder: the result takes the sign of b.
float zremainder(float a, float b) {
    float r = zfmod(a, b);
    if (r != 0.0 && zsignbit(r) != zsignbit(b)) r += b;
    return r;
}

// Integer division as the CPU kernels define it: floor division, x / 0 = 0, x / -1 = -x
// (wrapping), remainder with the sign of the divisor, x % 0 = 0; negative powers are 0.
int zidiv(int a, int b) {
    if (b == 0) return 0;
    if (b == -1) return -a;
    int q = a / b;
    return (q * b != a && ((a < 0) != (b < 0))) ? q - 1 : q;
}
int zimod(int a, int b) {
    if (b == 0 || b == -1) return 0;
    int r = a - (a / b) * b;
    return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}
int zipow(int a, int b) {
    if (b < 0) return 0;
    int r = 1;
    int base = a;
    for (int e = b; e > 0; e >>= 1) {
        if ((e & 1) != 0) r *= base;
        base *= base;
    }
    return r;
}
uint zupow(uint a, uint b) {
    uint r = 1u;
    uint base = a;
    for (uint e = b; e > 0u; e >>= 1) {
        if ((e & 1u) != 0u) r *= base;
        base *= base;
    }
    return r;
}
"""#
}

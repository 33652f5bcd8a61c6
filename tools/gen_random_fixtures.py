#!/usr/bin/env python3
"""Write fixtures/engine/random.json: MLX's seeded random outputs, the
reference for Tests/EngineTests/RandomAlgorithmsTests.swift.

Pinned versions (CPU):
    mlx==0.32.4
    numpy==2.4.6

Run from the package root with the project's venv:
    .venv/bin/python tools/gen_random_fixtures.py [--out PATH] [--scale N]

Every float is the exact value of the float32 (or float16/bfloat16, widened
to float32) result, written with Python's float repr so that it round-trips
exactly. Integers and keys are written as JSON integers. `--scale N`
multiplies the number of values of the bulk cases (for a larger throwaway
check; the committed file uses the default of 1 and stays under 200 KB).
"""

import argparse
import json
import math
import os
import sys

import mlx.core as mx
import numpy as np

EXPECTED = {"mlx": "0.32.4", "numpy": "2.4.6"}

SEEDS = [0, 1, 42, 2**40 + 7]
UNIFORM_SHAPES = [(1,), (7,), (3, 4), (2, 3, 5)]
UNIFORM_BOUNDS = [(0.0, 1.0), (-2.0, 5.0)]
NORMAL_SHAPES = [(5,), (2, 3)]
NORMAL_PARAMS = [(0.0, 1.0), (1.0, 2.0)]
RANDINT_BOUNDS = [(0, 10), (-5, 1000)]
RANDINT_SHAPES = [(9,), (3, 3)]


def floats(a):
    """Exact float values of an MLX float array, flattened row-major."""
    a = a.astype(mx.float32)
    out = []
    for v in np.array(a).reshape(-1).tolist():
        if not math.isfinite(v):
            raise SystemExit(f"non-finite value {v} cannot be stored in JSON")
        out.append(float(np.float32(v)))
    return out


def ints(a):
    return [int(v) for v in np.array(a).reshape(-1).tolist()]


def bools(a):
    return [bool(v) for v in np.array(a).reshape(-1).tolist()]


def dtype_of(name):
    return {"float32": mx.float32, "float16": mx.float16, "bfloat16": mx.bfloat16}[name]


def per_seed(seed, scale):
    k = mx.random.key(seed)
    d = {"seed": seed, "key": ints(k)}
    d["split2"] = np.array(mx.random.split(k, 2)).tolist()
    d["split3"] = np.array(mx.random.split(k, 3)).tolist()
    # Odd and even word counts for the bit layout (split(k, n) = bits(2n words)).
    d["split5"] = np.array(mx.random.split(k, 5)).tolist()

    uni = []
    for shape in UNIFORM_SHAPES:
        for lo, hi in UNIFORM_BOUNDS:
            uni.append({"dtype": "float32", "shape": list(shape), "low": lo, "high": hi,
                        "values": floats(mx.random.uniform(lo, hi, shape, key=k))})
    for dt in ("float16", "bfloat16"):
        for shape in [(7,), (3, 4), (64 * scale,)]:
            for lo, hi in UNIFORM_BOUNDS:
                uni.append({"dtype": dt, "shape": list(shape), "low": lo, "high": hi,
                            "values": floats(mx.random.uniform(lo, hi, shape, dtype=dtype_of(dt), key=k))})
    d["uniform"] = uni

    nor = []
    for shape in NORMAL_SHAPES + [(200 * scale,)]:
        for loc, sc in NORMAL_PARAMS:
            nor.append({"dtype": "float32", "shape": list(shape), "loc": loc, "scale": sc,
                        "values": floats(mx.random.normal(shape, loc=loc, scale=sc, key=k))})
    for dt in ("float16", "bfloat16"):
        for loc, sc in NORMAL_PARAMS:
            shape = (16 * scale,)
            nor.append({"dtype": dt, "shape": list(shape), "loc": loc, "scale": sc,
                        "values": floats(mx.random.normal(shape, dtype=dtype_of(dt), loc=loc, scale=sc, key=k))})
    d["normal"] = nor

    ri = []
    for lo, hi in RANDINT_BOUNDS:
        for shape in RANDINT_SHAPES:
            ri.append({"shape": list(shape), "low": lo, "high": hi,
                       "values": ints(mx.random.randint(lo, hi, shape, key=k))})
    # Mostly-negative and wide ranges: MLX floors (not truncates) the float
    # draw, and a wide range exercises float32 rounding of the bounds.
    for lo, hi, n in [(-1000, 3, 24 * scale), (-100000, 3000000, 24 * scale)]:
        ri.append({"shape": [n], "low": lo, "high": hi,
                   "values": ints(mx.random.randint(lo, hi, (n,), key=k))})
    d["randint"] = ri

    d["bernoulli"] = [
        {"p": p, "shape": [n], "values": bools(mx.random.bernoulli(p, (n,), key=k))}
        for p, n in [(0.5, 11), (0.3, 40 * scale), (0.0, 5), (1.0, 5)]
    ]
    d["gumbel"] = [{"shape": [n], "values": floats(mx.random.gumbel((n,), key=k))}
                   for n in (7, 40 * scale)]
    d["laplace"] = [
        {"shape": [n], "loc": loc, "scale": sc,
         "values": floats(mx.random.laplace((n,), loc=loc, scale=sc, key=k))}
        for n, loc, sc in [(7, 0.0, 1.0), (40 * scale, 1.0, 2.0)]
    ]
    d["truncated_normal"] = [
        {"shape": [n], "lower": lo, "upper": up,
         "values": floats(mx.random.truncated_normal(lo, up, (n,), key=k))}
        for n, lo, up in [(7, -1.0, 2.0), (40 * scale, 0.5, 3.0), (20 * scale, -2.5, -0.25)]
    ]
    d["permutation"] = [{"n": n, "values": ints(mx.random.permutation(n, key=k))}
                        for n in (1, 10, 33)]

    logits = [[0.0, 1.0, 2.0, -1.0, 0.5],
              [3.0, 0.0, 0.0, 0.0, 0.0],
              [-2.0, -2.0, 1.5, 1.5, -0.25]]
    la = mx.array(logits, dtype=mx.float32)
    d["categorical"] = [
        {"logits": logits, "num_samples": None, "values": ints(mx.random.categorical(la, key=k))},
        {"logits": logits, "num_samples": 4 * scale,
         "values": ints(mx.random.categorical(la, num_samples=4 * scale, key=k))},
    ]

    # Global seed semantics: seed, then calls without a key.
    mx.random.seed(seed)
    seq = [
        {"op": "uniform", "shape": [3], "values": floats(mx.random.uniform(shape=(3,)))},
        {"op": "normal", "shape": [4], "values": floats(mx.random.normal((4,)))},
        {"op": "uniform", "shape": [2], "values": floats(mx.random.uniform(shape=(2,)))},
        {"op": "randint", "shape": [3], "low": 0, "high": 100,
         "values": ints(mx.random.randint(0, 100, (3,)))},
    ]
    d["global_sequence"] = seq
    return d


def special_functions():
    """MLX's float32 exp, erf and erfinv on chosen inputs: RandomAlgorithms
    reimplements them (erf and erfinv feed truncated_normal and normal)."""
    f32 = np.float32
    # exp: inputs whose x*log2(e) lies next to k - 0.5, where MLX's rounding
    # (floor of x + 0.5 taken in double precision) matters, plus a sweep.
    xs = []
    for k in range(-60, 61):
        up = down = f32((k - 0.5) / 1.442695)
        xs.append(up)
        for _ in range(3):
            up = np.nextafter(up, f32(np.inf))
            down = np.nextafter(down, f32(-np.inf))
            xs += [up, down]
    xs += [f32(x) for x in np.linspace(-87.5, 87.5, 101, dtype=np.float32)]
    xs = sorted(set(float(x) for x in xs))
    # erf: a sweep over [-5, 5]; erfinv: a sweep and the tails near +-1
    # (where MLX switches polynomial at |log(1 - a^2)| = 6.125).
    es = [float(x) for x in np.linspace(-5, 5, 121, dtype=np.float32)]
    ai = [float(x) for x in np.linspace(-0.999, 0.999, 101, dtype=np.float32)]
    tail = f32(1.0)
    for _ in range(40):
        tail = np.nextafter(tail, f32(0))
        ai += [float(tail), -float(tail)]
    for a in (0.9975, 0.998, 0.9985, 0.999, 0.9995, 0.99999):
        ai += [float(f32(a)), -float(f32(a))]
    ai = sorted(set(ai))

    def run(fn, xs):
        return floats(fn(mx.array(xs, dtype=mx.float32)))

    return {
        "exp": {"x": xs, "y": run(mx.exp, xs)},
        "erf": {"x": es, "y": run(mx.erf, es)},
        "erfinv": {"x": ai, "y": run(mx.erfinv, ai)},
    }


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "fixtures", "engine", "random.json"))
    ap.add_argument("--scale", type=int, default=1)
    args = ap.parse_args()

    got = {"mlx": mx.__version__, "numpy": np.__version__}
    if got != EXPECTED:
        print(f"warning: expected {EXPECTED}, running {got}", file=sys.stderr)
    mx.set_default_device(mx.cpu)

    doc = {
        "generator": "tools/gen_random_fixtures.py",
        "versions": got,
        "seeds": [per_seed(s, args.scale) for s in SEEDS],
        "special": special_functions(),
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    os.replace(tmp, args.out)
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes)")


if __name__ == "__main__":
    main()

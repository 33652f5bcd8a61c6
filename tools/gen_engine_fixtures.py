#!/usr/bin/env python3
# Reference data for the Engine's core ops, written to fixtures/engine/*.json.
#
# Pinned reference versions (install into a venv before running):
#     mlx==0.32.4   (CPU wheels; the reference for every op)
#     numpy==2.4.6  (random inputs; an independent float64 cross-check of MLX)
#
# Run from the package root:   .venv/bin/python tools/gen_engine_fixtures.py
#
# Deterministic: every file draws its inputs from its own numpy Generator
# seeded with (SEED, file index), so regenerating with the pinned versions gives
# byte-identical files, and adding cases to one file leaves the others alone.
#
# File format (the Swift runner in Tests/EngineTests/FixtureSupport.swift reads it):
#   {"generator": "tools/gen_engine_fixtures.py", "mlx": "0.32.4", "numpy": "2.4.6",
#    "cases": [{"name", "op", "inputs": [T...], "params": {...}, "expected": T}]}
#   (split gives "expected_list": [T...] instead of "expected").
#   T = {"dtype": mlx name, "shape": [...], "data": [flat row-major values of the
#        base array], "view": V (optional)}
#   V = {"kind": "transpose", "axes"} | {"kind": "slice", "start", "stop", "step"}
#       | {"kind": "broadcast", "shape"}; applied to the base before the op.
#   Floats are JSON numbers that round-trip exactly; NaN/Inf are the strings
#   "nan", "inf", "-inf"; bools are true/false; complex64 values are [re, im].
#   Cases whose results may legitimately differ in the last bits carry
#   params "rtol"/"atol": pass when |actual - expected| <= atol + rtol * |expected|.
#   promotion.json holds {"cases": [{"a", "b", "result"}]}: dtype of mx.add(a, b).
#
# Op names and params follow MLX for Python; run_op() below is their definition
# (binary_scalar: mx.<op>(a, scalar) or mx.<op>(scalar, a), scalar an int or float
# Python literal, i.e. a weak scalar; logsoftmax: x - logsumexp(x, axis, keepdims=True);
# linspace/eye/tri also carry "dtype"). Ops MLX rejects get no cases.
#
# Besides MLX's answer, most cases are recomputed in float64 with NumPy, rounded
# to the result dtype, and compared with MLX: exact cases must agree exactly and
# toleranced cases within their tolerance. A disagreement stops the generator, so
# a tolerance here is wide enough for any correctly rounded implementation too.
# MLX 0.32.4 behaviours left out or set apart because NumPy and MLX disagree:
#   sign(nan) is 0 in MLX (its own case, "sign float32 nan (MLX gives 0)");
#   prod/all over every axis of an empty array give 0/False (1/True per axis);
#   logsumexp of int8/bool subtracts the max in that dtype and overflows;
#   full(shape, 2.5, dtype=int32) promotes like a weak scalar (only matching kinds here);
#   exp/sin/cos/sigmoid/erf/erfinv in float64 are float32-accurate (float32 tolerance).

import json
import math
import os
import sys

import numpy as np
import mlx.core as mx

GENERATOR = "tools/gen_engine_fixtures.py"
SEED = 20250611
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "fixtures", "engine")

ALL_DTYPES = ["bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32",
              "int64", "float16", "bfloat16", "float32", "float64", "complex64"]
UINTS = ["uint8", "uint16", "uint32", "uint64"]
SINTS = ["int8", "int16", "int32", "int64"]
INTS = UINTS + SINTS
FLOATS = ["float16", "bfloat16", "float32", "float64"]
INT_RANGE = {d: (int(np.iinfo(d).min), int(np.iinfo(d).max)) for d in INTS}
FLOAT_MAX = {"float16": 65504.0, "bfloat16": 3.3895313892515355e38,
             "float32": float(np.finfo(np.float32).max), "float64": float(np.finfo(np.float64).max)}
MANTISSA_BITS = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53, "complex64": 24}

# Tolerances for results computed by approximations (transcendentals and the like).
TRANS_TOL = {
    "float32": {"rtol": 2e-6, "atol": 1e-6},
    "float16": {"rtol": 1e-3, "atol": 1e-4},
    "bfloat16": {"rtol": 1e-2, "atol": 1e-3},
    "float64": {"rtol": 1e-12, "atol": 1e-14},
    "complex64": {"rtol": 1e-5, "atol": 1e-6},
}


def mxd(name):
    return mx.bool_ if name == "bool" else getattr(mx, name)


def dname(dt):
    return str(dt).split(".")[-1]


# ----------------------------------------------------------------------------
# Building inputs


def arr(values, dtype, shape=None):
    """An MLX array of `dtype` holding `values` (rounded to the dtype by MLX)."""
    v = np.asarray(values)
    if shape is not None:
        v = v.reshape(shape)
    if v.size == 0:
        # mx.array() of an empty NumPy array intermittently hangs later reductions (mlx 0.32.4)
        a = mx.zeros(list(v.shape), dtype=mxd(dtype))
    elif dtype == "bool":
        a = mx.array(v.astype(np.bool_))
    elif dtype in INTS:
        iv = v.astype(np.int64)
        lo, hi = INT_RANGE[dtype]
        assert iv.size == 0 or (iv.min() >= lo and iv.max() <= hi), (dtype, iv)
        a = mx.array(iv).astype(mxd(dtype))
    elif dtype == "float64":
        a = mx.array(v.astype(np.float64), dtype=mx.float64)
    elif dtype == "complex64":
        a = mx.array(v.astype(np.complex64))
    else:
        a = mx.array(v.astype(np.float32))
        if dtype != "float32":
            a = a.astype(mxd(dtype))
    mx.eval(a)
    assert dname(a.dtype) == dtype
    return a


class In:
    """A case input: a base array and an optional view applied before the op."""

    def __init__(self, base, view=None):
        self.base = base
        self.view = view

    def value(self):
        return apply_view(self.base, self.view)


def T(base, view=None):
    return In(base, view)


def transpose_view(axes):
    return {"kind": "transpose", "axes": list(axes)}


def slice_view(start, stop, step):
    return {"kind": "slice", "start": list(start), "stop": list(stop), "step": list(step)}


def broadcast_view(shape):
    return {"kind": "broadcast", "shape": list(shape)}


def apply_view(base, view):
    if view is None:
        return base
    k = view["kind"]
    if k == "transpose":
        return mx.transpose(base, view["axes"])
    if k == "slice":
        assert all(s > 0 for s in view["step"])
        return base[tuple(slice(a, b, c) for a, b, c in zip(view["start"], view["stop"], view["step"]))]
    if k == "broadcast":
        return mx.broadcast_to(base, view["shape"])
    raise ValueError(k)


# ----------------------------------------------------------------------------
# Encoding


def to_numpy(a):
    mx.eval(a)
    if a.dtype == mx.bfloat16:
        return np.array(a.astype(mx.float32))
    return np.array(a)


def enc_float(x):
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def enc_data(a):
    d = dname(a.dtype)
    flat = to_numpy(a).reshape(-1)
    if d == "bool":
        return [bool(x) for x in flat]
    if d in INTS:
        out = [int(x) for x in flat]
        assert all(abs(x) < 2 ** 53 for x in out), "integer beyond 2^53"
        return out
    if d == "complex64":
        return [[enc_float(x.real), enc_float(x.imag)] for x in flat]
    return [enc_float(x) for x in flat]


def enc_tensor(a, view=None):
    t = {"dtype": dname(a.dtype), "shape": list(a.shape), "data": enc_data(a)}
    if view is not None:
        t["view"] = view
    return t


def enc_params(p):
    if isinstance(p, In):
        return enc_tensor(p.base, p.view)
    if isinstance(p, mx.array):
        return enc_tensor(p)
    if isinstance(p, dict):
        return {k: enc_params(v) for k, v in p.items()}
    if isinstance(p, (list, tuple)):
        return [enc_params(v) for v in p]
    if isinstance(p, float):
        return enc_float(p)
    return p


def raw_params(p):
    """Params as the op sees them: views applied to tensors inside params."""
    if isinstance(p, In):
        return p.value()
    if isinstance(p, dict):
        return {k: raw_params(v) for k, v in p.items()}
    if isinstance(p, (list, tuple)):
        return [raw_params(v) for v in p]
    return p


# ----------------------------------------------------------------------------
# The ops, with MLX semantics. This is the definition of each fixture op name.


def index_tuple(index):
    out = []
    for i in index:
        if "int" in i:
            out.append(i["int"])
        elif "slice" in i:
            out.append(slice(*i["slice"]))
        elif "ellipsis" in i:
            out.append(Ellipsis)
        elif "newaxis" in i:
            out.append(None)
        elif "tensor" in i:
            out.append(i["tensor"])
        else:
            raise ValueError(i)
    return tuple(out)


def logsoftmax(x, axis):
    return x - mx.logsumexp(x, axis=axis, keepdims=True)


def run_op(op, xs, p):
    f = getattr(mx, op, None)
    if op == "astype":
        return xs[0].astype(mxd(p["dtype"]))
    if op == "binary_scalar":
        g = getattr(mx, p["op"])
        s = p["scalar"]
        s = int(s) if p["scalar_kind"] == "int" else float(s)
        return g(xs[0], s) if p["side"] == "right" else g(s, xs[0])
    if op in ("sum", "mean", "prod", "max", "min", "all", "any", "logsumexp"):
        return f(xs[0], axis=p["axes"], keepdims=p["keepdims"])
    if op in ("var", "std"):
        return f(xs[0], axis=p["axes"], keepdims=p["keepdims"], ddof=p["ddof"])
    if op in ("argmax", "argmin"):
        return f(xs[0], axis=p["axis"], keepdims=p["keepdims"])
    if op == "softmax":
        return mx.softmax(xs[0], axis=p["axis"])
    if op == "logsoftmax":
        return logsoftmax(xs[0], p["axis"])
    if op == "clip":
        return mx.clip(xs[0], p["a_min"], p["a_max"])
    if op == "reshape":
        return mx.reshape(xs[0], p["shape"])
    if op == "transpose":
        return mx.transpose(xs[0], p["axes"]) if p["axes"] is not None else mx.transpose(xs[0])
    if op == "squeeze":
        return mx.squeeze(xs[0], p["axes"]) if p["axes"] is not None else mx.squeeze(xs[0])
    if op == "expand_dims":
        return mx.expand_dims(xs[0], p["axes"])
    if op == "broadcast_to":
        return mx.broadcast_to(xs[0], p["shape"])
    if op in ("concatenate", "stack"):
        return f(xs, axis=p["axis"])
    if op == "split":
        return mx.split(xs[0], p["indices_or_sections"], axis=p["axis"])
    if op == "flatten":
        return mx.flatten(xs[0], p["start_axis"], p["end_axis"])
    if op == "swapaxes":
        return mx.swapaxes(xs[0], p["axis1"], p["axis2"])
    if op == "moveaxis":
        return mx.moveaxis(xs[0], p["source"], p["destination"])
    if op == "pad":
        return mx.pad(xs[0], [tuple(w) for w in p["pad_width"]], constant_values=p["constant_values"])
    if op == "tile":
        return mx.tile(xs[0], p["reps"])
    if op == "repeat":
        return mx.repeat(xs[0], p["repeats"], axis=p["axis"])
    if op == "getitem":
        return xs[0][index_tuple(p["index"])]
    if op == "setitem":
        a = mx.array(xs[0])  # __setitem__ rebinds the Python object: leave the input alone
        a[index_tuple(p["index"])] = p["value"]
        return a
    if op == "take":
        return mx.take(xs[0], xs[1], axis=p["axis"])
    if op == "take_along_axis":
        return mx.take_along_axis(xs[0], xs[1], axis=p["axis"])
    if op in ("zeros", "ones"):
        return f(p["shape"], dtype=mxd(p["dtype"]))
    if op == "full":
        return mx.full(p["shape"], p["value"], dtype=mxd(p["dtype"]))
    if op == "arange":
        return mx.arange(p["start"], p["stop"], p["step"], dtype=mxd(p["dtype"]))
    if op == "linspace":
        return mx.linspace(p["start"], p["stop"], p["num"], dtype=mxd(p["dtype"]))
    if op in ("eye", "tri"):
        return f(p["n"], p["m"], p["k"], dtype=mxd(p["dtype"]))
    if op in ("tril", "triu"):
        return f(xs[0], k=p["k"])
    if f is None:
        raise ValueError(op)
    return f(*xs)


# ----------------------------------------------------------------------------
# Float64 cross-check


def bf16_round(x):
    """float64 -> nearest bfloat16 value (ties to even), as float64."""
    x = np.asarray(x, dtype=np.float64)
    out = x.copy()
    fin = np.isfinite(x) & (x != 0)
    _, e = np.frexp(x[fin])                  # x = m * 2^e with 0.5 <= |m| < 1
    spacing = np.maximum(e - 8, -133)        # 8 significant bits; subnormal spacing 2^-133
    out[fin] = np.ldexp(np.round(np.ldexp(x[fin], -spacing)), spacing)
    big = np.abs(out) > FLOAT_MAX["bfloat16"]
    out[big] = np.sign(out[big]) * np.inf
    return out


def round_to(x, dtype):
    x = np.asarray(x)
    if dtype in ("float16", "float32"):
        with np.errstate(over="ignore", invalid="ignore"):
            return x.astype(dtype).astype(np.float64)
    if dtype == "float32":
        return x.astype(np.float32).astype(np.float64)
    if dtype == "bfloat16":
        return bf16_round(x.astype(np.float64))
    if dtype == "float64":
        return x.astype(np.float64)
    if dtype == "complex64":
        return x.astype(np.complex64).astype(np.complex128)
    if dtype == "bool":
        return x.astype(np.bool_)
    return x


def np64(a):
    """An MLX array as a wide NumPy array (float64, complex128, int64 or bool)."""
    v = to_numpy(a)
    if v.dtype == np.bool_:
        return v
    if np.issubdtype(v.dtype, np.complexfloating):
        return v.astype(np.complex128)
    if np.issubdtype(v.dtype, np.integer):
        return v.astype(np.int64)  # fixture integers stay below 2^53
    return v.astype(np.float64)


def close(got, ref, tol):
    """Elementwise |got - ref| <= atol + rtol*|got|, with NaN == NaN and matching infinities."""
    got = np.asarray(got)
    ref = np.asarray(ref)
    if got.shape != ref.shape:
        return False
    if got.dtype == np.bool_ or np.issubdtype(got.dtype, np.integer):
        return np.array_equal(got, ref.astype(got.dtype))
    if np.iscomplexobj(got) or np.iscomplexobj(ref):
        return close(got.real, np.real(ref), tol) and close(got.imag, np.imag(ref), tol)
    got = got.astype(np.float64)
    ref = ref.astype(np.float64)
    both_nan = np.isnan(got) & np.isnan(ref)
    same_inf = np.isinf(got) & np.isinf(ref) & (np.sign(got) == np.sign(ref))
    rtol = tol.get("rtol", 0.0) if tol else 0.0
    atol = tol.get("atol", 0.0) if tol else 0.0
    with np.errstate(invalid="ignore"):
        ok = np.abs(got - ref) <= atol + rtol * np.abs(got)
    return bool(np.all(ok | both_nan | same_inf))


FAILURES = []


def cross_check(name, out, ref, tol):
    d = dname(out.dtype)
    want = round_to(ref, d)
    got = np64(out)
    if d in INTS:
        want = np.asarray(ref).astype(np.int64)
    if not close(got, want, tol):
        FAILURES.append(f"{name}: MLX {got.reshape(-1)[:12]} vs float64 reference {np.asarray(want).reshape(-1)[:12]} (tol {tol})")


# ----------------------------------------------------------------------------
# Files and cases


class Fixture:
    def __init__(self, filename, index):
        self.filename = filename
        self.cases = []
        self.names = set()
        self.rng = np.random.default_rng([SEED, index])

    # random values ------------------------------------------------------
    def uniform(self, shape, lo, hi):
        return self.rng.uniform(lo, hi, size=shape)

    def dyadic(self, shape, lo, hi, q=4):
        """Multiples of 1/q in [lo, hi]: sums and products of few stay exact in any order."""
        return self.rng.integers(int(lo * q), int(hi * q) + 1, size=shape) / q

    def ints(self, shape, lo, hi):
        return self.rng.integers(lo, hi + 1, size=shape)

    def bools(self, shape, p=0.5):
        return self.rng.random(size=shape) < p

    def choice(self, shape, values):
        return self.rng.choice(np.asarray(values), size=shape)

    # cases ---------------------------------------------------------------
    def case(self, name, op, inputs, params=None, tol=None, ref=None, expect_dtype=None):
        assert name not in self.names, f"duplicate case name {name}"
        self.names.add(name)
        params = dict(params or {})
        encoded_inputs = [enc_tensor(i.base, i.view) for i in inputs]
        encoded_params = enc_params(params)
        xs = [i.value() for i in inputs]
        out = run_op(op, xs, raw_params(params))
        if isinstance(out, (list, tuple)):
            mx.eval(*out)
        else:
            mx.eval(out)
        if expect_dtype is not None:
            assert dname(out.dtype) == expect_dtype, (name, dname(out.dtype), expect_dtype)
        if ref is not None:
            r = ref(*[np64(x) for x in xs])
            if isinstance(out, (list, tuple)):
                assert len(r) == len(out)
                for o, rr in zip(out, r):
                    cross_check(name, o, rr, tol)
            else:
                cross_check(name, out, r, tol)
        if tol:
            encoded_params.update(tol)
        c = {"name": name, "op": op, "inputs": encoded_inputs, "params": encoded_params}
        if isinstance(out, (list, tuple)):
            c["expected_list"] = [enc_tensor(o) for o in out]
        else:
            c["expected"] = enc_tensor(out)
        self.cases.append(c)
        return out

    def write(self):
        doc = {"generator": GENERATOR, "mlx": mx.__version__, "numpy": np.__version__, "cases": self.cases}
        path = os.path.join(OUT_DIR, self.filename)
        with open(path, "w") as fh:
            json.dump(doc, fh, separators=(",", ":"), allow_nan=False)
            fh.write("\n")
        return path


def shape_str(shape):
    return "x".join(str(s) for s in shape) if len(shape) else "scalar"


def tol_for(d, table=TRANS_TOL):
    return dict(table[d]) if d in table else None




def f64(x):
    """Promote a bool/integer NumPy array to float64 (MLX promotes those to float32)."""
    if x.dtype == np.bool_ or np.issubdtype(x.dtype, np.integer):
        return x.astype(np.float64)
    return x


def _erfinv1(y):
    if math.isnan(y) or abs(y) > 1:
        return math.nan
    if abs(y) == 1:
        return math.copysign(math.inf, y)
    x = 0.0
    for _ in range(100):
        step = (math.erf(x) - y) / (2 / math.sqrt(math.pi) * math.exp(-x * x))
        x -= step
        if abs(step) <= 1e-17 * max(1.0, abs(x)):
            break
    return x


np_erf = np.vectorize(lambda v: math.erf(v) if not math.isnan(v) else math.nan, otypes=[np.float64])
np_erfinv = np.vectorize(_erfinv1, otypes=[np.float64])


def _sigmoid(x):
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


UNARY_REF = {
    "abs": np.abs, "negative": np.negative, "sign": np.sign,
    "exp": np.exp, "expm1": np.expm1, "log": np.log, "log1p": np.log1p, "log2": np.log2,
    "log10": np.log10, "sqrt": np.sqrt, "rsqrt": lambda x: 1.0 / np.sqrt(x), "square": np.square,
    "reciprocal": lambda x: 1.0 / x, "sin": np.sin, "cos": np.cos, "tan": np.tan,
    "arcsin": np.arcsin, "arccos": np.arccos, "arctan": np.arctan, "sinh": np.sinh,
    "cosh": np.cosh, "tanh": np.tanh, "arcsinh": np.arcsinh, "arccosh": np.arccosh,
    "arctanh": np.arctanh, "sigmoid": _sigmoid, "erf": np_erf, "erfinv": np_erfinv,
    "floor": np.floor, "ceil": np.ceil, "round": np.round, "isnan": np.isnan, "isinf": np.isinf,
    "isfinite": np.isfinite, "logical_not": np.logical_not, "stop_gradient": lambda x: x,
}
# Ops whose result keeps an integer/bool input's dtype (the others promote to float32).
KEEPS_INT = {"abs", "negative", "sign", "square", "floor", "ceil", "round", "stop_gradient"}
BOOL_RESULT = {"isnan", "isinf", "isfinite", "logical_not"}
# Correctly rounded (or exact) for real inputs: no tolerance.
EXACT_UNARY = KEEPS_INT | BOOL_RESULT | {"sqrt", "reciprocal"}
UNARY_DOMAIN = {
    "abs": (-4, 4), "negative": (-4, 4), "sign": (-4, 4), "exp": (-5, 5), "expm1": (-2, 2),
    "log": (0.05, 20), "log1p": (-0.9, 10), "log2": (0.05, 20), "log10": (0.05, 20),
    "sqrt": (0, 20), "rsqrt": (0.05, 20), "square": (-4, 4), "reciprocal": (0.1, 8),
    "sin": (-6, 6), "cos": (-6, 6), "tan": (-1.4, 1.4), "arcsin": (-0.99, 0.99),
    "arccos": (-0.99, 0.99), "arctan": (-8, 8), "sinh": (-4, 4), "cosh": (-4, 4),
    "tanh": (-4, 4), "arcsinh": (-8, 8), "arccosh": (1, 10), "arctanh": (-0.95, 0.95),
    "sigmoid": (-8, 8), "erf": (-3, 3), "erfinv": (-0.95, 0.95), "floor": (-4, 4),
    "ceil": (-4, 4), "round": (-4, 4), "isnan": (-4, 4), "isinf": (-4, 4), "isfinite": (-4, 4),
    "logical_not": (-2, 2), "stop_gradient": (-4, 4),
}
# Integer inputs inside each op's domain.
UNARY_INT_VALUES = {
    "log": [1, 2, 3, 10, 100, 7], "log2": [1, 2, 4, 3, 1024, 100], "log10": [1, 10, 1000, 3, 7, 2],
    "log1p": [0, 1, 2, 10, 100, 5], "sqrt": [0, 1, 4, 2, 100, 99], "rsqrt": [1, 4, 2, 100, 9, 3],
    "reciprocal": [1, -1, 2, -4, 3, 7], "arcsin": [-1, 0, 1, 0, 1, -1], "arccos": [-1, 0, 1, 0, 1, -1],
    "arccosh": [1, 2, 3, 10, 5, 7], "arctanh": [0, 0, 0, 0, 0, 0], "erfinv": [0, 0, 0, 0, 0, 0],
    "tan": [0, 1, -1, 0, 1, -1], "exp": [-3, -1, 0, 1, 2, 5], "expm1": [-2, -1, 0, 1, 2, 0],
    "sinh": [-3, -1, 0, 1, 2, 4], "cosh": [-3, -1, 0, 1, 2, 4],
}
UNARY_SPECIAL = {
    "exp": [88.5, 89.0, -87.0, 1e-30, 1.0],
    "expm1": [1e-10, -1e-10, 89.0, -100.0, 1.0],
    "log": [1.0, -1.0, 3e38, 1e-30], "log2": [1.0, -1.0, 3e38, 1e-30, 0.5],
    "log10": [1.0, -1.0, 3e38, 1e-30, 1000.0], "log1p": [-1.0, -2.0, 1e-10, 3e38],
    "sqrt": [-1.0, 1e-30, 4.0, 3e38], "rsqrt": [-1.0, 1e-30, 4.0, 3e38],
    "reciprocal": [2.0, -4.0, 3e38, 1e-30],
    "sin": [1.0, -1.0, 100.0], "cos": [1.0, -1.0, 100.0], "tan": [1.0, -1.0, 100.0],
    "arcsin": [1.0, -1.0, 1.5, -1.5, 1e-10], "arccos": [1.0, -1.0, 1.5, -1.5, 1e-10],
    "arctan": [1e30, -1e30, 1e-10], "sinh": [90.0, -90.0, 1e-10], "cosh": [90.0, -90.0, 1e-10],
    "tanh": [20.0, -20.0, 1e-10], "arcsinh": [1e30, -1e30, 1e-10], "arccosh": [1.0, 0.5, 1e30],
    "arctanh": [1.0, -1.0, 1.5, 1e-10], "sigmoid": [100.0, -100.0, -80.0, 1e-10],
    "erf": [10.0, -10.0, 1e-10], "erfinv": [1.0, -1.0, 1.5, 0.999, 1e-10],
}
EXACT_SPECIAL = [1.5, -2.5, 2.5, -0.5, 1e-40, -3e38, 3e38]
COMPLEX_UNARY = ["abs", "negative", "sign", "exp", "log", "log2", "log10", "log1p", "sqrt", "rsqrt",
                 "square", "reciprocal", "sin", "cos", "tan", "sinh", "cosh", "tanh", "arcsin",
                 "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "round", "isnan", "isinf",
                 "isfinite", "logical_not", "stop_gradient"]


def unary_ref(op):
    base = UNARY_REF[op]

    def ref(x):
        if x.dtype == np.bool_ and op in KEEPS_INT:
            return x
        with np.errstate(all="ignore"):
            return base(x if op in KEEPS_INT or op in BOOL_RESULT else f64(x))
    return ref


# MLX 0.32.4 evaluates these in float64 with float32-accurate approximations.
MLX_F64_APPROX = {"exp", "sin", "cos", "sigmoid", "erf", "erfinv"}
F64_APPROX_TOL = {"rtol": 2e-6, "atol": 1e-6}


def unary_tol(op, in_dtype, out_dtype):
    if out_dtype not in FLOATS and out_dtype != "complex64":
        return None
    if op in EXACT_UNARY and in_dtype != "complex64":
        return None
    if out_dtype == "float64" and op in MLX_F64_APPROX:
        return dict(F64_APPROX_TOL)
    if op in ("abs",) and in_dtype == "complex64":
        return dict(TRANS_TOL["float32"])
    return tol_for(out_dtype)


def unary_out_dtype(op, d):
    if op in BOOL_RESULT:
        return "bool"
    if op in KEEPS_INT or d in FLOATS or d == "complex64":
        return "float32" if (op == "abs" and d == "complex64") else d
    return "float32"


def unary_case(F, name, op, x_in, params=None, skip_check=False):
    d = dname(x_in.base.dtype)
    out_d = unary_out_dtype(op, d)
    tol = unary_tol(op, d, out_d)
    F.case(name, op, [x_in], params, tol=tol, ref=None if skip_check else unary_ref(op),
           expect_dtype=out_d)


def gen_unary(F):
    for op in UNARY_REF:
        lo, hi = UNARY_DOMAIN[op]
        rounding = op in ("floor", "ceil", "round")
        for d, shape in [("float32", [3, 4]), ("float16", [2, 5]), ("bfloat16", [7]), ("float64", [2, 3])]:
            v = F.uniform(shape, lo, hi)
            if op == "reciprocal":
                v = v * F.choice(shape, [-1.0, 1.0])
            if rounding:
                # include exact halves: ties go to even for round
                v = v.reshape(-1)
                v[:6] = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5][: min(6, v.size)]
                v = v.reshape(shape)
            unary_case(F, f"{op} {d} {shape_str(shape)}", op, T(arr(v, d)))
        # integer and bool inputs
        if op in UNARY_INT_VALUES:
            iv = UNARY_INT_VALUES[op]
        elif op in ("negative",):
            iv = [-5, 0, 3, 17, -100, 1]
        else:
            iv = [-5, 0, 3, 7, -2, 1] if op not in ("square",) else [-5, 0, 3, 11, -2, 1]
        int_dtypes = ["int32"]
        if op in KEEPS_INT or op in BOOL_RESULT:
            int_dtypes = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
        elif op in ("exp", "sqrt", "sin", "log", "sigmoid", "reciprocal"):
            int_dtypes = ["int32", "uint8", "int16", "int64"]
        for d in int_dtypes:
            if op == "negative" and d in UINTS:
                continue  # wraps around: not a case for the fixtures
            vals = [abs(x) for x in iv] if d in UINTS else iv
            if min(vals) < 0 and d in UINTS:
                continue
            unary_case(F, f"{op} {d} 6", op, T(arr(vals, d)))
        if op != "negative":
            unary_case(F, f"{op} bool 2x3", op, T(arr([[True, False, True], [False, False, True]], "bool")))
        # complex
        if op in COMPLEX_UNARY:
            re = F.uniform([5], -2, 2)
            im = F.uniform([5], -2, 2)
            if op == "round":
                re[:2] = [2.5, -1.5]
                im[:2] = [0.5, 3.7]
            unary_case(F, f"{op} complex64 5", op, T(arr(re + 1j * im, "complex64")))
        # special values
        if op == "sign":
            # MLX gives sign(nan) = 0 (NumPy: nan); kept apart so a runner may single it out.
            unary_case(F, "sign float32 nan (MLX gives 0)", op, T(arr([math.nan, -math.nan], "float32")),
                       skip_check=True)
            specials = [math.inf, -math.inf, 0.0, -0.0] + EXACT_SPECIAL
        elif op in ("stop_gradient",):
            specials = [math.nan, math.inf, -math.inf, 0.0, -0.0, 1.5]
        else:
            specials = [math.nan, math.inf, -math.inf, 0.0, -0.0] + UNARY_SPECIAL.get(op, EXACT_SPECIAL)
        unary_case(F, f"{op} float32 special values", op, T(arr(specials, "float32")))
        f16_specials = [math.nan, math.inf, -math.inf, 0.0, -0.0, 1.0, -1.0]
        if op == "sign":
            f16_specials = f16_specials[1:]
        if op in ("abs", "negative", "sign", "square", "floor", "ceil", "round", "isnan", "isinf",
                  "isfinite", "sqrt", "reciprocal", "exp"):
            f16_specials += [65504.0, 6e-8, 300.0]  # max, subnormal, square overflow
        unary_case(F, f"{op} float16 special values", op, T(arr(f16_specials, "float16")))
        unary_case(F, f"{op} bfloat16 special values", op,
                   T(arr(([] if op == "sign" else [math.nan]) + [math.inf, -math.inf, 0.0, -0.0, 1.0, -1.0],
                         "bfloat16")))
        # shapes and views
        v = F.uniform([4, 6], lo, hi)
        unary_case(F, f"{op} float32 transposed view", op,
                   T(arr(v[:3, :4], "float32"), transpose_view([1, 0])))
        unary_case(F, f"{op} float32 strided slice view", op,
                   T(arr(v, "float32"), slice_view([0, 1], [4, 6], [2, 2])))
        unary_case(F, f"{op} float32 broadcast view", op,
                   T(arr(v[0, :3], "float32"), broadcast_view([2, 3])))
        unary_case(F, f"{op} float32 scalar", op, T(arr(F.uniform([], lo, hi), "float32")))
        unary_case(F, f"{op} float32 zero-size 0x3", op, T(arr(np.zeros([0, 3]), "float32")))
        unary_case(F, f"{op} float32 3d 2x3x4", op, T(arr(F.uniform([2, 3, 4], lo, hi), "float32")))
    gen_astype(F)


# astype -------------------------------------------------------------------------

ASTYPE_CANDIDATES = [0, 1, 2, 3, 7, 100, 127, 255, 1000, 2049, 32767, 65504, 16777217,
                     2 ** 31 - 1, 2 ** 32 - 1, 2 ** 40 + 1,
                     -1, -2, -7, -100, -128, -32768, -2 ** 31,
                     0.5, 2.7, -2.7, 1 / 3, 1e-3, 123.456, -0.75, 1e-5]


def value_range(d):
    if d == "bool":
        return (0, 1)
    if d in INTS:
        return INT_RANGE[d]
    return (-FLOAT_MAX.get(d, FLOAT_MAX["float32"]), FLOAT_MAX.get(d, FLOAT_MAX["float32"]))


def astype_values(src, tgt):
    """Values exactly representable in `src` whose conversion to `tgt` is well defined."""
    out = []
    for c in ASTYPE_CANDIDATES:
        if src == "bool":
            break
        if (src in INTS) and (c != int(c)):
            continue
        slo, shi = value_range(src)
        if not (slo <= c <= shi):
            continue
        if src in INTS:
            stored = int(c)
        else:
            a = arr([c], src)
            stored = complex(to_numpy(a)[0]).real if src == "complex64" else float(to_numpy(a)[0])
            if math.isinf(stored):
                continue
        if tgt == "bool":
            ok = True
        elif tgt in INTS:
            lo, hi = INT_RANGE[tgt]
            ok = stored >= 0 if tgt in UINTS else True
            ok = ok and lo <= math.trunc(stored) <= hi
        else:
            ok = abs(stored) <= value_range(tgt)[1]
        if ok and stored not in out:
            out.append(stored)
    if src == "bool":
        return [True, False, True, True, False]
    if src in ("float16", "bfloat16", "float32", "float64", "complex64") and tgt in FLOATS + ["complex64"]:
        out += [math.inf, -math.inf, math.nan, -0.0]
    return out


def gen_astype(F):
    for src in ALL_DTYPES:
        for tgt in ALL_DTYPES:
            vals = astype_values(src, tgt)
            if src == "complex64":
                vals = [complex(v, (i % 3) - 1.0) if isinstance(v, float) and math.isfinite(v) else complex(v)
                        for i, v in enumerate(vals)]
            x = arr(vals, src)
            F.case(f"astype {src}->{tgt}", "astype", [T(x)], {"dtype": tgt}, expect_dtype=tgt,
                   ref=None if (src == "complex64" or tgt == "complex64") else astype_ref(src, tgt))
    # rounding and truncation cases
    e11, e8 = 2.0 ** -11, 2.0 ** -8
    ties16 = [1 + e11, 1 + 3 * e11, 1 + 5 * e11, -(1 + e11), 2048 + 1, 2048 + 3, 1 + e11 + 2.0 ** -20,
              65519.0, 65520.0, 70000.0, 1e-7, 5.960464477539063e-08, 2.9802322387695312e-08, 0.1]
    F.case("astype float32->float16 ties to even, overflow, subnormals", "astype",
           [T(arr(ties16, "float32"))], {"dtype": "float16"}, ref=astype_ref("float32", "float16"))
    ties8 = [1 + e8, 1 + 3 * e8, 1 + 5 * e8, -(1 + e8), 257.0, 259.0, 1 + e8 + 2.0 ** -20, 0.1,
             3.3895313892515355e38, 3.4e38, 1e-40, float.fromhex("0x1.fffffep+127")]
    F.case("astype float32->bfloat16 ties to even, overflow, subnormals", "astype",
           [T(arr(ties8, "float32"))], {"dtype": "bfloat16"}, ref=astype_ref("float32", "bfloat16"))
    F.case("astype float32->float16 nan inf", "astype",
           [T(arr([math.nan, math.inf, -math.inf, -0.0], "float32"))], {"dtype": "float16"})
    F.case("astype float32->bfloat16 nan inf", "astype",
           [T(arr([math.nan, math.inf, -math.inf, -0.0], "float32"))], {"dtype": "bfloat16"})
    F.case("astype float64->float32 rounding", "astype",
           [T(arr([0.1, 1 / 3, 1 + 2.0 ** -24, 1 + 3 * 2.0 ** -24, 1e39, 1e-46, 16777217.0], "float64"))],
           {"dtype": "float32"}, ref=astype_ref("float64", "float32"))
    F.case("astype float32->int32 large truncation", "astype",
           [T(arr([2147483520.0, -2147483648.0, 16777217.0, -123456.75, 1e9 + 0.5, 0.999], "float32"))],
           {"dtype": "int32"}, ref=astype_ref("float32", "int32"))
    F.case("astype float64->int64 large truncation", "astype",
           [T(arr([2.0 ** 52 + 1, -(2.0 ** 52) - 3, 1e15 + 0.5, -1e12 - 0.75, 4503599627370495.5], "float64"))],
           {"dtype": "int64"}, ref=astype_ref("float64", "int64"))
    F.case("astype float64->uint32 large truncation", "astype",
           [T(arr([4294967295.0, 4294967294.9, 2147483648.5, 0.25], "float64"))],
           {"dtype": "uint32"}, ref=astype_ref("float64", "uint32"))
    F.case("astype int32->float32 rounding", "astype",
           [T(arr([16777217, 16777219, 2147483647, -2147483647, 33554435], "int32"))],
           {"dtype": "float32"}, ref=astype_ref("int32", "float32"))
    F.case("astype int32->float16 rounding", "astype",
           [T(arr([2049, 2051, 4097, 65504, -65519, 12345], "int32"))],
           {"dtype": "float16"}, ref=astype_ref("int32", "float16"))
    F.case("astype int32->bfloat16 rounding", "astype",
           [T(arr([257, 259, 513, 65536 + 256, -1000001, 12345], "int32"))],
           {"dtype": "bfloat16"}, ref=astype_ref("int32", "bfloat16"))
    F.case("astype float16->bfloat16 rounding", "astype",
           [T(arr([1 + 2.0 ** -10, 1 + 3 * 2.0 ** -10, 65504.0, 6e-8, 0.1], "float16"))],
           {"dtype": "bfloat16"}, ref=astype_ref("float16", "bfloat16"))
    F.case("astype bfloat16->float16 overflow", "astype",
           [T(arr([1e5, -1e5, 1e-9, 0.1, 3.0], "bfloat16"))],
           {"dtype": "float16"}, ref=astype_ref("bfloat16", "float16"))
    F.case("astype float32->bool nan and tiny", "astype",
           [T(arr([0.0, -0.0, 1e-40, math.nan, math.inf, -0.5], "float32"))], {"dtype": "bool"})
    F.case("astype float32->int8 transposed view", "astype",
           [T(arr(F.uniform([3, 4], -100, 100), "float32"), transpose_view([1, 0]))], {"dtype": "int8"},
           ref=astype_ref("float32", "int8"))
    F.case("astype int32->float16 strided view", "astype",
           [T(arr(F.ints([4, 5], -1000, 1000), "int32"), slice_view([1, 0], [4, 5], [1, 2]))],
           {"dtype": "float16"}, ref=astype_ref("int32", "float16"))
    F.case("astype uint8->float32 broadcast view", "astype",
           [T(arr(F.ints([3], 0, 255), "uint8"), broadcast_view([2, 3]))], {"dtype": "float32"},
           ref=astype_ref("uint8", "float32"))


def astype_ref(src, tgt):
    def ref(x):
        if tgt == "bool":
            return x != 0
        if tgt in INTS:
            return np.trunc(x.astype(np.float64)).astype(np.int64) if src not in INTS + ["bool"] else x.astype(np.int64)
        return x.astype(np.float64)
    return ref


# ----------------------------------------------------------------------------
# binary.json

ARITH = ["add", "subtract", "multiply", "divide", "floor_divide", "remainder", "power",
         "maximum", "minimum", "arctan2"]
CMP = ["equal", "not_equal", "less", "less_equal", "greater", "greater_equal"]
LOGIC = ["logical_and", "logical_or"]
BINARY_OPS = ARITH + CMP + LOGIC
APPROX_BINARY = {"power", "arctan2"}


def _float_like(x):
    return x.dtype != np.bool_ and not np.issubdtype(x.dtype, np.integer)


def _floor_divide(a, b):
    if _float_like(a) or _float_like(b):
        with np.errstate(all="ignore"):
            return np.floor(f64(a) / f64(b))
    return np.floor_divide(a, b)


def _remainder(a, b):
    if _float_like(a) or _float_like(b):
        with np.errstate(all="ignore"):
            return np.remainder(f64(a), f64(b))
    return np.remainder(a, b)


def _arith(fn, promote=False):
    def g(a, b):
        if promote or _float_like(a) or _float_like(b):
            if not (np.iscomplexobj(a) or np.iscomplexobj(b)):
                a, b = f64(a), f64(b)
        with np.errstate(all="ignore"):
            return fn(a, b)
    return g


BINARY_REF = {
    "add": _arith(np.add), "subtract": _arith(np.subtract), "multiply": _arith(np.multiply),
    "divide": _arith(np.divide, promote=True), "floor_divide": _floor_divide, "remainder": _remainder,
    "power": _arith(np.power), "maximum": _arith(np.maximum), "minimum": _arith(np.minimum),
    "arctan2": _arith(np.arctan2, promote=True),
    "equal": np.equal, "not_equal": np.not_equal, "less": np.less, "less_equal": np.less_equal,
    "greater": np.greater, "greater_equal": np.greater_equal,
    "logical_and": np.logical_and, "logical_or": np.logical_or,
}


def binary_ref(op):
    fn = BINARY_REF[op]

    def ref(a, b):
        if a.dtype == np.bool_ and b.dtype == np.bool_ and op in ("add", "multiply", "maximum", "minimum"):
            return {"add": np.logical_or, "multiply": np.logical_and,
                    "maximum": np.logical_or, "minimum": np.logical_and}[op](a, b)
        return fn(a, b)
    return ref


def binary_tol(op, out_d):
    if out_d not in FLOATS and out_d != "complex64":
        return None
    if op in APPROX_BINARY:
        return tol_for(out_d)
    if out_d == "complex64" and op in ("multiply", "divide", "power"):
        return tol_for(out_d)
    return None


def binary_operands(F, op, d, sa, sb):
    """Two arrays of dtype d for op, inside the op's well-defined range."""
    if d == "bool":
        return F.bools(sa), F.bools(sb)
    if d == "complex64":
        a = F.uniform(sa, -3, 3) + 1j * F.uniform(sa, -3, 3)
        b = F.uniform(sb, -3, 3) + 1j * F.uniform(sb, -3, 3)
        if op in CMP and list(sa) == list(sb):
            b.reshape(-1)[::2] = a.reshape(-1)[::2]  # some equal pairs
        if op == "divide":
            b = b + np.sign(b.real) * 0.5
        return a, b
    if d in FLOATS:
        if op in ("add", "subtract", "multiply"):
            return F.uniform(sa, -4, 4), F.uniform(sb, -4, 4)
        if op == "divide":
            return F.uniform(sa, -4, 4), F.uniform(sb, 0.25, 4) * F.choice(sb, [-1.0, 1.0])
        if op in ("floor_divide", "remainder"):
            return F.uniform(sa, -10, 10), F.uniform(sb, 0.5, 4) * F.choice(sb, [-1.0, 1.0])
        if op == "power":
            return F.uniform(sa, 0.1, 3), F.uniform(sb, -2, 3)
        if op == "arctan2":
            return F.uniform(sa, -4, 4), F.uniform(sb, -4, 4)
        if op in LOGIC:
            return F.choice(sa, [0.0, 0.0, 1.5, -2.0]), F.choice(sb, [0.0, 0.0, 1.5, -2.0])
        return F.dyadic(sa, -2, 2, 2), F.dyadic(sb, -2, 2, 2)
    unsigned = d in UINTS
    if op == "add":
        return (F.ints(sa, 0, 100), F.ints(sb, 0, 100)) if unsigned else (F.ints(sa, -50, 50), F.ints(sb, -50, 50))
    if op == "subtract":
        return (F.ints(sa, 100, 200), F.ints(sb, 0, 100)) if unsigned else (F.ints(sa, -50, 50), F.ints(sb, -50, 50))
    if op == "multiply":
        return (F.ints(sa, 0, 15), F.ints(sb, 0, 15)) if unsigned else (F.ints(sa, -11, 11), F.ints(sb, -11, 11))
    if op in ("divide", "floor_divide", "remainder"):
        if unsigned:
            return F.ints(sa, 0, 200), F.ints(sb, 1, 9)
        return F.ints(sa, -50, 50), F.ints(sb, 1, 9) * F.choice(sb, [-1, 1])
    if op == "power":
        return (F.ints(sa, 0, 3), F.ints(sb, 0, 4)) if unsigned else (F.ints(sa, -3, 3), F.ints(sb, 0, 4))
    if op == "arctan2":
        return (F.ints(sa, 0, 4), F.ints(sb, 0, 4)) if unsigned else (F.ints(sa, -4, 4), F.ints(sb, -4, 4))
    if op in LOGIC:
        return F.ints(sa, 0, 2), F.ints(sb, 0, 2)
    return (F.ints(sa, 0, 5), F.ints(sb, 0, 5)) if unsigned else (F.ints(sa, -3, 3), F.ints(sb, -3, 3))


def binary_dtypes(op):
    ds = ["float32", "float16", "bfloat16", "float64"]
    if op in ("divide", "arctan2"):
        ds += ["int32", "uint8", "int16"]
    else:
        ds += ["int32", "int8", "uint8", "int16", "uint16", "int64", "uint32", "uint64"]
    if op in ("add", "multiply", "maximum", "minimum") or op in CMP or op in LOGIC:
        ds.append("bool")
    if op in ("add", "subtract", "multiply", "divide", "equal", "not_equal"):
        ds.append("complex64")
    return ds


def bcase(F, name, op, a_in, b_in):
    out_d = dname(run_op(op, [a_in.value(), b_in.value()], {}).dtype)
    tol = binary_tol(op, out_d)
    F.case(name, op, [a_in, b_in], tol=tol, ref=binary_ref(op))


def gen_binary(F):
    for op in BINARY_OPS:
        for d in binary_dtypes(op):
            a, b = binary_operands(F, op, d, [3, 4], [3, 4])
            bcase(F, f"{op} {d} 3x4", op, T(arr(a, d)), T(arr(b, d)))
        # broadcasting and views, float32 and int32
        for d in ("float32", "int32"):
            if d == "int32" and op in ("arctan2",):
                continue
            for sa, sb in [([3, 1], [1, 4]), ([], [2, 3]), ([2, 3], []), ([2, 3, 4], [4]), ([3], [2, 1, 3]),
                           ([2, 1, 4], [3, 1]), ([0, 3], [1, 3]), ([2, 0, 3], [3]), ([], [])]:
                a, b = binary_operands(F, op, d, sa, sb)
                bcase(F, f"{op} {d} broadcast {shape_str(sa)} with {shape_str(sb)}", op,
                      T(arr(a, d)), T(arr(b, d)))
            a, b = binary_operands(F, op, d, [4, 3], [3, 4])
            bcase(F, f"{op} {d} transposed view with contiguous", op,
                  T(arr(a, d), transpose_view([1, 0])), T(arr(b, d)))
            a, b = binary_operands(F, op, d, [3, 4], [5, 8])
            bcase(F, f"{op} {d} contiguous with strided slice view", op,
                  T(arr(a, d)), T(arr(b, d), slice_view([1, 0], [4, 8], [1, 2])))
            a, b = binary_operands(F, op, d, [4], [3, 4])
            bcase(F, f"{op} {d} broadcast view with contiguous", op,
                  T(arr(a, d), broadcast_view([3, 4])), T(arr(b, d)))
            a, b = binary_operands(F, op, d, [4, 3, 2], [3, 4, 2])
            bcase(F, f"{op} {d} two transposed 3d views", op,
                  T(arr(a, d), transpose_view([2, 0, 1])), T(arr(b, d), transpose_view([2, 1, 0])))
    # floor_divide / remainder sign rules with exact operands
    for op in ("floor_divide", "remainder"):
        bcase(F, f"{op} int32 sign of divisor", op,
              T(arr([7, -7, 7, -7, 6, -6, 0, 1, -1, 13], "int32")),
              T(arr([2, 2, -2, -2, 3, 3, -5, -3, 3, -4], "int32")))
        bcase(F, f"{op} int8 sign of divisor", op,
              T(arr([127, -128, 100, -100, 5, -5], "int8")), T(arr([3, 7, -3, -7, -1, 1], "int8")))
        for d in ("float32", "float16", "bfloat16", "float64"):
            bcase(F, f"{op} {d} sign of divisor", op,
                  T(arr([7.5, -7.5, 7.5, -7.5, 6.0, -6.0, 0.0, -0.0, 1.0, -1.0, 0.75, 3.0], d)),
                  T(arr([2.0, 2.0, -2.0, -2.0, 3.0, 3.0, -5.0, 2.0, -0.5, 0.5, 0.25, 1.5], d)))
        bcase(F, f"{op} float32 zero and infinite operands", op,
              T(arr([1.0, -1.0, 0.0, math.inf, 5.0, -5.0, math.nan, 2.0], "float32")),
              T(arr([0.0, 0.0, 0.0, 2.0, math.inf, math.inf, 1.0, math.nan], "float32")))
    # float edge values through every float op
    ea = [math.nan, math.inf, -math.inf, 0.0, -0.0, 1.0, -1.0, math.inf, 0.0, 3e38, -2.0, 1e-40]
    eb = [1.0, 1.0, 2.0, -0.0, 0.0, math.nan, math.inf, -math.inf, 0.0, 10.0, 3.0, 1e-40]
    for op in BINARY_OPS:
        bcase(F, f"{op} float32 special values", op, T(arr(ea, "float32")), T(arr(eb, "float32")))
    bcase(F, "power float32 negative base integer exponent", "power",
          T(arr([-2.0, -2.0, -0.5, -3.0, -1.0, 0.0, 0.0, 2.0], "float32")),
          T(arr([3.0, 2.0, -2.0, 0.0, 0.5, -1.0, 0.0, -0.5], "float32")))
    bcase(F, "power int32 exact", "power",
          T(arr([2, -2, 3, 10, 0, 1, -1, 7], "int32")), T(arr([10, 3, 5, 9, 0, 30, 7, 2], "int32")))
    bcase(F, "divide float32 by zero", "divide",
          T(arr([1.0, -1.0, 0.0, -0.0], "float32")), T(arr([0.0, 0.0, 0.0, -0.0], "float32")))
    bcase(F, "divide int32 by zero gives float", "divide",
          T(arr([1, -1, 0, 7], "int32")), T(arr([0, 0, 0, 2], "int32")))
    # mixed dtypes (promotion) through a few ops
    pairs = [("int32", "float32"), ("uint8", "int8"), ("float16", "bfloat16"), ("int64", "float16"),
             ("bool", "int8"), ("uint32", "int32"), ("int8", "uint16"), ("float16", "int32"),
             ("float64", "float32"), ("bool", "float16"), ("uint64", "int64"), ("uint8", "bfloat16"),
             ("complex64", "float32"), ("int16", "complex64")]
    for op in ("add", "multiply", "subtract", "divide", "maximum", "less", "floor_divide", "equal"):
        for da, db in pairs:
            if op in ("maximum", "less", "floor_divide") and "complex64" in (da, db):
                continue
            if op == "subtract" and "bool" in (da, db):
                continue
            a = F.ints([2, 3], 0, 9) if da in INTS + ["bool"] else F.dyadic([2, 3], -4, 4, 4)
            b = F.ints([2, 3], 1, 9) if db in INTS + ["bool"] else F.dyadic([2, 3], 0.25, 4, 4)
            if da == "bool":
                a = a > 4
            if db == "bool":
                b = b > 4
            if "complex64" in (da, db):
                if da == "complex64":
                    a = a + 1j * F.dyadic([2, 3], -2, 2, 4)
                else:
                    b = b + 1j * F.dyadic([2, 3], -2, 2, 4)
            bcase(F, f"{op} {da} with {db}", op, T(arr(a, da)), T(arr(b, db)))
    gen_binary_scalar(F)


def binary_scalar_ref(op, scalar, side, operand_d):
    fn = binary_ref(op)

    def ref(x):
        s = np.asarray(scalar)
        if operand_d in FLOATS or operand_d == "complex64":
            s = round_to(np.asarray(float(scalar)), operand_d)
            x = f64(x)
        else:
            s = np.asarray(int(scalar), dtype=np.int64)
            if x.dtype == np.bool_:
                x = x.astype(np.int64)
        return fn(x, s) if side == "right" else fn(s, x)
    return ref


def gen_binary_scalar(F):
    ops = ["add", "subtract", "multiply", "divide", "floor_divide", "remainder", "power", "maximum",
           "minimum", "equal", "less", "greater_equal", "arctan2"]
    for d in ["float32", "float16", "bfloat16", "float64", "int32", "int8", "uint8", "int64", "bool"]:
        for op in ops:
            if d == "bool" and op not in ("add", "multiply", "maximum", "equal", "less", "divide"):
                continue
            for kind, scalars in (("int", [3, -2]), ("float", [2.5, 0.1])):
                for s in scalars:
                    if d in UINTS and s < 0:
                        continue
                    if kind == "float" and s == 0.1 and d not in ("float16", "bfloat16", "float32"):
                        continue
                    for side in ("right", "left"):
                        if op == "power" and kind == "int" and s < 0:
                            continue
                        x = _scalar_operand(F, op, d, kind, s, side)
                        if x is None:
                            continue
                        params = {"op": op, "scalar": float(s) if kind == "float" else int(s),
                                  "scalar_kind": kind, "side": side}
                        operand = run_op("binary_scalar", [x], params)
                        operand_d = dname(mx.add(x, s).dtype)
                        tol = binary_tol(op, dname(operand.dtype))
                        F.case(f"binary_scalar {d} {op} {kind} {s} {side}", "binary_scalar", [T(x)], params,
                               tol=tol, ref=binary_scalar_ref(op, s, side, operand_d))
    # weak scalars keep the array's dtype
    for d, s, kind in [("float16", 2.0, "float"), ("bfloat16", 2.0, "float"), ("int32", 2.5, "float"),
                       ("uint8", 2, "int"), ("int8", 2, "int"), ("float16", 70000, "int"),
                       ("float16", 1e-8, "float"), ("bfloat16", 1.001, "float"), ("uint16", 2, "int")]:
        x = arr([1, 2, 3, 4] if d in INTS else [0.5, 1.5, 3.0, 100.0], d)
        params = {"op": "multiply", "scalar": s, "scalar_kind": kind, "side": "right"}
        F.case(f"binary_scalar weak {d} multiply {kind} {s}", "binary_scalar", [T(x)], params,
               ref=binary_scalar_ref("multiply", s, "right", dname(mx.multiply(x, s).dtype)))


def _scalar_operand(F, op, d, kind, s, side):
    shape = [2, 3]
    if d == "bool":
        return arr(F.bools(shape), d)
    if d in INTS:
        unsigned = d in UINTS
        if op in ("divide", "floor_divide", "remainder") and side == "left":
            v = F.ints(shape, 1, 9) * (1 if unsigned else F.choice(shape, [-1, 1]))
        elif op == "power" and side == "left":
            v = F.ints(shape, 0, 4)
        elif op == "power":
            v = F.ints(shape, 0, 4) if (unsigned or kind == "float") else F.ints(shape, -3, 3)
        elif op == "subtract" and side == "left" and unsigned:
            v = F.ints(shape, 0, 3)
        elif op == "subtract" and unsigned:
            v = F.ints(shape, 3, 40)
        elif op == "arctan2":
            v = F.ints(shape, -4, 4) if not unsigned else F.ints(shape, 0, 4)
        else:
            v = F.ints(shape, 0, 40) if unsigned else F.ints(shape, -40, 40)
        return arr(v, d)
    if op == "power":
        v = F.uniform(shape, 0.1, 3) if side == "right" else F.uniform(shape, -2, 3)
    elif op in ("divide", "floor_divide", "remainder") and side == "left":
        v = F.uniform(shape, 0.5, 4) * F.choice(shape, [-1.0, 1.0])
    elif op in ("equal", "less", "greater_equal", "maximum", "minimum"):
        v = F.choice(shape, [s, -s, 0.0, 1.0, float(round_to(np.asarray(s), d))])
    else:
        v = F.uniform(shape, -4, 4)
    return arr(v, d)


# ----------------------------------------------------------------------------
# promotion.json


def gen_promotion():
    cases = []
    for a in ALL_DTYPES:
        for b in ALL_DTYPES:
            r = mx.add(mx.zeros([1], dtype=mxd(a)), mx.zeros([1], dtype=mxd(b)))
            cases.append({"a": a, "b": b, "result": dname(r.dtype)})
    return cases


# ----------------------------------------------------------------------------
# reduction.json

RED_TOL = {
    "float32": {"rtol": 1e-5, "atol": 1e-6},
    "float16": {"rtol": 2e-3, "atol": 1e-3},
    "bfloat16": {"rtol": 1e-2, "atol": 1e-2},
    "float64": {"rtol": 1e-12, "atol": 1e-12},
    "complex64": {"rtol": 1e-5, "atol": 1e-6},
}
NORMAL_MIN = {"float16": 2.0 ** -14, "bfloat16": 2.0 ** -126, "float32": 2.0 ** -126,
              "float64": 2.0 ** -1022, "complex64": 2.0 ** -126}


def _axes_tuple(axes, ndim):
    if axes is None:
        return None
    return tuple(a % ndim for a in axes)


def _logsumexp(x, axis, keepdims):
    x = f64(x)
    if x.size == 0:
        return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        r = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return r if keepdims else np.squeeze(r, axis=axis) if axis is not None else r.reshape([])


def reduction_ref(op, p):
    def ref(x):
        ax = _axes_tuple(p.get("axes"), x.ndim)
        kd = p.get("keepdims", False)
        with np.errstate(all="ignore"):
            if op == "sum":
                return np.sum(x.astype(np.int64) if x.dtype == np.bool_ else x, axis=ax, keepdims=kd)
            if op == "prod":
                return np.prod(x.astype(np.int64) if x.dtype == np.bool_ else x, axis=ax, keepdims=kd)
            if op == "mean":
                return np.mean(x if np.iscomplexobj(x) else f64(x), axis=ax, keepdims=kd)
            if op == "max":
                return np.max(x, axis=ax, keepdims=kd)
            if op == "min":
                return np.min(x, axis=ax, keepdims=kd)
            if op == "all":
                return np.all(x, axis=ax, keepdims=kd)
            if op == "any":
                return np.any(x, axis=ax, keepdims=kd)
            if op == "logsumexp":
                if ax == ():
                    return f64(x)
                return _logsumexp(x, ax, kd)
            if op in ("var", "std"):
                fn = np.var if op == "var" else np.std
                return fn(f64(x), axis=ax, keepdims=kd, ddof=p["ddof"])
            if op in ("argmax", "argmin"):
                fn = np.argmax if op == "argmax" else np.argmin
                return fn(x, axis=p["axis"], keepdims=kd)
            if op == "softmax":
                x = f64(x)
                e = np.exp(x - np.max(x, axis=p["axis"], keepdims=True))
                return e / np.sum(e, axis=p["axis"], keepdims=True)
            if op == "logsoftmax":
                x = f64(x)
                return x - _logsumexp(x, p["axis"], True)
        raise ValueError(op)
    return ref


def _is_pow2(n):
    return n > 0 and (n & (n - 1)) == 0


def reduction_is_exact(op, x, p, out_d):
    """Whether every summation/multiplication order gives the same answer (and MLX's)."""
    if out_d not in FLOATS and out_d != "complex64":
        return True
    if op in ("max", "min", "argmax", "argmin", "all", "any"):
        return True
    if op not in ("sum", "prod", "mean"):
        return False
    v = np64(x).reshape(-1)
    if np.iscomplexobj(v):
        if op == "prod":
            return False
        v = np.concatenate([v.real, v.imag])
    v = v.astype(np.float64)
    if v.size == 0 or not np.all(np.isfinite(v)):
        return op != "mean" or v.size == 0
    bits = MANTISSA_BITS[out_d]
    if op in ("sum", "mean"):
        scaled = v * 4.0
        if not np.all(scaled == np.round(scaled)):
            return False
        if np.sum(np.abs(scaled)) >= 2.0 ** bits:
            return False
        if op == "mean":
            ax = _axes_tuple(p["axes"], x.ndim)
            n = int(np.prod([x.shape[a] for a in (ax if ax is not None else range(x.ndim))]))
            return _is_pow2(n)
        return True
    # prod: values from {0, ±0.5, ±1, ±1.5, ±2, ±3}
    a = np.abs(v)
    if not np.all(np.isin(a, [0.0, 0.5, 1.0, 1.5, 2.0, 3.0])):
        return False
    k3 = int(np.sum((a == 1.5) | (a == 3.0)))
    n_up = int(np.sum(a == 2.0)) + int(np.sum(a == 3.0)) * 2 + k3
    n_down = int(np.sum(a == 0.5)) + int(np.sum(a == 1.5))
    return 3 ** k3 < 2 ** bits and 2.0 ** n_up < FLOAT_MAX[out_d if out_d != "complex64" else "float32"] \
        and 2.0 ** -n_down >= NORMAL_MIN[out_d]


SKIPPED = []


def red_case(F, name, op, x_in, params, big=False, optional=False):
    x = x_in.value()
    try:
        out = run_op(op, [x], params)
        mx.eval(out)
    except (ValueError, RuntimeError) as e:
        if not optional:
            raise
        SKIPPED.append(f"{name}: MLX raises: {e}")
        return
    out_d = dname(out.dtype)
    tol = None
    if not reduction_is_exact(op, x, params, out_d):
        if op in ("logsumexp", "softmax", "logsoftmax", "var", "std"):
            tol = dict(TRANS_TOL[out_d]) if out_d in TRANS_TOL else None
            if out_d == "float64" and op in ("logsumexp", "softmax", "logsoftmax"):
                tol = dict(F64_APPROX_TOL)  # exp/log are float32-accurate in MLX's float64 path
            if op in ("var", "std") and out_d in RED_TOL:
                tol = dict(RED_TOL[out_d])
        else:
            tol = dict(RED_TOL[out_d])
        if big and out_d == "float32":
            tol = {"rtol": 1e-5, "atol": 1e-5}
        if op == "logsoftmax" and out_d in FLOATS:
            # x - logsumexp(x) cancels: the error scales with |x|, not with the result
            eps = {"float16": 2.0 ** -10, "bfloat16": 2.0 ** -7, "float32": 2.0 ** -23, "float64": 2.0 ** -52}[out_d]
            xv = np64(x).astype(np.float64)
            finite = xv[np.isfinite(xv)]
            scale = (float(np.max(np.abs(finite))) if finite.size else 0.0) + math.log(max(2, x.shape[params["axis"]]))
            tol["atol"] = max(tol.get("atol", 0.0), float("%.2g" % (4 * eps * max(1.0, scale))))
    F.case(name, op, [x_in], params, tol=tol, ref=reduction_ref(op, params))


def red_data(F, op, d, shape):
    if d == "bool":
        return F.bools(shape, 0.7 if op == "all" else 0.3)
    if d in INTS:
        if op == "prod":
            return F.choice(shape, [1, 2, 1, 3] if d in UINTS else [1, -1, 2, -2, 1, 3])
        if d in UINTS:
            return F.ints(shape, 0, 250 if d == "uint8" else 1000)
        return F.ints(shape, -100, 100)
    if op == "prod":
        vals = [0.5, -0.5, 1.0, -1.0, 1.0, 2.0, -2.0, 1.5]
        return F.choice(shape, vals)
    if op in ("sum", "mean", "max", "min", "all", "any"):
        q, lim = (2, 2) if d == "bfloat16" else (4, 4)
        v = F.dyadic(shape, -lim, lim, q)
        if op in ("all", "any"):
            v = np.where(F.bools(shape, 0.3 if op == "all" else 0.8), 0.0, v)
        if d == "complex64":
            v = v + 1j * F.dyadic(shape, -lim, lim, q)
        return v
    if op in ("var", "std"):
        return F.uniform(shape, -3, 3)
    return F.uniform(shape, -4, 4)


def gen_reduction(F):
    axes_variants = [None, [], [0], [1], [2], [-1], [0, 2], [-1, -3], [0, 1, 2], [2, 1]]
    ops = ["sum", "mean", "prod", "max", "min", "all", "any", "logsumexp", "var", "std"]
    for op in ops:
        for i, axes in enumerate(axes_variants):
            for keepdims in (False, True):
                p = {"axes": axes, "keepdims": keepdims}
                if op in ("var", "std"):
                    p["ddof"] = i % 2
                x = arr(red_data(F, op, "float32", [2, 3, 4]), "float32")
                red_case(F, f"{op} float32 2x3x4 axes {axes} keepdims {keepdims}" +
                         (f" ddof {p['ddof']}" if "ddof" in p else ""), op, T(x), p)
        dts = ["float16", "bfloat16", "float64", "int32", "int8", "uint8", "int16", "uint16", "int64",
               "uint32", "uint64", "bool"]
        if op in ("sum", "mean", "prod"):
            dts.append("complex64")
        for d in dts:
            if op in ("logsumexp", "var", "std") and d in ("uint16", "uint64", "int16"):
                continue
            if op == "logsumexp" and d in ("int8", "bool"):
                continue  # MLX 0.32.4 subtracts the max in int8/bool and overflows
            for axes, keepdims in ((None, False), ([1], False), ([0, -1], True)):
                p = {"axes": axes, "keepdims": keepdims}
                if op in ("var", "std"):
                    p["ddof"] = 1 if axes == [1] else 0
                x = arr(red_data(F, op, d, [2, 3, 4]), d)
                red_case(F, f"{op} {d} 2x3x4 axes {axes} keepdims {keepdims}", op, T(x), p)
        # views
        base = arr(red_data(F, op, "float32", [4, 3]), "float32")
        p = {"axes": [1], "keepdims": False}
        if op in ("var", "std"):
            p["ddof"] = 0
        red_case(F, f"{op} float32 transposed view axes [1]", op, T(base, transpose_view([1, 0])), p)
        base = arr(red_data(F, op, "float32", [4, 6]), "float32")
        red_case(F, f"{op} float32 strided slice view axes [1]", op,
                 T(base, slice_view([1, 0], [4, 6], [2, 2])), p)
        base = arr(red_data(F, op, "float32", [4]), "float32")
        p0 = dict(p, axes=[0])
        red_case(F, f"{op} float32 broadcast view axes [0]", op, T(base, broadcast_view([3, 4])), p0)
        base = arr(red_data(F, op, "int32", [2, 3, 4]), "int32")
        p2 = dict(p, axes=[0, 2])
        red_case(F, f"{op} int32 3d transposed view axes [0, 2]", op, T(base, transpose_view([2, 0, 1])), p2)
        # scalar input
        red_case(F, f"{op} float32 scalar input", op, T(arr(np.asarray(1.5), "float32")),
                 dict(p, axes=None))
        # zero-size inputs where MLX defines the result
        if op in ("sum", "prod", "all", "any", "mean"):
            for d in ("float32", "int32", "bool"):
                if op == "mean" and d != "float32":
                    continue
                z = arr(np.zeros([0, 3]), d)
                red_case(F, f"{op} {d} zero-size 0x3 axes [0]", op, T(z), {"axes": [0], "keepdims": False})
                if op not in ("prod", "all"):  # MLX 0.32.4 gives prod 0 and all False over every axis
                    red_case(F, f"{op} {d} zero-size 0x3 axes [0, 1] keepdims", op, T(z),
                             {"axes": [0, 1], "keepdims": True})
                    red_case(F, f"{op} {d} zero-size 0x3 axes None keepdims", op, T(z),
                             {"axes": None, "keepdims": True})
        if op not in ("var", "std"):
            z = arr(np.zeros([0, 3]), "float32")
            red_case(F, f"{op} float32 zero-size 0x3 axes [1]", op, T(z), {"axes": [1], "keepdims": False},
                     optional=True)
    # large inputs: summation order matters
    big = [("sum", [2048], None), ("mean", [4, 512], [1]), ("sum", [32, 64], [0]), ("logsumexp", [1500], None),
           ("var", [1500], None), ("std", [40, 40], [1]), ("prod", [1024], None), ("max", [2000], None)]
    for op, shape, axes in big:
        x = F.uniform(shape, 0.0, 1.0) if op != "prod" else F.uniform(shape, 0.999, 1.001)
        p = {"axes": axes, "keepdims": False}
        if op in ("var", "std"):
            p["ddof"] = 1
        red_case(F, f"{op} float32 large {shape_str(shape)} axes {axes}", op, T(arr(x, "float32")), p, big=True)
    for d in ("float16", "bfloat16"):
        x = F.uniform([2000], 0.0, 1.0)
        red_case(F, f"sum {d} large 2000", "sum", T(arr(x, d)), {"axes": None, "keepdims": False})
    red_case(F, "sum int32 large 5000", "sum", T(arr(F.ints([5000], -1000, 1000), "int32")),
             {"axes": None, "keepdims": False})
    red_case(F, "sum uint8 large 4096 (uint32 result)", "sum", T(arr(F.ints([4096], 0, 255), "uint8")),
             {"axes": None, "keepdims": False})
    red_case(F, "sum int8 overflow-free in int32", "sum", T(arr([127] * 10 + [-128] * 3, "int8")),
             {"axes": None, "keepdims": False})
    red_case(F, "sum bool counts", "sum", T(arr(F.bools([5, 7]), "bool")), {"axes": [1], "keepdims": False})
    red_case(F, "logsumexp float32 with -inf and large values", "logsumexp",
             T(arr([[1000.0, 1000.5, -math.inf], [-math.inf, -math.inf, 0.0], [-1000.0, -1001.0, -999.0]], "float32")),
             {"axes": [1], "keepdims": False})
    # argmax / argmin
    for op in ("argmax", "argmin"):
        for axis in (None, 0, 1, 2, -1, -2):
            for keepdims in (False, True):
                x = arr(F.uniform([2, 3, 4], -4, 4), "float32")
                red_case(F, f"{op} float32 2x3x4 axis {axis} keepdims {keepdims}", op, T(x),
                         {"axis": axis, "keepdims": keepdims})
        for d in ("float16", "bfloat16", "float64", "int32", "uint8", "int8", "int64", "uint64", "bool"):
            x = arr(red_data(F, "max", d, [3, 5]), d)
            red_case(F, f"{op} {d} 3x5 axis 1 ties", op, T(x), {"axis": 1, "keepdims": False})
            red_case(F, f"{op} {d} 3x5 axis None", op, T(x), {"axis": None, "keepdims": False})
        red_case(F, f"{op} int32 ties first index", op, T(arr([[1, 3, 3, 1], [0, 0, 0, 0], [2, -1, 2, -1]], "int32")),
                 {"axis": 1, "keepdims": False})
        red_case(F, f"{op} float32 transposed view", op,
                 T(arr(F.uniform([4, 3], -4, 4), "float32"), transpose_view([1, 0])), {"axis": 1, "keepdims": True})
        red_case(F, f"{op} float32 strided view", op,
                 T(arr(F.uniform([6, 5], -4, 4), "float32"), slice_view([0, 1], [6, 5], [2, 1])),
                 {"axis": 0, "keepdims": False})
        red_case(F, f"{op} float32 large 1000", op, T(arr(F.uniform([1000], -4, 4), "float32")),
                 {"axis": 0, "keepdims": False})
        red_case(F, f"{op} float32 zero-size 0x3 axis 1", op, T(arr(np.zeros([0, 3]), "float32")),
                 {"axis": 1, "keepdims": False}, optional=True)
        red_case(F, f"{op} float32 infinities", op, T(arr([1.0, -math.inf, math.inf, 2.0, math.inf], "float32")),
                 {"axis": 0, "keepdims": False})
    # softmax / logsoftmax
    for op in ("softmax", "logsoftmax"):
        for axis in (-1, 0, 1, 2, -2):
            x = arr(F.uniform([2, 3, 4], -4, 4), "float32")
            red_case(F, f"{op} float32 2x3x4 axis {axis}", op, T(x), {"axis": axis})
        for d in ("float16", "bfloat16", "float64", "int32"):
            x = arr(F.uniform([3, 5], -4, 4) if d != "int32" else F.ints([3, 5], -4, 4), d)
            red_case(F, f"{op} {d} 3x5 axis -1", op, T(x), {"axis": -1})
        red_case(F, f"{op} float32 large values", op,
                 T(arr([[1000.0, 1001.0, 999.0], [-1000.0, -1002.0, -1001.0]], "float32")), {"axis": -1})
        red_case(F, f"{op} float32 with -inf", op,
                 T(arr([[0.0, -math.inf, 1.0], [-math.inf, 2.0, 2.0]], "float32")), {"axis": -1})
        red_case(F, f"{op} float32 transposed view", op,
                 T(arr(F.uniform([4, 3], -4, 4), "float32"), transpose_view([1, 0])), {"axis": -1})
        red_case(F, f"{op} float32 broadcast view", op,
                 T(arr(F.uniform([5], -4, 4), "float32"), broadcast_view([2, 5])), {"axis": -1})
        red_case(F, f"{op} float32 large 2x500", op, T(arr(F.uniform([2, 500], -4, 4), "float32")),
                 {"axis": -1}, big=True)


# ----------------------------------------------------------------------------
# shape.json


def _np_split(x, ios, axis):
    return np.split(x, ios if isinstance(ios, int) else list(ios), axis=axis)


SHAPE_REF = {
    "reshape": lambda p: lambda x: np.reshape(x, p["shape"]),
    "transpose": lambda p: lambda x: np.transpose(x, p["axes"]),
    "squeeze": lambda p: lambda x: np.squeeze(x, axis=None if p["axes"] is None else tuple(p["axes"])),
    "expand_dims": lambda p: lambda x: np.expand_dims(x, tuple(p["axes"])),
    "broadcast_to": lambda p: lambda x: np.broadcast_to(x, p["shape"]),
    "concatenate": lambda p: lambda *xs: np.concatenate(xs, axis=p["axis"]),
    "stack": lambda p: lambda *xs: np.stack(xs, axis=p["axis"]),
    "split": lambda p: lambda x: _np_split(x, p["indices_or_sections"], p["axis"]),
    "flatten": lambda p: lambda x: np.reshape(x, list(x.shape[: p["start_axis"] % max(1, x.ndim)]) + [-1] +
                                             list(x.shape[p["end_axis"] % max(1, x.ndim) + 1:])) if x.ndim else x.reshape(1),
    "swapaxes": lambda p: lambda x: np.swapaxes(x, p["axis1"], p["axis2"]),
    "moveaxis": lambda p: lambda x: np.moveaxis(x, p["source"], p["destination"]),
    "pad": lambda p: lambda x: np.pad(x, p["pad_width"], constant_values=p["constant_values"]),
    "tile": lambda p: lambda x: np.tile(x, p["reps"]),
    "repeat": lambda p: lambda x: np.repeat(x, p["repeats"], axis=p["axis"]),
}


def scase(F, name, op, inputs, params):
    F.case(name, op, inputs, params, ref=SHAPE_REF[op](params))


def seq(shape, d="float32", start=0):
    n = int(np.prod(shape)) if len(shape) else 1
    v = np.arange(start, start + n).reshape(shape)
    if d == "bool":
        v = v % 3 == 0
    elif d in FLOATS:
        v = v * 0.5
    elif d == "complex64":
        v = v + 0.5j * v
    return arr(v, d)


def gen_shape(F):
    for d in ("float32", "int32", "bool", "float16", "bfloat16", "int8", "uint64", "complex64"):
        scase(F, f"reshape {d} 2x3x4 to 6x4", "reshape", [T(seq([2, 3, 4], d))], {"shape": [6, 4]})
    x = seq([2, 3, 4])
    for shape in ([4, -1], [-1], [24], [2, 12], [3, 2, 4], [1, 24, 1], [2, -1, 2]):
        scase(F, f"reshape float32 2x3x4 to {shape}", "reshape", [T(x)], {"shape": shape})
    scase(F, "reshape transposed view 4x3 to 12", "reshape", [T(seq([3, 4]), transpose_view([1, 0]))], {"shape": [12]})
    scase(F, "reshape transposed 3d view to 6x4", "reshape", [T(seq([4, 2, 3], "int32"), transpose_view([1, 2, 0]))],
          {"shape": [6, 4]})
    scase(F, "reshape strided view to -1", "reshape", [T(seq([4, 6]), slice_view([0, 1], [4, 6], [2, 2]))],
          {"shape": [-1]})
    scase(F, "reshape broadcast view to 6", "reshape", [T(seq([3]), broadcast_view([2, 3]))], {"shape": [6]})
    scase(F, "reshape zero-size 0x3 to 3x0", "reshape", [T(arr(np.zeros([0, 3]), "float32"))], {"shape": [3, 0]})
    scase(F, "reshape zero-size 0x3 to 0x-1x1", "reshape", [T(arr(np.zeros([0, 3]), "float32"))], {"shape": [0, 3, 1]})
    scase(F, "reshape scalar to 1x1", "reshape", [T(arr(np.asarray(2.5), "float32"))], {"shape": [1, 1]})
    scase(F, "reshape 1 to scalar", "reshape", [T(arr([7], "int32"))], {"shape": []})
    # transpose
    for axes in (None, [1, 0, 2], [2, 0, 1], [0, 2, 1], [-1, 0, 1]):
        scase(F, f"transpose float32 2x3x4 axes {axes}", "transpose", [T(seq([2, 3, 4]))], {"axes": axes})
    scase(F, "transpose int32 4x5 axes None", "transpose", [T(seq([4, 5], "int32"))], {"axes": None})
    scase(F, "transpose bool 2x3", "transpose", [T(seq([2, 3], "bool"))], {"axes": [1, 0]})
    scase(F, "transpose of transposed view", "transpose", [T(seq([3, 4, 2]), transpose_view([2, 0, 1]))],
          {"axes": [1, 0, 2]})
    scase(F, "transpose of strided view", "transpose", [T(seq([5, 6]), slice_view([1, 0], [5, 6], [2, 3]))],
          {"axes": None})
    scase(F, "transpose scalar", "transpose", [T(arr(np.asarray(3.0), "float32"))], {"axes": None})
    scase(F, "transpose 1d", "transpose", [T(seq([4], "int32"))], {"axes": None})
    scase(F, "transpose zero-size 0x3", "transpose", [T(arr(np.zeros([0, 3]), "float32"))], {"axes": None})
    # squeeze
    y = seq([1, 3, 1, 4])
    for axes in (None, [0], [-2], [0, 2], [2, 0]):
        scase(F, f"squeeze 1x3x1x4 axes {axes}", "squeeze", [T(y)], {"axes": axes})
    scase(F, "squeeze 1 to scalar", "squeeze", [T(arr([5], "int32"))], {"axes": None})
    scase(F, "squeeze 1x1 axes [1]", "squeeze", [T(arr([[5]], "int32"))], {"axes": [1]})
    scase(F, "squeeze broadcast view 3x1", "squeeze", [T(seq([1, 1]), broadcast_view([3, 1]))], {"axes": [1]})
    # expand_dims
    for axes in ([0], [-1], [1], [1, 3], [0, -1], [-1, -2]):
        scase(F, f"expand_dims 2x3 axes {axes}", "expand_dims", [T(seq([2, 3], "int32"))], {"axes": axes})
    scase(F, "expand_dims scalar axes [0]", "expand_dims", [T(arr(np.asarray(1.0), "float32"))], {"axes": [0]})
    scase(F, "expand_dims transposed view", "expand_dims", [T(seq([2, 3]), transpose_view([1, 0]))], {"axes": [1]})
    # broadcast_to
    for src, dst in (([3], [2, 3]), ([3, 1], [3, 4]), ([], [2, 2]), ([1, 4], [0, 4]), ([2, 1, 3], [4, 2, 5, 3]),
                     ([1], [1]), ([2, 3], [2, 3])):
        scase(F, f"broadcast_to {shape_str(src)} to {shape_str(dst)}", "broadcast_to", [T(seq(src, "int32"))],
              {"shape": dst})
    scase(F, "broadcast_to of transposed view", "broadcast_to", [T(seq([3, 1]), transpose_view([1, 0]))],
          {"shape": [2, 1, 3]})
    scase(F, "broadcast_to bool", "broadcast_to", [T(seq([1, 3], "bool"))], {"shape": [2, 3]})
    # concatenate
    a, b, c = seq([2, 3]), seq([2, 3], start=10), seq([2, 3], start=20)
    scase(F, "concatenate two 2x3 axis 0", "concatenate", [T(a), T(b)], {"axis": 0})
    scase(F, "concatenate three axis 1", "concatenate", [T(a), T(seq([2, 1], start=50)), T(seq([2, 4], start=60))],
          {"axis": 1})
    scase(F, "concatenate axis -1", "concatenate", [T(a), T(b)], {"axis": -1})
    scase(F, "concatenate with zero-size 0x3", "concatenate", [T(arr(np.zeros([0, 3]), "float32")), T(a)], {"axis": 0})
    scase(F, "concatenate single input", "concatenate", [T(a)], {"axis": 0})
    scase(F, "concatenate int32 with float32", "concatenate", [T(seq([2, 3], "int32")), T(b)], {"axis": 0})
    scase(F, "concatenate uint8 with int8", "concatenate", [T(seq([1, 3], "uint8")), T(seq([1, 3], "int8", -5))],
          {"axis": 0})
    scase(F, "concatenate float16 with bfloat16", "concatenate", [T(seq([2], "float16")), T(seq([2], "bfloat16"))],
          {"axis": 0})
    scase(F, "concatenate views", "concatenate",
          [T(seq([3, 2]), transpose_view([1, 0])), T(seq([4, 6], start=100), slice_view([0, 0], [4, 6], [2, 2])),
           T(seq([3], start=200), broadcast_view([1, 3]))], {"axis": 0})
    scase(F, "concatenate bool 3d axis 1", "concatenate", [T(seq([2, 1, 2], "bool")), T(seq([2, 2, 2], "bool", 1))],
          {"axis": 1})
    # stack
    for axis in (0, 1, 2, -1, -3):
        scase(F, f"stack three 2x3 axis {axis}", "stack", [T(a), T(b), T(c)], {"axis": axis})
    scase(F, "stack scalars", "stack", [T(arr(np.asarray(1), "int32")), T(arr(np.asarray(2), "int32"))], {"axis": 0})
    scase(F, "stack int32 with float16", "stack", [T(seq([3], "int32")), T(seq([3], "float16"))], {"axis": 1})
    scase(F, "stack views", "stack", [T(seq([3, 2]), transpose_view([1, 0])), T(seq([2, 3]))], {"axis": 0})
    # split
    x6 = seq([6, 4])
    for ios, axis in ((3, 0), (2, 1), (1, 0), ([1, 4], 0), ([2, 10], 0), ([1, 3], -1), ([], 0), ([0, 2], 1),
                      ([2, 2, 5], 0)):
        scase(F, f"split 6x4 {ios} axis {axis}", "split", [T(x6)], {"indices_or_sections": ios, "axis": axis})
    scase(F, "split transposed view", "split", [T(seq([4, 6], "int32"), transpose_view([1, 0]))],
          {"indices_or_sections": 3, "axis": 0})
    scase(F, "split zero-size axis", "split", [T(arr(np.zeros([0, 4]), "float32"))],
          {"indices_or_sections": 2, "axis": 1})
    # flatten
    z = seq([2, 3, 4, 2])
    for s_, e_ in ((0, -1), (1, 2), (-2, -1), (0, 0), (2, 3), (1, -1)):
        scase(F, f"flatten 2x3x4x2 start {s_} end {e_}", "flatten", [T(z)], {"start_axis": s_, "end_axis": e_})
    scase(F, "flatten scalar", "flatten", [T(arr(np.asarray(4.0), "float32"))], {"start_axis": 0, "end_axis": -1})
    scase(F, "flatten transposed view", "flatten", [T(seq([3, 4], "int32"), transpose_view([1, 0]))],
          {"start_axis": 0, "end_axis": -1})
    # swapaxes / moveaxis
    for a1, a2 in ((0, 2), (-1, 0), (1, 1), (1, -1)):
        scase(F, f"swapaxes 2x3x4 {a1} {a2}", "swapaxes", [T(seq([2, 3, 4]))], {"axis1": a1, "axis2": a2})
    for s_, d_ in ((0, -1), (2, 0), (-1, 1), (1, 1)):
        scase(F, f"moveaxis 2x3x4 {s_} to {d_}", "moveaxis", [T(seq([2, 3, 4], "int32"))],
              {"source": s_, "destination": d_})
    scase(F, "moveaxis of strided view", "moveaxis", [T(seq([4, 3, 2]), slice_view([0, 0, 0], [4, 3, 2], [2, 1, 1]))],
          {"source": 0, "destination": 2})
    # pad
    scase(F, "pad 2x3 zeros", "pad", [T(seq([2, 3]))], {"pad_width": [[1, 2], [0, 3]], "constant_values": 0})
    scase(F, "pad 2x3 constant 1.5", "pad", [T(seq([2, 3]))], {"pad_width": [[1, 1], [2, 2]], "constant_values": 1.5})
    scase(F, "pad int32 constant 7", "pad", [T(seq([2, 3], "int32"))], {"pad_width": [[0, 1], [1, 0]],
                                                                         "constant_values": 7})
    scase(F, "pad 3d", "pad", [T(seq([2, 2, 3]))], {"pad_width": [[0, 0], [1, 1], [2, 0]], "constant_values": -1})
    scase(F, "pad 1d", "pad", [T(seq([3], "float16"))], {"pad_width": [[2, 3]], "constant_values": 0.5})
    scase(F, "pad zero-size", "pad", [T(arr(np.zeros([0, 2]), "float32"))], {"pad_width": [[1, 1], [0, 0]],
                                                                            "constant_values": 3})
    scase(F, "pad no-op", "pad", [T(seq([2, 2]))], {"pad_width": [[0, 0], [0, 0]], "constant_values": 9})
    scase(F, "pad transposed view", "pad", [T(seq([3, 2]), transpose_view([1, 0]))],
          {"pad_width": [[1, 0], [0, 1]], "constant_values": 0})
    scase(F, "pad bool", "pad", [T(seq([2, 2], "bool"))], {"pad_width": [[1, 1], [1, 1]], "constant_values": 0})
    # tile
    for reps in ([2], [2, 3], [2, 1, 2], [1, 1], [3, 1], [0]):
        scase(F, f"tile 2x3 reps {reps}", "tile", [T(seq([2, 3], "int32"))], {"reps": reps})
    scase(F, "tile 1d reps [2, 2]", "tile", [T(seq([3]))], {"reps": [2, 2]})
    scase(F, "tile transposed view", "tile", [T(seq([3, 2]), transpose_view([1, 0]))], {"reps": [2, 1]})
    # repeat
    for reps, axis in ((2, None), (2, 0), (3, 1), (2, -1), (1, 0), (0, 1)):
        scase(F, f"repeat 2x3 {reps} axis {axis}", "repeat", [T(seq([2, 3], "int32"))], {"repeats": reps, "axis": axis})
    scase(F, "repeat transposed view", "repeat", [T(seq([3, 2]), transpose_view([1, 0]))], {"repeats": 2, "axis": 1})
    scase(F, "repeat scalar", "repeat", [T(arr(np.asarray(2.0), "float32"))], {"repeats": 3, "axis": None})


# ----------------------------------------------------------------------------
# indexing.json


def I_int(k):
    return {"int": k}


def I_slice(a=None, b=None, c=None):
    return {"slice": [a, b, c]}


def I_tensor(values, d="int32"):
    return {"tensor": T(arr(values, d))}


I_ELL = {"ellipsis": True}
I_NEW = {"newaxis": True}


def np_index(index):
    out = []
    for i in index:
        if "tensor" in i:
            out.append(np64(i["tensor"].value()))
        elif "int" in i:
            out.append(i["int"])
        elif "slice" in i:
            out.append(slice(*i["slice"]))
        elif "ellipsis" in i:
            out.append(Ellipsis)
        else:
            out.append(None)
    return tuple(out)


def getitem_ref(index):
    return lambda x: x[np_index(index)]


def setitem_ref(index, value):
    def ref(x):
        y = x.copy()
        v = np64(value.value())
        if np.issubdtype(y.dtype, np.integer) and not np.issubdtype(v.dtype, np.integer):
            v = np.trunc(v).astype(np.int64)
        y[np_index(index)] = v
        return y
    return ref


def gen_indexing(F):
    a = seq([4, 5, 6], "int32")
    af = seq([4, 5, 6], "float32")
    cases = [
        ("int 1", [I_int(1)]), ("int -1", [I_int(-1)]), ("int 1 int -2", [I_int(1), I_int(-2)]),
        ("three ints", [I_int(0), I_int(4), I_int(-6)]),
        ("slice 1:3", [I_slice(1, 3)]), ("slice ::2", [I_slice(None, None, 2)]),
        ("slice -3:", [I_slice(-3)]), ("slice ::-1", [I_slice(None, None, -1)]),
        ("slice 3:0:-2", [I_slice(3, 0, -2)]), ("slice -1:-5:-2", [I_slice(-1, -5, -2)]),
        ("slice 10: (empty)", [I_slice(10)]), ("slice 2:2 (empty)", [I_slice(2, 2)]),
        ("slice :-10 (empty)", [I_slice(None, -10)]), ("slice -10:10 (clamped)", [I_slice(-10, 10)]),
        ("slice 0:4:3 and ::-2 and 1:-1", [I_slice(0, 4, 3), I_slice(None, None, -2), I_slice(1, -1)]),
        ("slice ::-1 ::-1 ::-1", [I_slice(None, None, -1)] * 3),
        ("slice 5:1:-1 on axis 2", [I_slice(), I_slice(), I_slice(5, 1, -1)]),
        ("ellipsis int 0", [I_ELL, I_int(0)]), ("int 1 ellipsis", [I_int(1), I_ELL]),
        ("ellipsis slice ::-1", [I_ELL, I_slice(None, None, -1)]), ("ellipsis newaxis", [I_ELL, I_NEW]),
        ("ellipsis only", [I_ELL]), ("int ellipsis int", [I_int(-1), I_ELL, I_int(2)]),
        ("newaxis", [I_NEW]), ("slice newaxis int", [I_slice(1, 3), I_NEW, I_int(2)]),
        ("newaxis newaxis int", [I_NEW, I_int(0), I_NEW]),
        ("tensor [0 2 -1]", [I_tensor([0, 2, -1])]),
        ("tensor 2d", [I_tensor([[0, 1], [3, 2]])]),
        ("tensor scalar", [I_tensor(np.asarray(2))]),
        ("tensor repeated indices", [I_tensor([1, 1, 0, 1])]),
        ("slice tensor", [I_slice(), I_tensor([4, 0, -2])]),
        ("slice slice tensor", [I_slice(1, 3), I_slice(), I_tensor([[5], [0]])]),
        ("int tensor adjacent", [I_int(1), I_tensor([0, 2])]),
        ("tensor tensor adjacent broadcast", [I_tensor([[0], [3]]), I_tensor([1, 2, 4])]),
        ("slice tensor tensor adjacent", [I_slice(), I_tensor([0, 4]), I_tensor([5, -1])]),
        ("ellipsis tensor", [I_ELL, I_tensor([0, 5, 5])]),
        ("tensor then slices", [I_tensor([3, 0]), I_slice(None, None, 2), I_slice(1, 3)]),
        ("tensor uint32", [I_tensor([3, 1], "uint32")]),
        ("tensor int64", [I_tensor([-4, 1], "int64")]),
        ("tensor int8 on axis 1", [I_slice(), I_tensor([-1, 1], "int8")]),
        ("newaxis tensor", [I_NEW, I_tensor([1, 2])]),
    ]
    for nm, idx in cases:
        F.case(f"getitem int32 4x5x6 {nm}", "getitem", [T(a)], {"index": idx}, ref=getitem_ref(idx))
    for nm, idx in cases[:12]:
        F.case(f"getitem float32 4x5x6 {nm}", "getitem", [T(af)], {"index": idx}, ref=getitem_ref(idx))
    for d in ("bool", "float16", "bfloat16", "uint8", "int64", "complex64"):
        x = seq([3, 4], d)
        for nm, idx in (("int slice", [I_int(1), I_slice(None, None, -1)]), ("tensor", [I_tensor([2, 0])])):
            F.case(f"getitem {d} 3x4 {nm}", "getitem", [T(x)], {"index": idx}, ref=getitem_ref(idx))
    views = [("transposed", T(seq([6, 5, 4], "int32"), transpose_view([2, 1, 0]))),
             ("strided", T(seq([8, 5, 6], "int32"), slice_view([1, 0, 0], [8, 5, 6], [2, 1, 1]))),
             ("broadcast", T(seq([5, 1], "int32"), broadcast_view([4, 5, 6])))]
    for vn, v in views:
        for nm, idx in (("int 1", [I_int(1)]), ("slice ::-2 1", [I_slice(None, None, -2), I_int(1)]),
                        ("tensor", [I_slice(), I_tensor([4, 0])])):
            F.case(f"getitem {vn} view {nm}", "getitem", [v], {"index": idx}, ref=getitem_ref(idx))
    F.case("getitem scalar ellipsis", "getitem", [T(arr(np.asarray(3.5), "float32"))], {"index": [I_ELL]},
           ref=getitem_ref([I_ELL]))
    F.case("getitem scalar newaxis", "getitem", [T(arr(np.asarray(3.5), "float32"))], {"index": [I_NEW]},
           ref=getitem_ref([I_NEW]))
    F.case("getitem 1d slice -1::-3", "getitem", [T(seq([10], "int32"))], {"index": [I_slice(-1, None, -3)]},
           ref=getitem_ref([I_slice(-1, None, -3)]))
    # setitem
    b = seq([4, 5], "float32")
    bi = seq([4, 5], "int32")
    sets = [
        ("int 1 scalar", b, [I_int(1)], arr(np.asarray(-1.0), "float32")),
        ("int -1 row", b, [I_int(-1)], arr(F.dyadic([5], -4, 4), "float32")),
        ("slices broadcast column", b, [I_slice(1, 3), I_slice(None, None, 2)], arr([[9.0], [8.0]], "float32")),
        ("negative step", b, [I_slice(None, None, -1)], arr(F.dyadic([4, 5], -4, 4), "float32")),
        ("negative step 3:0:-2", b, [I_slice(3, 0, -2), I_int(0)], arr([7.5, 6.5], "float32")),
        ("ellipsis int 0", b, [I_ELL, I_int(0)], arr([1.0, 2.0, 3.0, 4.0], "float32")),
        ("tensor rows", b, [I_tensor([0, 2])], arr(F.dyadic([2, 5], -4, 4), "float32")),
        ("tensor rows broadcast value", b, [I_tensor([3, -4])], arr([0.25], "float32")),
        ("slice tensor columns", b, [I_slice(), I_tensor([1, 3])], arr(F.dyadic([4, 2], -4, 4), "float32")),
        ("int and int", b, [I_int(2), I_int(3)], arr(np.asarray(100.0), "float32")),
        ("whole array", b, [I_slice()], arr(np.asarray(0.0), "float32")),
        ("empty slice", b, [I_slice(2, 2)], arr(np.asarray(5.0), "float32")),
        ("float value into int32 array", bi, [I_int(0)], arr([1.75, -2.75, 3.0, 4.5, -0.5], "float32")),
        ("int32 tensor index", bi, [I_tensor([1, 3])], arr([[-1], [-2]], "int32")),
        ("newaxis", bi, [I_NEW, I_int(1)], arr([[5, 6, 7, 8, 9]], "int32")),
    ]
    for nm, base, idx, val in sets:
        d = dname(base.dtype)
        vin = T(val)
        F.case(f"setitem {d} 4x5 {nm}", "setitem", [T(base)], {"index": idx, "value": vin},
               ref=setitem_ref(idx, vin))
    for d in ("bool", "float16", "bfloat16", "uint8", "int64"):
        x = seq([3, 4], d)
        v = T(seq([4], d, 3))
        F.case(f"setitem {d} 3x4 row", "setitem", [T(x)], {"index": [I_int(1)], "value": v}, ref=setitem_ref([I_int(1)], v))
    v = T(arr([[1.0, 2.0], [3.0, 4.0]], "float32"))
    idx = [I_slice(1, 3), I_int(0)]
    F.case("setitem on transposed view", "setitem", [T(seq([3, 4]), transpose_view([1, 0]))],
           {"index": idx, "value": T(arr([10.0, 20.0], "float32"))},
           ref=setitem_ref(idx, T(arr([10.0, 20.0], "float32"))))
    F.case("setitem value is a transposed view", "setitem", [T(seq([2, 2, 2]))],
           {"index": [I_int(0)], "value": T(v.base, transpose_view([1, 0]))},
           ref=setitem_ref([I_int(0)], T(v.base, transpose_view([1, 0]))))
    # take
    t = seq([3, 4], "int32")
    takes = [("axis None flat", [0, 5, 11, -1], None), ("axis 0", [2, 0], 0), ("axis 1 2d indices", [[0, 1], [3, 3]], 1),
             ("axis -1", [-1, 0, 2], -1), ("axis 0 scalar index", np.asarray(2), 0), ("axis 0 repeated", [1, 1, 1], 0),
             ("axis None 2d", [[0, 11], [5, 6]], None), ("axis 1 empty indices", np.zeros([0], np.int64), 1)]
    for nm, ind, axis in takes:
        F.case(f"take int32 3x4 {nm}", "take", [T(t), T(arr(ind, "int32"))], {"axis": axis},
               ref=lambda x, i, axis=axis: np.take(x, i, axis=axis))
    F.case("take float32 transposed view axis 0", "take", [T(seq([4, 3]), transpose_view([1, 0])),
                                                           T(arr([2, 0], "int32"))], {"axis": 0},
           ref=lambda x, i: np.take(x, i, axis=0))
    F.case("take float16 uint32 indices", "take", [T(seq([5], "float16")), T(arr([4, 0, 2], "uint32"))], {"axis": 0},
           ref=lambda x, i: np.take(x, i, axis=0))
    F.case("take bool int64 indices", "take", [T(seq([2, 3], "bool")), T(arr([-1, 0], "int64"))], {"axis": 1},
           ref=lambda x, i: np.take(x, i, axis=1))
    F.case("take 3d axis 1", "take", [T(seq([2, 3, 4])), T(arr([[2, 0], [1, 1]], "int32"))], {"axis": 1},
           ref=lambda x, i: np.take(x, i, axis=1))
    # take_along_axis
    u = seq([3, 4], "float32")
    tals = [("axis 0", [[0, 2, 1, 0], [2, 2, 0, 1]], 0), ("axis 1", [[3, 2, 1, 0], [0, 0, 0, 0], [1, 3, 1, 3]], 1),
            ("axis -1 one column", [[1], [0], [3]], -1), ("axis 0 broadcast indices", [[0, 2, 1, 1]], 0),
            ("axis 1 negative", [[-1, 0], [-2, 1], [0, -4]], 1)]
    for nm, ind, axis in tals:
        F.case(f"take_along_axis float32 3x4 {nm}", "take_along_axis", [T(u), T(arr(ind, "int32"))], {"axis": axis},
               ref=lambda x, i, axis=axis: np.take_along_axis(x, i, axis=axis))
    F.case("take_along_axis 3d int32 axis 2", "take_along_axis",
           [T(seq([2, 3, 4], "int32")), T(arr(F.ints([2, 3, 2], 0, 3), "int32"))], {"axis": 2},
           ref=lambda x, i: np.take_along_axis(x, i, axis=2))
    F.case("take_along_axis transposed view", "take_along_axis",
           [T(seq([4, 3]), transpose_view([1, 0])), T(arr([[3, 0], [1, 1], [2, 0]], "int32"))], {"axis": 1},
           ref=lambda x, i: np.take_along_axis(x, i, axis=1))


# ----------------------------------------------------------------------------
# matmul.json

MATMUL_TOL = {
    "float32": {"rtol": 1e-5, "atol": 1e-5},
    "float16": {"rtol": 2e-3, "atol": 2e-3},
    "bfloat16": {"rtol": 1e-2, "atol": 1e-2},
    "float64": {"rtol": 1e-12, "atol": 1e-12},
    "complex64": {"rtol": 1e-5, "atol": 1e-5},
}


def gen_matmul(F):
    def mm(name, a_in, b_in, d):
        F.case(name, "matmul", [a_in, b_in], tol=dict(MATMUL_TOL[d]), ref=lambda a, b: np.matmul(a, b))

    def r(shape, d="float32"):
        v = F.uniform(shape, -1, 1)
        if d == "complex64":
            v = v + 1j * F.uniform(shape, -1, 1)
        return arr(v, d)

    shapes = [([5], [5]), ([4], [4, 3]), ([3, 4], [4]), ([2, 3], [3, 4]), ([7, 13], [13, 5]), ([1, 1], [1, 1]),
              ([16, 16], [16, 16]), ([1, 9], [9, 1]), ([9, 1], [1, 9]), ([2, 3, 4], [2, 4, 5]), ([2, 3, 4], [4, 5]),
              ([3, 4], [2, 4, 5]), ([2, 1, 3, 4], [5, 4, 6]), ([2, 2, 3, 4], [2, 2, 4, 3]), ([3], [2, 3, 4]),
              ([2, 3, 4], [4]), ([33, 17], [17, 31])]
    for sa, sb in shapes:
        mm(f"matmul float32 {shape_str(sa)} @ {shape_str(sb)}", T(r(sa)), T(r(sb)), "float32")
    for d in ("float16", "bfloat16", "float64", "complex64"):
        for sa, sb in (([7, 13], [13, 5]), ([2, 3, 4], [4, 5]), ([4], [4, 3]), ([2, 1, 3, 4], [5, 4, 6])):
            mm(f"matmul {d} {shape_str(sa)} @ {shape_str(sb)}", T(r(sa, d)), T(r(sb, d)), d)
    mm("matmul float32 transposed a", T(r([13, 7]), transpose_view([1, 0])), T(r([13, 5])), "float32")
    mm("matmul float32 transposed b", T(r([7, 13])), T(r([5, 13]), transpose_view([1, 0])), "float32")
    mm("matmul float32 both transposed", T(r([13, 7]), transpose_view([1, 0])), T(r([5, 13]), transpose_view([1, 0])),
       "float32")
    mm("matmul float32 batched transposed b", T(r([2, 3, 4])), T(r([2, 5, 4]), transpose_view([0, 2, 1])), "float32")
    mm("matmul float32 batch-transposed a", T(r([3, 2, 4]), transpose_view([1, 0, 2])), T(r([4, 5])), "float32")
    mm("matmul float32 strided a", T(r([8, 6]), slice_view([0, 1], [8, 6], [2, 1])), T(r([5, 3])), "float32")
    mm("matmul float32 broadcast view b", T(r([2, 3, 4])), T(r([4, 5]), broadcast_view([2, 4, 5])), "float32")
    mm("matmul float16 transposed b", T(r([6, 8], "float16")), T(r([3, 8], "float16"), transpose_view([1, 0])), "float16")
    mm("matmul float32 zero-size K", T(arr(np.zeros([3, 0]), "float32")), T(arr(np.zeros([0, 4]), "float32")), "float32")
    mm("matmul float32 zero-size M", T(arr(np.zeros([0, 4]), "float32")), T(r([4, 3])), "float32")
    mm("matmul float32 zero-size batch", T(arr(np.zeros([0, 2, 3]), "float32")), T(r([3, 2])), "float32")
    mm("matmul float32 exact small integers", T(arr(F.ints([6, 10], -3, 3), "float32")),
       T(arr(F.ints([10, 4], -3, 3), "float32")), "float32")
    mm("matmul float32 64x48 @ 48x40", T(r([64, 48])), T(r([48, 40])), "float32")


# ----------------------------------------------------------------------------
# creation.json


def gen_creation(F):
    for op in ("zeros", "ones"):
        for shape, d in (([2, 3], "float32"), ([], "float32"), ([0], "int32"), ([4], "bool"), ([2, 2], "float16"),
                         ([3], "bfloat16"), ([2, 1, 2], "int8"), ([3], "uint64"), ([2], "complex64"), ([2], "float64")):
            F.case(f"{op} {d} {shape_str(shape)}", op, [], {"shape": shape, "dtype": d}, expect_dtype=d)
    for shape, v, d in (([2, 3], 2.5, "float32"), ([2], -1.5, "float16"), ([3], 0.1, "bfloat16"), ([2, 2], 7, "int32"),
                        ([3], 3, "uint8"), ([], 1e-3, "float32"), ([0, 2], 1.0, "float32"), ([2], 0.1, "float64"),
                        ([2], -5, "int64"), ([1], 70000.0, "float16")):
        F.case(f"full {d} {shape_str(shape)} {v}", "full", [], {"shape": shape, "value": v, "dtype": d}, expect_dtype=d)
    aranges = [(0, 10, 1, "int32"), (0, 10, 3, "int32"), (10, 0, -3, "int32"), (3, 1, 1, "int32"), (-5, 5, 2, "int32"),
               (0, 1, 0.25, "float32"), (5, 0, -1.5, "float32"), (0, 1, 0.1, "float32"), (-2.5, 2.5, 0.5, "float16"),
               (0, 10, 3, "float16"), (1, 2, 0.125, "bfloat16"), (0, 5, 1, "float64"), (0, 1, 0.1, "float64"),
               (0, 10, 3, "float32"), (0, 0, 1, "float32"), (1, 0, 0.5, "float32"), (0, 5, 2, "int64"),
               (2, 9, 3, "uint8")]
    for start, stop, step, d in aranges:
        tol = None
        if d in FLOATS and any(float(v) * 8 != int(float(v) * 8) for v in (start, stop, step)):
            tol = {"rtol": 1e-6, "atol": 1e-7} if d != "float64" else {"rtol": 1e-14, "atol": 1e-15}
        F.case(f"arange {start} {stop} {step} {d}", "arange", [],
               {"start": start, "stop": stop, "step": step, "dtype": d}, tol=tol, expect_dtype=d)
    for start, stop, num, d in ((0, 1, 5, "float32"), (0, 1, 7, "float32"), (-1, 1, 1, "float32"), (2, -3, 6, "float32"),
                                (0, 1, 0, "float32"), (0, 10, 11, "float32"), (-1, 1, 4, "float16"), (0, 1, 3, "float64"),
                                (1.5, 1.5, 3, "float32")):
        # MLX's linspace is start + i * step with its own rounding (2 -> -3 in 6 gives -1.0000001)
        tol = None if num <= 2 else {"rtol": 1e-6, "atol": 1e-6}
        if d == "float16" and tol:
            tol = {"rtol": 1e-3, "atol": 1e-3}
        F.case(f"linspace {start} {stop} {num} {d}", "linspace", [], {"start": start, "stop": stop, "num": num,
                                                                        "dtype": d}, tol=tol, expect_dtype=d,
               ref=lambda: np.linspace(start, stop, num))
    for op in ("eye", "tri"):
        for n, m, k, d in ((3, 3, 0, "float32"), (3, 4, 1, "float32"), (4, 3, -1, "float32"), (2, 5, 3, "int32"),
                           (3, 3, 5, "float32"), (3, 3, -3, "float32"), (1, 1, 0, "bool"), (4, 2, 0, "float16"),
                           (0, 3, 0, "float32")):
            ref = (lambda n=n, m=m, k=k: np.eye(n, m, k)) if op == "eye" else (lambda n=n, m=m, k=k: np.tri(n, m, k))
            F.case(f"{op} {n} {m} k {k} {d}", op, [], {"n": n, "m": m, "k": k, "dtype": d}, expect_dtype=d, ref=ref)
    for op in ("tril", "triu"):
        fn = np.tril if op == "tril" else np.triu
        for k in (0, 1, -1, -3, 4):
            F.case(f"{op} float32 4x5 k {k}", op, [T(seq([4, 5]))], {"k": k}, ref=lambda x, k=k, fn=fn: fn(x, k))
        F.case(f"{op} int32 batched 2x3x3", op, [T(seq([2, 3, 3], "int32"))], {"k": 0}, ref=lambda x, fn=fn: fn(x, 0))
        F.case(f"{op} bool 3x3", op, [T(arr(np.ones([3, 3]), "bool"))], {"k": 0}, ref=lambda x, fn=fn: fn(x, 0))
        F.case(f"{op} transposed view", op, [T(seq([5, 4]), transpose_view([1, 0]))], {"k": 1},
               ref=lambda x, fn=fn: fn(x, 1))
        F.case(f"{op} float16 5x3 k -1", op, [T(seq([5, 3], "float16"))], {"k": -1}, ref=lambda x, fn=fn: fn(x, -1))


# ----------------------------------------------------------------------------
# misc.json


def gen_misc(F):
    nan, inf = math.nan, math.inf
    for d in ("float32", "float16", "bfloat16", "float64"):
        a = arr([1.0, nan, nan, -inf, 0.0, 2.0, nan], d)
        b = arr([nan, 1.0, nan, nan, -0.5, 3.0, inf], d)
        for op in ("maximum", "minimum"):
            F.case(f"{op} {d} propagates nan", op, [T(a), T(b)], ref=binary_ref(op))
            F.case(f"{op} {d} nan broadcast scalar", op, [T(a), T(arr(np.asarray(nan), d))], ref=binary_ref(op))
    for op in ("max", "min"):
        F.case(f"{op} float32 reduction propagates nan", op,
               [T(arr([[1.0, nan, 3.0], [4.0, 5.0, 6.0], [nan, nan, -inf]], "float32"))],
               {"axes": [1], "keepdims": False}, ref=reduction_ref(op, {"axes": [1], "keepdims": False}))
        F.case(f"{op} float16 reduction all axes with nan", op, [T(arr([1.0, 2.0, nan, 0.5], "float16"))],
               {"axes": None, "keepdims": False}, ref=reduction_ref(op, {"axes": None, "keepdims": False}))
    for op in ("argmax", "argmin"):
        F.case(f"{op} float32 with nan", op, [T(arr([[1.0, nan, 3.0], [nan, 0.0, nan]], "float32"))],
               {"axis": 1, "keepdims": False}, ref=reduction_ref(op, {"axis": 1, "keepdims": False}))
    # float16 overflow to inf
    F.case("add float16 overflow to inf", "add", [T(arr([60000.0, -60000.0, 65504.0, 65504.0], "float16")),
                                                   T(arr([10000.0, -10000.0, 16.0, 32.0], "float16"))],
           ref=binary_ref("add"))
    F.case("multiply float16 overflow to inf", "multiply", [T(arr([300.0, -300.0, 256.0, 1e-4], "float16")),
                                                             T(arr([300.0, 300.0, 256.0, 1e-4], "float16"))],
           ref=binary_ref("multiply"))
    F.case("exp float16 overflow to inf", "exp", [T(arr([11.0, 12.0, -20.0], "float16"))], tol=dict(TRANS_TOL["float16"]),
           ref=unary_ref("exp"))
    F.case("subtract float16 overflow to -inf", "subtract", [T(arr([-65504.0, -60000.0], "float16")),
                                                              T(arr([65504.0, 10000.0], "float16"))],
           ref=binary_ref("subtract"))
    F.case("sum float16 accumulates in float32", "sum", [T(arr([60000.0, 60000.0, -60000.0, 0.5], "float16"))],
           {"axes": None, "keepdims": False}, ref=reduction_ref("sum", {"axes": None, "keepdims": False}))
    F.case("sum float16 partial sums past 2048", "sum", [T(arr([2048.0] + [1.0] * 16, "float16"))],
           {"axes": None, "keepdims": False}, ref=reduction_ref("sum", {"axes": None, "keepdims": False}))
    F.case("square float16 overflow", "square", [T(arr([256.0, 255.0, -300.0], "float16"))], ref=unary_ref("square"))
    # bfloat16 rounding
    F.case("add bfloat16 rounds to even", "add", [T(arr([256.0, 258.0, 1.0, 1.0], "bfloat16")),
                                                  T(arr([1.0, 1.0, 2.0 ** -8, 3 * 2.0 ** -8], "bfloat16"))],
           ref=binary_ref("add"))
    F.case("sum bfloat16 accumulates in float32", "sum", [T(arr([256.0] + [1.0] * 8, "bfloat16"))],
           {"axes": None, "keepdims": False}, ref=reduction_ref("sum", {"axes": None, "keepdims": False}))
    F.case("sum bfloat16 rounds the total", "sum", [T(arr([256.0, 1.0, 0.5, 0.25], "bfloat16"))],
           {"axes": None, "keepdims": False}, ref=reduction_ref("sum", {"axes": None, "keepdims": False}))
    F.case("mean bfloat16 rows", "mean", [T(arr([[256.0, 1.0, 1.0, 2.0], [1.0, 2.0, 3.0, 4.0]], "bfloat16"))],
           {"axes": [1], "keepdims": False}, ref=reduction_ref("mean", {"axes": [1], "keepdims": False}))
    F.case("multiply bfloat16 rounding", "multiply", [T(arr([1.5, 3.0, 1.0078125], "bfloat16")),
                                                      T(arr([1.0078125, 1.0078125, 1.0078125], "bfloat16"))],
           ref=binary_ref("multiply"))
    # where
    def wref(c, x, y):
        return np.where(c, x, y)
    F.case("where float32 same shapes", "where", [T(arr(F.bools([3, 4]), "bool")), T(arr(F.dyadic([3, 4], -4, 4), "float32")),
                                                  T(arr(F.dyadic([3, 4], -4, 4), "float32"))], ref=wref)
    F.case("where broadcast cond column", "where", [T(arr([[True], [False], [True]], "bool")),
                                                    T(arr(F.dyadic([1, 4], -4, 4), "float32")),
                                                    T(arr(F.dyadic([3, 4], -4, 4), "float32"))], ref=wref)
    F.case("where scalar y", "where", [T(arr(F.bools([2, 3]), "bool")), T(seq([2, 3])), T(arr(np.asarray(-1.0), "float32"))],
           ref=wref)
    F.case("where scalar cond", "where", [T(arr(np.asarray(False), "bool")), T(seq([2, 3])), T(seq([3], start=10))],
           ref=wref)
    F.case("where int32 and float32 promote", "where", [T(arr(F.bools([4]), "bool")), T(seq([4], "int32")),
                                                        T(arr([0.5, 1.5, 2.5, 3.5], "float32"))], ref=wref)
    F.case("where float16 and bfloat16 promote", "where", [T(arr(F.bools([4]), "bool")), T(seq([4], "float16")),
                                                           T(seq([4], "bfloat16", 5))], ref=wref)
    F.case("where int8 uint8", "where", [T(arr(F.bools([4]), "bool")), T(seq([4], "int8", -2)), T(seq([4], "uint8"))],
           ref=wref)
    F.case("where bool values", "where", [T(arr(F.bools([5]), "bool")), T(arr(F.bools([5]), "bool")),
                                          T(arr(F.bools([5]), "bool"))], ref=wref)
    F.case("where views", "where", [T(arr(F.bools([4, 3]), "bool"), transpose_view([1, 0])),
                                    T(seq([3, 8]), slice_view([0, 0], [3, 8], [1, 2])),
                                    T(seq([4], start=100), broadcast_view([3, 4]))], ref=wref)
    F.case("where zero-size", "where", [T(arr(np.zeros([0, 3]), "bool")), T(seq([1, 3])), T(seq([3]))], ref=wref)
    F.case("where nan values pass through", "where", [T(arr([True, False, True], "bool")),
                                                      T(arr([nan, 1.0, inf], "float32")), T(arr([0.0, nan, 0.0], "float32"))],
           ref=wref)
    # clip
    def cref(lo, hi):
        def ref(x):
            y = f64(x) if (isinstance(lo, float) or isinstance(hi, float)) else x
            if lo is not None:
                y = np.maximum(y, lo)
            if hi is not None:
                y = np.minimum(y, hi)
            return y
        return ref
    clips = [("float32 both", "float32", -1.0, 1.5), ("float32 min only", "float32", 0.0, None),
             ("float32 max only", "float32", None, 0.25), ("int32 both", "int32", -2, 3),
             ("float16 both", "float16", -0.5, 0.5), ("bfloat16 both", "bfloat16", -1.0, 2.0),
             ("uint8 both", "uint8", 2, 5), ("int32 with float bounds", "int32", 0.5, 2.5),
             ("float32 min above max", "float32", 2.0, 1.0), ("float64 both", "float64", -0.1, 0.3)]
    for nm, d, lo, hi in clips:
        v = F.ints([3, 4], 0, 7) if d == "uint8" else (F.ints([3, 4], -4, 4) if d in INTS else F.dyadic([3, 4], -3, 3, 4))
        F.case(f"clip {nm}", "clip", [T(arr(v, d))], {"a_min": lo, "a_max": hi}, ref=cref(lo, hi))
    F.case("clip float32 nan and inf", "clip", [T(arr([nan, inf, -inf, 0.5], "float32"))], {"a_min": -1.0, "a_max": 1.0},
           ref=cref(-1.0, 1.0))
    F.case("clip transposed view", "clip", [T(arr(F.dyadic([4, 3], -3, 3), "float32"), transpose_view([1, 0]))],
           {"a_min": -1.0, "a_max": 1.0}, ref=cref(-1.0, 1.0))


# ----------------------------------------------------------------------------

FILES = [("unary.json", gen_unary), ("binary.json", gen_binary), ("reduction.json", gen_reduction),
         ("shape.json", gen_shape), ("indexing.json", gen_indexing), ("matmul.json", gen_matmul),
         ("creation.json", gen_creation), ("misc.json", gen_misc)]


def main():
    np.seterr(all="ignore")
    import warnings
    warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's empty-slice notes from the cross-check
    if mx.__version__ != "0.32.4" or np.__version__ != "2.4.6":
        print(f"warning: pinned mlx==0.32.4 numpy==2.4.6, found mlx=={mx.__version__} numpy=={np.__version__}",
              file=sys.stderr)
    mx.set_default_device(mx.cpu)
    os.makedirs(OUT_DIR, exist_ok=True)
    total = 0
    for index, (filename, gen) in enumerate(FILES):
        F = Fixture(filename, index + 1)
        gen(F)
        path = F.write()
        size = os.path.getsize(path)
        total += size
        print(f"{os.path.relpath(path, ROOT)}: {len(F.cases)} cases, {size / 1024:.0f} KiB")
    doc = {"generator": GENERATOR, "mlx": mx.__version__, "numpy": np.__version__, "cases": gen_promotion()}
    path = os.path.join(OUT_DIR, "promotion.json")
    with open(path, "w") as fh:
        json.dump(doc, fh, separators=(",", ":"))
        fh.write("\n")
    total += os.path.getsize(path)
    print(f"{os.path.relpath(path, ROOT)}: {len(doc['cases'])} dtype pairs")
    print(f"total {total / 1024:.0f} KiB")
    for s in SKIPPED:
        print(f"skipped: {s}", file=sys.stderr)
    if FAILURES:
        for f in FAILURES:
            print(f"MISMATCH {f}", file=sys.stderr)
        print(f"{len(FAILURES)} cases disagree with the float64 cross-check", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()

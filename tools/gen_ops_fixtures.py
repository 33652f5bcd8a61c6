#!/usr/bin/env python3
# Reference data for the Engine's extended op surface (issue 3): fused `fast` ops
# and affine quantization, written to fixtures/engine/ops_*.json.
#
# Pinned reference versions (tools/requirements-fixtures.txt): mlx==0.32.4, numpy==2.4.6.
# Run from the package root:   .venv/bin/python tools/gen_ops_fixtures.py
#
# The file format is the one of tools/gen_engine_fixtures.py (whose encoding helpers
# this script reuses); ops that give several outputs (quantize) use "expected_list".
# Op names and params follow MLX for Python:
#   rms_norm      mx.fast.rms_norm(x, weight, eps)            inputs [x] or [x, weight]
#   layer_norm    mx.fast.layer_norm(x, weight, bias, eps)    params has_weight/has_bias say
#                                                             which of inputs[1:] are given
#   rope          mx.fast.rope(x, dims, traditional=, base=, scale=, offset=, freqs=)
#                                                             inputs [x] or [x, freqs]
#   sdpa          mx.fast.scaled_dot_product_attention(q, k, v, scale=, mask=)
#                 params mask: "none" | "causal" | "additive" (inputs[3] is the mask)
#   quantize      mx.quantize(w, group_size, bits) -> expected_list [wq, scales, biases] (exact)
#   dequantize    mx.dequantize(wq, scales, biases, group_size, bits)                  (exact)
#   quantized_matmul  mx.quantized_matmul(x, wq, scales, biases, transpose, group_size, bits)
#
# Toleranced cases: every result is also computed in float64 with NumPy from the
# same inputs. The tolerance is rtol = 2 ulp of the result dtype and
# atol = 2 * (largest |MLX - float64| seen in that case) + a floor, so any
# implementation at least as accurate as MLX passes, and MLX itself must be within
# that bound of the float64 reference (checked here: the script stops otherwise).

import json
import math
import os
import sys

import numpy as np
import mlx.core as mx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_engine_fixtures import arr, enc_params, enc_tensor, In, T, transpose_view, slice_view, to_numpy  # noqa: E402

GENERATOR = "tools/gen_ops_fixtures.py"
SEED = 20261126
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "fixtures", "engine")
EPS = {"float32": 2.0 ** -23, "float16": 2.0 ** -10, "bfloat16": 2.0 ** -7}


class Fixture:
    def __init__(self, filename, index):
        self.filename = filename
        self.rng = np.random.default_rng([SEED, index])
        self.cases = []

    def normal(self, shape, dtype="float32", scale=1.0):
        return arr(self.rng.standard_normal(shape) * scale, dtype)

    def add(self, name, op, inputs, params, expected=None, expected_list=None):
        c = {"name": name, "op": op, "inputs": [enc_tensor(i.base, i.view) if isinstance(i, In) else enc_tensor(i)
                                                for i in inputs],
             "params": enc_params(params)}
        if expected_list is not None:
            c["expected_list"] = [enc_tensor(e) for e in expected_list]
        else:
            c["expected"] = enc_tensor(expected)
        self.cases.append(c)

    def write(self):
        doc = {"generator": GENERATOR, "mlx": mx.__version__, "numpy": np.__version__, "cases": self.cases}
        path = os.path.join(OUT_DIR, self.filename)
        with open(path, "w") as fh:
            json.dump(doc, fh, separators=(",", ":"))
            fh.write("\n")
        return path


def value(i):
    return i.value() if isinstance(i, In) else i


def f64(a):
    return to_numpy(a.astype(mx.float32) if a.dtype in (mx.float16, mx.bfloat16) else a).astype(np.float64)


def tolerance(name, result, ref64, floor=1e-6):
    """rtol/atol params for a toleranced case (see the header); checks MLX against float64."""
    d = str(result.dtype).split(".")[-1]
    got = f64(result)
    err = float(np.max(np.abs(got - ref64))) if got.size else 0.0
    scale = float(np.max(np.abs(ref64))) if got.size else 1.0
    # MLX must itself be close to the float64 answer: a few ulp of the largest value, plus
    # what accumulating in the input dtype costs.
    bound = 64 * EPS[d] * max(scale, 1.0)
    if err > bound:
        raise SystemExit(f"{name}: MLX differs from float64 by {err} (> {bound})")
    return {"rtol": 2 * EPS[d], "atol": max(2 * err, floor, 2 * EPS[d] * scale * 0.01)}


def sum_floor(x, w, result):
    """An atol floor for a dot product computed in any order: 4 ulp of sum |x| |w|."""
    d = str(result.dtype).split(".")[-1]
    return 4 * EPS[d] * float(np.max(np.abs(x) @ np.abs(w))) if x.size and w.size else 1e-6


# ----------------------------------------------------------------------------
# float64 references


def ref_rms_norm(x, w, eps):
    r = x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps)
    return r * w if w is not None else r


def ref_layer_norm(x, w, b, eps):
    mu = np.mean(x, axis=-1, keepdims=True)
    var = np.mean((x - mu) ** 2, axis=-1, keepdims=True)
    r = (x - mu) / np.sqrt(var + eps)
    if w is not None:
        r = r * w
    if b is not None:
        r = r + b
    return r


def ref_rope(x, dims, traditional, base, scale, offset, freqs):
    shape = x.shape
    T_, D = shape[-2], shape[-1]
    half = dims // 2
    if freqs is None:
        inv = base ** (-np.arange(half, dtype=np.float64) / half)
    else:
        inv = 1.0 / freqs
    pos = (np.arange(T_, dtype=np.float64) + offset) * scale
    th = pos[:, None] * inv[None, :]
    c, s = np.cos(th), np.sin(th)
    out = x.copy()
    if traditional:
        x1, x2 = x[..., 0:dims:2], x[..., 1:dims:2]
        out[..., 0:dims:2] = x1 * c - x2 * s
        out[..., 1:dims:2] = x1 * s + x2 * c
    else:
        x1, x2 = x[..., :half], x[..., half:dims]
        out[..., :half] = x1 * c - x2 * s
        out[..., half:dims] = x1 * s + x2 * c
    return out


def ref_sdpa(q, k, v, scale, mask, mask_arr):
    B, Hq, Lq, D = q.shape
    Hk, Lk = k.shape[1], k.shape[2]
    rep = Hq // Hk
    k = np.repeat(k, rep, axis=1)
    v = np.repeat(v, rep, axis=1)
    s = (q * scale) @ np.swapaxes(k, -1, -2)
    if mask == "causal":
        qi = np.arange(Lq)[:, None] + (Lk - Lq)
        ki = np.arange(Lk)[None, :]
        s = np.where(ki <= qi, s, -np.inf)
    elif mask == "additive":
        s = s + mask_arr
    s = s - np.max(s, axis=-1, keepdims=True)
    p = np.exp(s)
    p = p / np.sum(p, axis=-1, keepdims=True)
    return p @ v


def unpack(wq, bits, cols):
    """Affine codes from MLX's packed uint32 rows: a little-endian bit stream per row."""
    b = np.asarray(wq, dtype=np.uint32).view(np.uint8).reshape(wq.shape[:-1] + (-1,))
    bitstream = np.unpackbits(b, axis=-1, bitorder="little")
    bitstream = bitstream[..., : cols * bits].reshape(wq.shape[:-1] + (cols, bits))
    return (bitstream.astype(np.int64) * (1 << np.arange(bits))).sum(-1)


# ----------------------------------------------------------------------------
# fast ops


def gen_fast(F):
    for dt in ["float32", "float16", "bfloat16"]:
        for shape, with_w, eps in [((2, 576 if dt == "float32" else 96), True, 1e-5), ((2, 3, 33), True, 1e-6), ((5, 7), False, 1e-5),
                                   ((1, 1, 1), True, 1e-5), ((0, 8), True, 1e-5)]:
            x = F.normal(shape, dt)
            w = F.normal(shape[-1:], dt) if with_w else None
            r = mx.fast.rms_norm(x, w, eps)
            ins = [x] + ([w] if with_w else [])
            ref = ref_rms_norm(f64(x), f64(w) if with_w else None, eps)
            name = f"rms_norm {dt} {list(shape)}" + ("" if with_w else " no weight")
            F.add(name, "rms_norm", ins, {"eps": eps, **tolerance(name, r, ref)}, r)
        # non-contiguous input
        base = F.normal((6, 10), dt)
        view = In(base, transpose_view([1, 0]))
        w = F.normal((6,), dt)
        r = mx.fast.rms_norm(view.value(), w, 1e-5)
        name = f"rms_norm {dt} transposed"
        F.add(name, "rms_norm", [view, w], {"eps": 1e-5, **tolerance(name, r, ref_rms_norm(f64(view.value()), f64(w), 1e-5))}, r)

        for shape, hw, hb in [((3, 64), True, True), ((2, 5, 31), True, False), ((4, 9), False, True),
                              ((4, 17), False, False), ((0, 4), True, True)]:
            x = F.normal(shape, dt, 2.0)
            w = F.normal(shape[-1:], dt) if hw else None
            b = F.normal(shape[-1:], dt) if hb else None
            r = mx.fast.layer_norm(x, w, b, 1e-5)
            ins = [x] + ([w] if hw else []) + ([b] if hb else [])
            ref = ref_layer_norm(f64(x), f64(w) if hw else None, f64(b) if hb else None, 1e-5)
            name = f"layer_norm {dt} {list(shape)} w={hw} b={hb}"
            F.add(name, "layer_norm", ins, {"eps": 1e-5, "has_weight": hw, "has_bias": hb, **tolerance(name, r, ref)}, r)
        base = F.normal((3, 12, 2), dt)
        view = In(base, slice_view([0, 0, 0], [3, 12, 2], [1, 1, 2]))
        r = mx.fast.layer_norm(view.value()[..., 0] if False else view.value(), None, None, 1e-5)
        name = f"layer_norm {dt} strided"
        F.add(name, "layer_norm", [view], {"eps": 1e-5, "has_weight": False, "has_bias": False,
                                         **tolerance(name, r, ref_layer_norm(f64(view.value()), None, None, 1e-5))}, r)

        rope_cases = [
            ((1, 3, 5, 64), 64, False, 10000.0, 1.0, 0, False),
            ((1, 3, 5, 64), 64, True, 10000.0, 1.0, 7, False),
            ((2, 3, 4, 16), 8, False, 500.0, 0.5, 3, False),
            ((2, 3, 4, 16), 10, True, 10000.0, 2.0, 0, False),
            ((2, 1, 1, 32), 32, False, 10000.0, 1.0, 123, False),
            ((1, 2, 3, 12), 12, False, None, 1.0, 2, True),
            ((1, 2, 3, 12), 8, True, None, 1.0, 5, True),
            ((3, 6, 8), 8, False, 10000.0, 1.0, 1, False),
            ((1, 2, 2, 3, 8), 6, False, 10000.0, 1.0, 0, False),
        ]
        for shape, dims, trad, base_, scale, offset, with_freqs in rope_cases:
            x = F.normal(shape, dt)
            freqs = arr(np.exp(F.rng.uniform(0, 6, dims // 2)), "float32") if with_freqs else None
            r = mx.fast.rope(x, dims, traditional=trad, base=base_, scale=scale, offset=offset, freqs=freqs)
            ref = ref_rope(f64(x), dims, trad, base_, scale, offset, f64(freqs) if with_freqs else None)
            name = f"rope {dt} {list(shape)} dims={dims} trad={trad} base={base_} scale={scale} offset={offset}"
            params = {"dims": dims, "traditional": trad, "base": base_, "scale": scale, "offset": offset}
            F.add(name, "rope", [x] + ([freqs] if with_freqs else []), {**params, **tolerance(name, r, ref, 1e-5)}, r)
        # non-contiguous: (B, L, H, D) transposed to (B, H, L, D), as attention layers do
        base = F.normal((1, 5, 3, 16), dt)
        view = In(base, transpose_view([0, 2, 1, 3]))
        r = mx.fast.rope(view.value(), 16, traditional=False, base=10000.0, scale=1.0, offset=4)
        name = f"rope {dt} transposed input"
        F.add(name, "rope", [view], {"dims": 16, "traditional": False, "base": 10000.0, "scale": 1.0, "offset": 4,
                                     **tolerance(name, r, ref_rope(f64(view.value()), 16, False, 10000.0, 1.0, 4, None), 1e-5)}, r)

        sdpa_cases = [
            # B, Hq, Hk, Lq, Lk, D, mask
            (1, 9, 3, 1, 19, 32 if dt == "float32" else 8, "none"),
            (1, 9, 3, 1, 19, 32 if dt == "float32" else 8, "causal"),
            (1, 4, 4, 7, 7, 16, "causal"),
            (2, 6, 2, 5, 11, 16, "causal"),
            (2, 4, 2, 5, 11, 24, "none"),
            (1, 2, 1, 3, 9, 8, "additive"),
            (2, 3, 3, 4, 6, 8, "additive"),
            (1, 2, 2, 0, 5, 8, "none"),
        ]
        for B, Hq, Hk, Lq, Lk, D, mask in sdpa_cases:
            q = F.normal((B, Hq, Lq, D), dt)
            k = F.normal((B, Hk, Lk, D), dt)
            v = F.normal((B, Hk, Lk, D), dt)
            scale = 1.0 / math.sqrt(D)
            ins = [q, k, v]
            mask_arr = None
            if mask == "additive":
                m = F.rng.standard_normal((Lq, Lk)) * 2
                m[F.rng.random((Lq, Lk)) < 0.3] = -np.inf
                m[:, 0] = 0.0
                mask_arr = arr(m, dt)
                ins.append(mask_arr)
                r = mx.fast.scaled_dot_product_attention(q, k, v, scale=scale, mask=mask_arr)
            elif mask == "causal":
                r = mx.fast.scaled_dot_product_attention(q, k, v, scale=scale, mask="causal")
            else:
                r = mx.fast.scaled_dot_product_attention(q, k, v, scale=scale)
            ref = ref_sdpa(f64(q), f64(k), f64(v), scale, mask, f64(mask_arr) if mask_arr is not None else None)
            name = f"sdpa {dt} B={B} Hq={Hq} Hk={Hk} Lq={Lq} Lk={Lk} D={D} mask={mask}"
            F.add(name, "sdpa", ins, {"scale": scale, "mask": mask, **tolerance(name, r, ref, 1e-5)}, r)
        # keys/values as transposed views of (B, L, H, D)
        kb, vb = F.normal((1, 13, 2, 16), dt), F.normal((1, 13, 2, 16), dt)
        kv, vv = In(kb, transpose_view([0, 2, 1, 3])), In(vb, transpose_view([0, 2, 1, 3]))
        q = F.normal((1, 4, 2, 16), dt)
        r = mx.fast.scaled_dot_product_attention(q, kv.value(), vv.value(), scale=0.25, mask="causal")
        ref = ref_sdpa(f64(q), f64(kv.value()), f64(vv.value()), 0.25, "causal", None)
        name = f"sdpa {dt} transposed keys causal"
        F.add(name, "sdpa", [q, kv, vv], {"scale": 0.25, "mask": "causal", **tolerance(name, r, ref, 1e-5)}, r)


# ----------------------------------------------------------------------------
# quantization


def gen_quant(F):
    for bits in [2, 3, 4, 5, 6, 8]:
        for gs in [32, 64, 128]:
            for dt in ["float32", "float16", "bfloat16"]:
                rows = 3 if dt == "float32" else 2
                w = F.normal((rows, 2 * gs if gs < 128 else 128), dt, 0.5)
                if dt == "float32" and gs == 64:
                    # rows with a zero group, a constant group and an all-negative group
                    wn = f64(w).copy()
                    wn[0, :gs] = 0.0
                    wn[1, :gs] = 0.25
                    wn[2, :gs] = -np.abs(wn[2, :gs]) - 0.1
                    w = arr(wn, dt)
                wq, s, b = mx.quantize(w, group_size=gs, bits=bits)
                name = f"quantize {dt} bits={bits} group={gs} {list(w.shape)}"
                F.add(name, "quantize", [w], {"group_size": gs, "bits": bits}, expected_list=[wq, s, b])
                d = mx.dequantize(wq, s, b, group_size=gs, bits=bits)
                # cross-check the layout: a little-endian bit stream of codes per row
                codes = unpack(to_numpy(wq), bits, w.shape[-1])
                dn = f64(s).repeat(gs, axis=-1) * codes + f64(b).repeat(gs, axis=-1)
                assert np.allclose(dn, f64(d), rtol=4 * EPS[dt], atol=4 * EPS[dt] * np.abs(f64(b)).max()), name
                F.add(f"dequantize {dt} bits={bits} group={gs}", "dequantize", [wq, s, b],
                      {"group_size": gs, "bits": bits}, d)
    # a batched weight
    w = F.normal((2, 3, 64), "float32")
    wq, s, b = mx.quantize(w, group_size=32, bits=4)
    F.add("quantize float32 batched [2,3,64]", "quantize", [w], {"group_size": 32, "bits": 4}, expected_list=[wq, s, b])

    # quantized_matmul
    qmm_cases = [
        # M, K, N, transpose, bits, gs, dtype, batch
        (1, 64, 32, True, 4, 64, "float32", None),
        (3, 128, 40, True, 4, 32, "float32", None),
        (5, 256, 24, True, 8, 64, "float32", None),
        (2, 128, 16, True, 2, 128, "float32", None),
        (2, 96, 8, True, 3, 32, "float32", None),
        (2, 160, 8, True, 5, 32, "float32", None),
        (4, 192, 12, True, 6, 64, "float32", None),
        (1, 576, 48, True, 4, 64, "float32", None),
        (7, 64, 96, False, 4, 32, "float32", None),
        (3, 40, 128, False, 8, 128, "float32", None),
        (2, 16, 64, False, 3, 64, "float32", None),
        (2, 24, 64, False, 6, 32, "float32", None),
        (2, 64, 32, True, 4, 64, "float16", None),
        (2, 64, 32, True, 8, 32, "bfloat16", None),
        (3, 32, 64, False, 4, 64, "float16", None),
        (3, 64, 16, True, 4, 32, "float32", (2,)),
        # from 8 rows Zoo dequantizes once into a panel and multiplies with BLAS
        (9, 64, 40, True, 4, 32, "float32", None),
        (16, 128, 32, True, 8, 64, "float32", None),
        (12, 64, 64, False, 4, 64, "float32", None),
        (10, 96, 32, True, 3, 32, "float16", None),
        (4, 64, 16, True, 4, 64, "float32", (3,)),
    ]
    for M, K, N, tr, bits, gs, dt, batch in qmm_cases:
        wshape = (N, K) if tr else (K, N)
        w = F.normal(wshape, dt, 0.5)
        wq, s, b = mx.quantize(w, group_size=gs, bits=bits)
        xshape = (batch or ()) + (M, K)
        x = F.normal(xshape, dt)
        r = mx.quantized_matmul(x, wq, s, b, transpose=tr, group_size=gs, bits=bits)
        wd = f64(mx.dequantize(wq, s, b, group_size=gs, bits=bits))
        ref = f64(x) @ (wd.T if tr else wd)
        name = f"quantized_matmul {dt} x={list(xshape)} w={list(wshape)} transpose={tr} bits={bits} group={gs}"
        F.add(name, "quantized_matmul", [x, wq, s, b],
              {"transpose": tr, "group_size": gs, "bits": bits,
               **tolerance(name, r, ref, sum_floor(f64(x), wd.T if tr else wd, r))}, r)
    # a transposed (non-contiguous) activation
    base = F.normal((64, 3), "float32")
    xv = In(base, transpose_view([1, 0]))
    w = F.normal((16, 64), "float32")
    wq, s, b = mx.quantize(w, group_size=64, bits=4)
    r = mx.quantized_matmul(xv.value(), wq, s, b, transpose=True, group_size=64, bits=4)
    ref = f64(xv.value()) @ f64(mx.dequantize(wq, s, b, group_size=64, bits=4)).T
    name = "quantized_matmul float32 transposed x"
    wd = f64(mx.dequantize(wq, s, b, group_size=64, bits=4))
    F.add(name, "quantized_matmul", [xv, wq, s, b], {"transpose": True, "group_size": 64, "bits": 4,
                                                     **tolerance(name, r, ref, sum_floor(f64(xv.value()), wd.T, r))}, r)


# ----------------------------------------------------------------------------
# sorting, selection, scans


def sort_input(F, dt, shape):
    if dt == "bool":
        return arr(F.rng.random(shape) < 0.5, dt)
    if dt in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"):
        lo = 0 if dt.startswith("u") else -50
        return arr(F.rng.integers(lo, 50, shape), dt)   # many duplicates: stability shows
    v = np.round(F.rng.standard_normal(shape) * 4, 1)   # duplicates too
    return arr(v, dt)


def gen_sort(F):
    # partition/argpartition/topk: MLX leaves the order around kth (and of the top k)
    # unspecified, so the Swift test compares as "compare" says: "partition" = the kth element
    # and the multisets on each side; "topk" = the multiset of the k values.
    dts = ["float32", "float16", "bfloat16", "float64", "int32", "int8", "uint8", "uint32", "int64", "bool"]
    for dt in dts:
        for shape, axis in [((17,), -1), ((3, 11), -1), ((4, 7), 0), ((2, 3, 5), 1)]:
            x = sort_input(F, dt, shape)
            F.add(f"sort {dt} {list(shape)} axis={axis}", "sort", [x], {"axis": axis}, mx.sort(x, axis=axis))
            F.add(f"argsort {dt} {list(shape)} axis={axis}", "argsort", [x], {"axis": axis}, mx.argsort(x, axis=axis))
    x = arr([3.0, np.nan, 1.0, -0.0, 0.0, np.inf, -np.inf, np.nan, 2.0, -1.0], "float32")
    F.add("sort float32 nan inf signed zeros", "sort", [x], {"axis": 0}, mx.sort(x))
    F.add("argsort float32 nan inf", "argsort", [x], {"axis": 0}, mx.argsort(x))
    x = sort_input(F, "float32", (3, 4))
    F.add("sort float32 axis=None", "sort", [x], {"axis": None}, mx.sort(x, axis=None))
    F.add("argsort float32 axis=None", "argsort", [x], {"axis": None}, mx.argsort(x, axis=None))
    base = sort_input(F, "float32", (6, 9))
    for view in [transpose_view([1, 0]), slice_view([1, 0], [6, 9], [2, 3])]:
        v = In(base, view)
        F.add(f"sort float32 {view['kind']} view", "sort", [v], {"axis": -1}, mx.sort(v.value(), axis=-1))
        F.add(f"argsort float32 {view['kind']} view", "argsort", [v], {"axis": 0}, mx.argsort(v.value(), axis=0))
    e = arr(np.zeros((0, 3)), "float32")
    F.add("sort float32 empty", "sort", [e], {"axis": 0}, mx.sort(e, axis=0))
    F.add("argsort float32 empty", "argsort", [e], {"axis": -1}, mx.argsort(e, axis=-1))
    big = arr(F.rng.standard_normal(3000), "float32")
    F.add("argsort float32 3000", "argsort", [big], {"axis": 0}, mx.argsort(big))

    for dt in ["float32", "float16", "int32", "uint8"]:
        for shape, kth, axis in [((13,), 4, -1), ((3, 10), -2, -1), ((6, 5), 0, 0), ((2, 4, 7), 6, 2)]:
            x = sort_input(F, dt, shape)
            F.add(f"partition {dt} {list(shape)} kth={kth} axis={axis}", "partition", [x],
                  {"kth": kth, "axis": axis, "compare": "partition"}, mx.partition(x, kth, axis=axis))
            F.add(f"argpartition {dt} {list(shape)} kth={kth} axis={axis}", "argpartition", [x],
                  {"kth": kth, "axis": axis, "compare": "partition"}, mx.argpartition(x, kth, axis=axis))
        for shape, k, axis in [((13,), 3, -1), ((3, 10), 10, -1), ((6, 5), 2, 0), ((2, 4, 7), 1, 1)]:
            x = sort_input(F, dt, shape)
            F.add(f"topk {dt} {list(shape)} k={k} axis={axis}", "topk", [x], {"k": k, "axis": axis, "compare": "topk"},
                  mx.topk(x, k, axis=axis))

    scans = ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"]
    for op in scans:
        for dt in ["float32", "float16", "bfloat16", "float64", "int32", "int8", "uint8", "bool", "int64"]:
            if op == "cumprod" and dt in ("float16", "bfloat16"):
                shape = (3, 6)
            else:
                shape = (3, 9)
            if dt == "bool":
                x = arr(F.rng.random(shape) < 0.5, dt)
            elif dt in ("int32", "int8", "int64"):
                x = arr(F.rng.integers(-3 if op == "cumprod" else -40, 4 if op == "cumprod" else 40, shape), dt)
            elif dt == "uint8":
                x = arr(F.rng.integers(0, 4 if op == "cumprod" else 60, shape), dt)
            else:
                x = arr(F.rng.standard_normal(shape) * (1.5 if op == "cumprod" else 3), dt)
            for axis, rev, inc in [(1, False, True), (0, True, True), (-1, False, False), (1, True, False)]:
                if not inc and dt == "int64" and op in ("cummax", "cummin"):
                    continue  # the identity (int64 min/max) does not fit the fixture format
                r = getattr(mx, op)(x, axis=axis, reverse=rev, inclusive=inc)
                params = {"axis": axis, "reverse": rev, "inclusive": inc}
                name = f"{op} {dt} axis={axis} reverse={rev} inclusive={inc}"
                dname = str(r.dtype).split(".")[-1]
                if dname in ("float32", "float16", "bfloat16", "float64") and op not in ("cummax", "cummin"):
                    # MLX's float64 exp/log (so logcumsumexp) are float32-accurate
                    f64tol = 2e-6 if op == "logcumsumexp" else 1e-12
                    tol = {"float32": 1e-5, "float16": 2e-3, "bfloat16": 2e-2, "float64": f64tol}[dname]
                    params.update({"rtol": tol, "atol": tol})
                F.add(name, op, [x], params, r)
    x = arr(F.rng.standard_normal((2, 3, 4)), "float32")
    F.add("cumsum float32 axis=None", "cumsum", [x], {"axis": None, "reverse": False, "inclusive": True,
                                                       "rtol": 1e-5, "atol": 1e-5}, mx.cumsum(x))
    base = arr(F.rng.standard_normal((5, 8)), "float32")
    v = In(base, transpose_view([1, 0]))
    F.add("cumsum float32 transposed", "cumsum", [v], {"axis": 1, "reverse": False, "inclusive": True,
                                                        "rtol": 1e-5, "atol": 1e-5}, mx.cumsum(v.value(), axis=1))
    F.add("logcumsumexp float32 transposed reverse", "logcumsumexp", [v],
          {"axis": 0, "reverse": True, "inclusive": True, "rtol": 1e-5, "atol": 1e-5},
          mx.logcumsumexp(v.value(), axis=0, reverse=True))
    x = arr([-np.inf, -np.inf, 1.0, -np.inf, 3.0], "float32")
    F.add("logcumsumexp float32 -inf", "logcumsumexp", [x], {"axis": 0, "reverse": False, "inclusive": True,
                                                              "rtol": 1e-6, "atol": 1e-6}, mx.logcumsumexp(x, axis=0))
    e = arr(np.zeros((2, 0)), "float32")
    F.add("cumsum float32 empty", "cumsum", [e], {"axis": 1, "reverse": False, "inclusive": True}, mx.cumsum(e, axis=1))


# ----------------------------------------------------------------------------
# scatter family along an axis: put_along_axis from MLX; MLX for Python has no along-axis
# scatter-add/prod/max/min, so those come from NumPy's ufunc.at (sequential, in index order).


def along_index(idx, axis):
    grids = list(np.meshgrid(*[np.arange(n) for n in idx.shape], indexing="ij"))
    grids[axis] = idx
    return tuple(grids)


def gen_scatter(F):
    ufuncs = {"scatter_add": np.add, "scatter_prod": np.multiply, "scatter_max": np.maximum, "scatter_min": np.minimum}
    for dt, npdt in [("float32", np.float32), ("float16", np.float16), ("int32", np.int32), ("uint8", np.uint8),
                     ("int64", np.int64)]:
        for shape, axis, ishape in [((5,), 0, (8,)), ((4, 6), 1, (4, 9)), ((5, 3), 0, (7, 3)), ((2, 3, 4), 2, (2, 3, 6))]:
            if dt in ("uint8",):
                x = F.rng.integers(0, 9, shape)
                u = F.rng.integers(0, 5, ishape)
            elif dt in ("int32", "int64"):
                x = F.rng.integers(-20, 20, shape)
                u = F.rng.integers(-6, 6, ishape)
            else:
                x = np.round(F.rng.standard_normal(shape) * 2, 2)
                u = np.round(F.rng.standard_normal(ishape) * 2, 2)
            idx = F.rng.integers(-shape[axis], shape[axis], ishape)   # repeats and negative indices
            xm, um, im = arr(x, dt), arr(u, dt), arr(idx, "int32")
            for op, uf in ufuncs.items():
                ref = f64(xm).astype(npdt)
                uu = f64(um).astype(npdt)
                ii = np.where(idx < 0, idx + shape[axis], idx)
                uf.at(ref, along_index(ii, axis), uu)
                F.add(f"{op} {dt} x={list(shape)} axis={axis} indices={list(ishape)}", op, [xm, im, um],
                      {"axis": axis}, arr(ref, dt))
        # put_along_axis (no repeated targets: MLX does not order them)
        shape, axis = (4, 6), 1
        x = arr(F.rng.integers(0, 9, shape), dt)
        idx = np.stack([F.rng.permutation(6)[:3] for _ in range(4)])
        u = arr(F.rng.integers(0, 9, (4, 3)), dt)
        im = arr(idx, "int32")
        F.add(f"put_along_axis {dt}", "put_along_axis", [x, im, u], {"axis": axis},
              mx.put_along_axis(x, im, u, axis=axis))
    # broadcast updates (a scalar) and uint32 indices
    x = arr(np.zeros((3, 4)), "float32")
    idx = arr(np.array([[0], [2], [3]]), "uint32")
    u = arr(np.array(1.5), "float32")
    ref = np.zeros((3, 4), np.float32)
    np.add.at(ref, along_index(np.array([[0], [2], [3]]), 1), np.float32(1.5))
    F.add("scatter_add float32 scalar update uint32 indices", "scatter_add", [x, idx, u], {"axis": 1}, arr(ref, "float32"))
    F.add("put_along_axis float32 scalar update", "put_along_axis", [x, idx, u], {"axis": 1},
          mx.put_along_axis(x, idx, u, axis=1))


# ----------------------------------------------------------------------------
# convolutions (channels-last). Tolerance: 2 ulp relative, plus an atol of 4 ulp of the
# convolution of |x| with |w| (a bound for any summation order), computed by MLX in float32.


def gen_conv(F):
    fns = {1: (mx.conv1d, mx.conv_transpose1d), 2: (mx.conv2d, mx.conv_transpose2d), 3: (mx.conv3d, mx.conv_transpose3d)}
    cases = [
        # nd, N, spatial, Cin, Cout, kernel, stride, padding, dilation, groups, dtype
        (1, 2, (9,), 3, 4, (3,), 1, 0, 1, 1, "float32"),
        (1, 1, (11,), 4, 6, (4,), 2, 1, 2, 2, "float32"),
        (1, 2, (7,), 6, 6, (3,), 1, 1, 1, 6, "float32"),
        (2, 2, (6, 5), 3, 5, (3, 3), (1, 1), (1, 1), (1, 1), 1, "float32"),
        (2, 1, (9, 8), 4, 6, (3, 2), (2, 3), (1, 0), (1, 2), 2, "float32"),
        (2, 1, (5, 5), 2, 3, (1, 1), (1, 1), (0, 0), (1, 1), 1, "float32"),
        (2, 2, (6, 6), 4, 4, (3, 3), (2, 2), (1, 1), (1, 1), 1, "float16"),
        (2, 1, (6, 6), 4, 4, (3, 3), (1, 1), (2, 2), (2, 2), 4, "bfloat16"),
        (3, 1, (4, 5, 3), 2, 3, (2, 3, 2), (1, 2, 1), (1, 0, 1), (1, 1, 1), 1, "float32"),
        (3, 2, (3, 4, 4), 4, 2, (2, 2, 2), (1, 1, 1), (0, 1, 0), (2, 1, 1), 1, "float32"),
    ]
    for nd, N, sp, cin, cout, k, st, pad, dil, groups, dt in cases:
        fwd, tr = fns[nd]
        x = F.normal((N,) + sp + (cin,), dt)
        w = F.normal((cout,) + k + (cin // groups,), dt)
        r = fwd(x, w, stride=st, padding=pad, dilation=dil, groups=groups)
        bound = fwd(mx.abs(x).astype(mx.float32), mx.abs(w).astype(mx.float32), stride=st, padding=pad,
                    dilation=dil, groups=groups)
        d = str(r.dtype).split(".")[-1]
        atol = 4 * EPS[d] * float(mx.max(bound).item()) + 1e-7
        ints = lambda v: [v] * nd if isinstance(v, int) else list(v)  # noqa: E731
        params = {"nd": nd, "stride": ints(st), "padding": ints(pad), "dilation": ints(dil), "groups": groups,
                  "rtol": 2 * EPS[d], "atol": atol}
        F.add(f"conv{nd}d {dt} x={list(x.shape)} w={list(w.shape)} s={st} p={pad} d={dil} g={groups}",
              f"conv{nd}d", [x, w], params, r)
        # transposed: weight [C_out, k..., C_in / groups] against an input of C_in channels
        xt = F.normal((N,) + sp + (cin,), dt)
        wt = F.normal((cout,) + k + (cin // groups,), dt)
        for op_pad in ([0] * nd, [1 if (ints(st)[i] > 1) else 0 for i in range(nd)]):
            if groups > 1 and dt != "float32":
                continue
            try:
                rt = tr(xt, wt, stride=st, padding=pad, dilation=dil, output_padding=op_pad if nd > 1 else op_pad[0],
                        groups=groups)
                mx.eval(rt)
            except Exception as e:  # MLX rejects some combinations
                print(f"skipped conv_transpose{nd}d {sp} {k} groups={groups}: {e}", file=sys.stderr)
                continue
            bt = tr(mx.abs(xt).astype(mx.float32), mx.abs(wt).astype(mx.float32), stride=st, padding=pad, dilation=dil,
                    output_padding=op_pad if nd > 1 else op_pad[0], groups=groups)
            atol = 4 * EPS[d] * float(mx.max(bt).item()) + 1e-7
            params = {"nd": nd, "stride": ints(st), "padding": ints(pad), "dilation": ints(dil), "groups": groups,
                      "output_padding": op_pad, "rtol": 2 * EPS[d], "atol": atol}
            F.add(f"conv_transpose{nd}d {dt} x={list(xt.shape)} w={list(wt.shape)} s={st} p={pad} d={dil} g={groups} "
                  f"op={op_pad}", f"conv_transpose{nd}d", [xt, wt], params, rt)
    # non-contiguous input: NCHW data transposed to NHWC
    base = F.normal((1, 3, 5, 6), "float32")
    v = In(base, transpose_view([0, 2, 3, 1]))
    w = F.normal((4, 3, 3, 3), "float32")
    r = mx.conv2d(v.value(), w, padding=1)
    bound = mx.conv2d(mx.abs(v.value()), mx.abs(w), padding=1)
    F.add("conv2d float32 transposed input", "conv2d", [v, w],
          {"nd": 2, "stride": [1, 1], "padding": [1, 1], "dilation": [1, 1], "groups": 1,
           "rtol": 2 * EPS["float32"], "atol": 4 * EPS["float32"] * float(mx.max(bound).item()) + 1e-7}, r)


# ----------------------------------------------------------------------------
# contractions, diagonals and shape utilities


def gen_misc(F):
    TOL = {"rtol": 1e-5, "atol": 1e-5}
    n = lambda *s: F.normal(s)  # noqa: E731
    ein = [
        ("ij,jk->ik", [(3, 4), (4, 5)]), ("ij,jk", [(2, 3), (3, 2)]), ("i,i->", [(5,), (5,)]), ("i,j->ij", [(3,), (4,)]),
        ("ii->i", [(4, 4)]), ("ii", [(3, 3)]), ("ij->ji", [(2, 5)]), ("ij->", [(3, 4)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 2)]),
        ("bhqd,bhkd->bhqk", [(1, 2, 3, 4), (1, 2, 5, 4)]), ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
        ("abc,cd,de->abe", [(2, 2, 3), (3, 4), (4, 3)]), ("iij->j", [(3, 3, 2)]), ("ij,ij->i", [(3, 4), (3, 4)]),
        ("i,jk->ijk", [(2,), (3, 2)]), ("ab,bc,ca->", [(2, 3), (3, 4), (4, 2)]),
    ]
    for sub, shapes in ein:
        xs = [n(*s) for s in shapes]
        F.add(f"einsum {sub}", "einsum", xs, {"subscripts": sub, **TOL}, mx.einsum(sub, *xs))
    a, b = n(2, 3, 4), n(4, 3, 5)
    w = n(4, 5)
    F.add("tensordot axes=1", "tensordot", [a, w], {"axes": 1, **TOL}, mx.tensordot(a, w, axes=1))
    F.add("tensordot axes pairs", "tensordot", [a, b], {"axes_a": [1, 2], "axes_b": [1, 0], **TOL},
          mx.tensordot(a, b, axes=([1, 2], [1, 0])))
    u, v = n(3, 4), n(2, 4)
    F.add("inner 2-D", "inner", [u, v], TOL, mx.inner(u, v))
    p, q = n(3), n(4)
    F.add("outer", "outer", [p, q], TOL, mx.outer(p, q))
    m1, m2 = n(2, 3), n(2, 2)
    F.add("kron 2-D", "kron", [m1, m2], TOL, mx.kron(m1, m2))
    F.add("kron 1-D 2-D", "kron", [p, m2], TOL, mx.kron(p, m2))
    x = n(4, 5)
    for k in (0, 2, -1):
        F.add(f"diag 2-D k={k}", "diag", [x], {"k": k}, mx.diag(x, k=k))
    for k in (0, 1, -2):
        F.add(f"diag 1-D k={k}", "diag", [p], {"k": k}, mx.diag(p, k=k))
    y = n(3, 4, 5)
    for off, a1, a2 in [(0, 0, 1), (1, 1, 2), (-1, 2, 0), (0, -1, -2)]:
        F.add(f"diagonal offset={off} axes={a1},{a2}", "diagonal", [y], {"offset": off, "axis1": a1, "axis2": a2},
              mx.diagonal(y, offset=off, axis1=a1, axis2=a2))
        F.add(f"trace offset={off} axes={a1},{a2}", "trace", [y], {"offset": off, "axis1": a1, "axis2": a2, **TOL},
              mx.trace(y, offset=off, axis1=a1, axis2=a2))
    xi = arr(F.rng.integers(-9, 9, (3, 5)), "int32")
    for shift, axis in [(2, None), (-1, 0), (7, 1), (0, 1)]:
        F.add(f"roll shift={shift} axis={axis}", "roll", [xi], {"shift": shift, "axis": axis}, mx.roll(xi, shift, axis=axis))
    for axes in [None, [0], [1], [0, 1]]:
        F.add(f"flip axes={axes}", "flip", [xi], {"axes": axes}, mx.flip(xi, axis=axes) if axes is None or len(axes) != 1
              else mx.flip(xi, axis=axes[0]))
    for t in [arr(np.array(2.5), "float32"), p, x, y]:
        for k in (1, 2, 3):
            F.add(f"atleast_{k}d {list(t.shape)}", f"atleast_{k}d", [t], {}, getattr(mx, f"atleast_{k}d")(t))
    F.add("unflatten", "unflatten", [y], {"axis": 2, "shape": [5, 1]}, mx.unflatten(y, 2, [5, 1]))
    F.add("unflatten -1", "unflatten", [x], {"axis": 1, "shape": [-1, 5]}, mx.unflatten(x, 1, [-1, 5]))
    for widths in [[(1, 2), (0, 3)], [(2, 0), (1, 1)]]:
        F.add(f"pad edge {widths}", "pad_edge", [xi], {"pad_width": [list(w) for w in widths]},
              mx.pad(xi, [tuple(w) for w in widths], mode="edge"))
    c, a2, b2 = n(3, 5), n(3, 4), n(4, 5)
    F.add("addmm alpha=0.5 beta=2", "addmm", [c, a2, b2], {"alpha": 0.5, "beta": 2.0, **TOL}, mx.addmm(c, a2, b2, alpha=0.5, beta=2.0))
    g1, g2, g3 = arr(np.arange(3), "int32"), arr(np.arange(4) * 2, "int32"), arr(np.arange(2) - 5, "int32")
    for idx in ("xy", "ij"):
        F.add(f"meshgrid {idx}", "meshgrid", [g1, g2, g3], {"indexing": idx}, expected_list=mx.meshgrid(g1, g2, g3, indexing=idx))


# ----------------------------------------------------------------------------
# FFT. Tolerance: 1e-5 relative plus an absolute 1e-6 * (sum of |x| over the whole input),
# a bound on float32 rounding for any FFT algorithm of these sizes.


def gen_fft(F):
    def add(name, op, ins, params, r, scale_from):
        atol = 1e-6 * float(np.sum(np.abs(to_numpy(value(scale_from))))) + 1e-7
        F.add(name, op, ins, {**params, "rtol": 1e-5, "atol": atol}, r)

    def cplx(shape):
        return arr(F.rng.standard_normal(shape) + 1j * F.rng.standard_normal(shape), "complex64")

    for n in [1, 2, 7, 8, 12, 15, 97, 128, 210, 134, 1000]:
        x = F.normal((2, n))
        add(f"fft real n={n}", "fft", [x], {"axis": -1}, mx.fft.fft(x), x)
        c = cplx((n,))
        add(f"fft complex n={n}", "fft", [c], {"axis": -1}, mx.fft.fft(c), c)
        add(f"ifft complex n={n}", "ifft", [c], {"axis": -1}, mx.fft.ifft(c), c)
        add(f"rfft n={n}", "rfft", [x], {"axis": -1}, mx.fft.rfft(x), x)
        if n > 1:
            h = cplx((2, n // 2 + 1))
            add(f"irfft n={n}", "irfft", [h], {"axis": -1, "n": n}, mx.fft.irfft(h, n=n), h)
    x = F.normal((6, 5))
    add("fft axis 0 n=9 (pad)", "fft", [x], {"axis": 0, "n": 9}, mx.fft.fft(x, n=9, axis=0), x)
    add("fft n=3 (crop)", "fft", [x], {"axis": 1, "n": 3}, mx.fft.fft(x, n=3, axis=1), x)
    add("rfft axis 0 n=8", "rfft", [x], {"axis": 0, "n": 8}, mx.fft.rfft(x, n=8, axis=0), x)
    h = cplx((4, 5))
    add("irfft default n", "irfft", [h], {"axis": -1}, mx.fft.irfft(h), h)
    add("irfft axis 0 n=5", "irfft", [h], {"axis": 0, "n": 5}, mx.fft.irfft(h, n=5, axis=0), h)
    base = F.normal((7, 4))
    v = In(base, transpose_view([1, 0]))
    add("fft transposed input", "fft", [v], {"axis": -1}, mx.fft.fft(v.value()), v)
    y = F.normal((3, 4, 6))
    c3 = cplx((3, 4, 5))
    add("fft2", "fft2", [y], {}, mx.fft.fft2(y), y)
    add("ifft2 s=[5,4]", "ifft2", [c3], {"s": [5, 4], "axes": [-2, -1]}, mx.fft.ifft2(c3, s=[5, 4], axes=[-2, -1]), c3)
    add("fftn all axes", "fftn", [y], {}, mx.fft.fftn(y), y)
    add("fftn axes=[0,2]", "fftn", [y], {"axes": [0, 2]}, mx.fft.fftn(y, axes=[0, 2]), y)
    add("ifftn", "ifftn", [c3], {}, mx.fft.ifftn(c3), c3)
    add("rfft2", "rfft2", [y], {}, mx.fft.rfft2(y), y)
    add("rfftn s=[4,5,8]", "rfftn", [y], {"s": [4, 5, 8], "axes": [0, 1, 2]}, mx.fft.rfftn(y, s=[4, 5, 8], axes=[0, 1, 2]), y)
    add("irfft2", "irfft2", [c3], {}, mx.fft.irfft2(c3), c3)
    add("irfftn s=[3,4,7]", "irfftn", [c3], {"s": [3, 4, 7], "axes": [0, 1, 2]},
        mx.fft.irfftn(c3, s=[3, 4, 7], axes=[0, 1, 2]), c3)


# ----------------------------------------------------------------------------
# linear algebra (mx.linalg on the CPU stream). Inputs are well conditioned, so a float32
# tolerance of 1e-4 relative / absolute holds for any stable LAPACK implementation. Results
# unique only up to sign (eigenvectors, singular vectors) carry "compare" and are checked by
# the Swift test up to those signs and through reconstruction.


def gen_linalg(F):
    L = mx.linalg
    cpu = mx.cpu
    TOL = {"rtol": 1e-4, "atol": 1e-4}

    def wc(n, batch=()):
        a = F.rng.standard_normal(batch + (n, n))
        return a + n * np.eye(n)

    def spd(n, batch=()):
        a = F.rng.standard_normal(batch + (n, n))
        return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)

    for n, batch in [(1, ()), (3, ()), (5, (2,)), (8, ())]:
        a = arr(wc(n, batch), "float32")
        F.add(f"inv {list(a.shape)}", "inv", [a], TOL, L.inv(a, stream=cpu))
        s = arr(spd(n, batch), "float32")
        F.add(f"cholesky {list(s.shape)}", "cholesky", [s], {"upper": False, **TOL}, L.cholesky(s, stream=cpu))
        F.add(f"cholesky upper {list(s.shape)}", "cholesky", [s], {"upper": True, **TOL}, L.cholesky(s, upper=True, stream=cpu))
        c = L.cholesky(s, stream=cpu)
        F.add(f"cholesky_inv {list(s.shape)}", "cholesky_inv", [c], {"upper": False, **TOL}, L.cholesky_inv(c, stream=cpu))
        F.add(f"eigvalsh {list(s.shape)}", "eigvalsh", [s], TOL, L.eigvalsh(s, stream=cpu))
        w, v = L.eigh(s, stream=cpu)
        F.add(f"eigh {list(s.shape)}", "eigh", [s], {"compare": "eigh", **TOL}, expected_list=[w, v])
        if not batch:
            b = arr(F.rng.standard_normal((n,)), "float32")
            F.add(f"solve vector {list(a.shape)}", "solve", [a, b], TOL, L.solve(a, b, stream=cpu))
        bm = arr(F.rng.standard_normal(batch + (n, 2)), "float32")
        F.add(f"solve matrix {list(a.shape)}", "solve", [a, bm], TOL, L.solve(a, bm, stream=cpu))
        t = arr(np.tril(wc(n, batch)), "float32")
        F.add(f"solve_triangular lower {list(t.shape)}", "solve_triangular", [t, bm], {"upper": False, **TOL},
              L.solve_triangular(t, bm, upper=False, stream=cpu))
        tu = arr(np.triu(wc(n, batch)), "float32")
        F.add(f"solve_triangular upper {list(tu.shape)}", "solve_triangular", [tu, bm], {"upper": True, **TOL},
              L.solve_triangular(tu, bm, upper=True, stream=cpu))
        F.add(f"tri_inv {list(t.shape)}", "tri_inv", [t], {"upper": False, **TOL}, L.tri_inv(t, upper=False, stream=cpu))
        F.add(f"det {list(a.shape)}", "det", [a], {"rtol": 1e-4, "atol": 1e-3}, L.det(a, stream=cpu))
        sg, ld = L.slogdet(a, stream=cpu)
        F.add(f"slogdet {list(a.shape)}", "slogdet", [a], TOL, expected_list=[sg, ld])
    for shape in [(4, 3), (3, 5), (4, 4), (2, 3, 2)]:
        a = arr(F.rng.standard_normal(shape), "float32")
        q, r = L.qr(a, stream=cpu)
        F.add(f"qr {list(shape)}", "qr", [a], {"compare": "qr", **TOL}, expected_list=[q, r])
        u, sv, vt = L.svd(a, stream=cpu)
        F.add(f"svd {list(shape)}", "svd", [a], {"compare": "svd", **TOL}, expected_list=[u, sv, vt])
        F.add(f"pinv {list(shape)}", "pinv", [a], TOL, L.pinv(a, stream=cpu))
        p, lo, up = L.lu(a, stream=cpu)
        F.add(f"lu {list(shape)}", "lu", [a], TOL, expected_list=[p, lo, up])
        luf, piv = L.lu_factor(a, stream=cpu)
        F.add(f"lu_factor {list(shape)}", "lu_factor", [a], TOL, expected_list=[luf, piv])
    for n in (3, 5):
        a = arr(F.rng.standard_normal((n, n)), "float32")
        F.add(f"eigvals {n}", "eigvals", [a], {"compare": "eig", **TOL}, L.eigvals(a, stream=cpu))
        w, v = L.eig(a, stream=cpu)
        F.add(f"eig {n}", "eig", [a], {"compare": "eig", **TOL}, expected_list=[w, v])
    x = arr(F.rng.standard_normal((3, 4)), "float32")
    v1 = arr(F.rng.standard_normal((5,)), "float32")
    for ordv in [None, 1.0, 2.0, float("inf"), float("-inf"), 0.0, 3.0, -1.0]:
        F.add(f"norm vector ord={ordv}", "norm", [v1], {"ord": ordv, "axes": None, **TOL}, L.norm(v1, ord=ordv))
        F.add(f"norm rows ord={ordv}", "norm", [x], {"ord": ordv, "axes": [1], "keepdims": True, **TOL},
              L.norm(x, ord=ordv, axis=1, keepdims=True))
    for ordv in [None, "fro", "nuc", 1.0, -1.0, 2.0, -2.0, float("inf"), float("-inf")]:
        F.add(f"norm matrix ord={ordv}", "norm", [x], {"ord": ordv, "axes": [0, 1], **TOL},
              L.norm(x, ord=ordv, axis=(0, 1), stream=cpu))
    y = arr(F.rng.standard_normal((2, 3, 4)), "float32")
    F.add("norm batched fro axes=[2,1]", "norm", [y], {"ord": "fro", "axes": [2, 1], **TOL}, L.norm(y, ord="fro", axis=(2, 1)))
    a3, b3 = arr(F.rng.standard_normal((4, 3)), "float32"), arr(F.rng.standard_normal((4, 3)), "float32")
    F.add("cross", "cross", [a3, b3], {"axis": -1, **TOL}, L.cross(a3, b3))
    F.add("cross axis 0", "cross", [mx.transpose(a3), mx.transpose(b3)], {"axis": 0, **TOL},
          L.cross(mx.transpose(a3), mx.transpose(b3), axis=0))


FILES = [("ops_fast.json", gen_fast), ("ops_quant.json", gen_quant), ("ops_sort.json", gen_sort),
         ("ops_scatter.json", gen_scatter), ("ops_conv.json", gen_conv), ("ops_misc.json", gen_misc),
         ("ops_fft.json", gen_fft), ("ops_linalg.json", gen_linalg)]


def main():
    if mx.__version__ != "0.32.4" or np.__version__ != "2.4.6":
        print(f"warning: pinned mlx==0.32.4 numpy==2.4.6, found mlx=={mx.__version__} numpy=={np.__version__}",
              file=sys.stderr)
    mx.set_default_device(mx.cpu)
    os.makedirs(OUT_DIR, exist_ok=True)
    only = sys.argv[1:]
    for index, (filename, gen) in enumerate(FILES):
        if only and filename not in only:
            continue
        F = Fixture(filename, index + 1)
        gen(F)
        path = F.write()
        print(f"{os.path.relpath(path, ROOT)}: {len(F.cases)} cases, {os.path.getsize(path) / 1024:.0f} KiB")


if __name__ == "__main__":
    main()

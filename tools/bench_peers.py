#!/usr/bin/env python3
"""`make bench`: Zoo beside its Python peers (MLX, NumPy, PyTorch).

Two modes:

  bench_peers.py run --zoo PATH [--rounds 5] [--threads 2] [--only GROUPS]
                     [--peers mlx,numpy,torch] [--quick] [--out bench/results]
      The driver. Starts one long-lived worker per side: the Zoo binary
      (`ZooBench serve`) and one Python process per peer (`bench_peers.py serve
      --peer P`), so no library's thread pool or start-up shares a process with
      another. For each round and each benchmark it asks Zoo, then each peer, for
      one sample (a warm-up call, then timed calls until min_time; the sample is
      their median). The figure reported for a side is the median of its round
      samples. Writes bench/results/<group>.json and bench/results/latest.md and
      prints the table.

  bench_peers.py serve --peer mlx|numpy|torch
      A peer worker: reads "NAME key=value ..." lines on stdin, answers each
      with one line "RESULT {json}" (the same protocol as `ZooBench serve`).

Ratios are speed ratios Zoo/peer = peer time / Zoo time: above 1 means Zoo is
faster, below 1 means the peer is faster.

Threads: OPENBLAS_NUM_THREADS, OMP_NUM_THREADS and MKL_NUM_THREADS are set to
--threads for every side, and the torch worker calls torch.set_num_threads; MLX's
CPU backend uses its own threads. If OPENBLAS_CORETYPE or OPENBLAS_L2_SIZE is set
(some processors here need them for older OpenBLAS builds), both are removed from
the peer workers' environment only (they slow NumPy's bundled current OpenBLAS);
Zoo keeps the environment as it is. The kernel each BLAS runs is recorded
(threadpoolctl for the peers, openblas_get_corename for Zoo's system OpenBLAS).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import platform
import select
import shlex
import statistics
import subprocess
import sys
import time

PEER_NAMES = {"zoo": "Zoo", "mlx": "MLX", "numpy": "NumPy", "torch": "PyTorch"}
BLAS_ENV_QUIRKS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


# ---------------------------------------------------------------------------
# Peer workers
# ---------------------------------------------------------------------------

def _measure(body, warmup=1, min_reps=3, max_reps=30, min_time=0.3):
    """Same policy as ZooBench's `measure`: body() returns the timed seconds."""
    for _ in range(warmup):
        body()
    times = []
    total = 0.0
    while len(times) < max_reps and (len(times) < min_reps or total < min_time):
        t = body()
        times.append(t)
        total += t
    return times


class MLXPeer:
    name = "mlx"

    def __init__(self, threads):
        import mlx.core as mx

        self.mx = mx
        mx.set_default_device(mx.cpu)
        self.cache = {}

    def info(self):
        mx = self.mx
        return {"mlx": mx.__version__, "device": str(mx.default_device())}

    def _input(self, key, shape, low, high, seed):
        k = (key, tuple(shape), seed)
        if k not in self.cache:
            x = self.mx.random.uniform(low, high, shape, key=self.mx.random.key(seed))
            self.mx.eval(x)
            self.cache[k] = x
        return self.cache[k]

    def done(self):
        self.mx.clear_cache()

    def run(self, name, a, pol):
        mx = self.mx
        pc = time.perf_counter
        extra = {}
        if name in ("build_chain", "build_independent", "eval_chain", "eval_each"):
            x = self._input("small", [3], 0, 1, 1)
            y = self._input("small", [3], 0, 1, 2)
            n = int(a.get("n", 200000 if name != "eval_each" else 20000))
            if name == "build_chain":
                teardown = []

                def body():
                    c = x
                    t0 = pc()
                    for _ in range(n):
                        c = c + y
                    t = pc() - t0
                    t1 = pc()
                    c = x
                    teardown.append(pc() - t1)
                    return t

                s = _measure(body, **pol)
                extra["teardown_seconds"] = statistics.median(teardown)
                return s, extra
            if name == "build_independent":
                def body():
                    t0 = pc()
                    for _ in range(n):
                        c = x + y  # noqa: F841
                    return pc() - t0

                return _measure(body, **pol), extra
            if name == "eval_chain":
                def body():
                    c = x
                    for _ in range(n):
                        c = c + y
                    t0 = pc()
                    mx.eval(c)
                    return pc() - t0

                return _measure(body, **pol), extra

            def body():
                t0 = pc()
                for _ in range(n):
                    c = x + y
                    mx.eval(c)
                return pc() - t0

            return _measure(body, **pol), extra

        if name == "gemm":
            n = int(a.get("n", 1024))
            x = self._input("gemm_a", [n, n], -1, 1, 11)
            y = self._input("gemm_b", [n, n], -1, 1, 12)
            op = lambda: x @ y  # noqa: E731
        elif name in ("add", "exp", "sum"):
            n = int(a.get("n", 16777216))
            x = self._input("vec_a", [n], -1, 1, 21)
            y = self._input("vec_b", [n], -1, 1, 22)
            op = {"add": lambda: x + y, "exp": lambda: mx.exp(x), "sum": lambda: mx.sum(x)}[name]
        elif name == "softmax":
            shape = [int(a.get("rows", 4096)), int(a.get("cols", 4096))]
            x = self._input("softmax_x", shape, -4, 4, 31)
            op = lambda: mx.softmax(x, axis=-1)  # noqa: E731
        elif name == "rmsnorm":
            rows, cols = int(a.get("rows", 1)), int(a.get("cols", 576))
            x = self._input("rms_x", [rows, cols], -2, 2, 41)
            w = self._input("rms_w", [cols], 0.5, 1.5, 42)
            op = lambda: mx.fast.rms_norm(x, w, 1e-5)  # noqa: E731
        elif name == "sdpa":
            b, hq, hk, lq, lk, d = (int(a.get(k, v)) for k, v in
                                    (("b", 1), ("hq", 9), ("hk", 3), ("lq", 1), ("lk", 512), ("d", 64)))
            q = self._input("sdpa_q", [b, hq, lq, d], -1, 1, 51)
            k = self._input("sdpa_k", [b, hk, lk, d], -1, 1, 52)
            v = self._input("sdpa_v", [b, hk, lk, d], -1, 1, 53)
            mask = "causal" if a.get("causal") == "1" else None
            op = lambda: mx.fast.scaled_dot_product_attention(q, k, v, scale=d ** -0.5, mask=mask)  # noqa: E731
        elif name in ("qmm", "mm_f32"):
            m, kk, n = int(a.get("m", 1)), int(a.get("k", 576)), int(a.get("n", 1536))
            bits, group = int(a.get("bits", 4)), int(a.get("group", 64))
            x = self._input("qmm_x", [m, kk], -1, 1, 61)
            w = self._input("qmm_w", [n, kk], -1, 1, 62)
            if name == "mm_f32":
                op = lambda: x @ w.T  # noqa: E731
            else:
                key = ("qmm_q", n, kk, bits, group)
                if key not in self.cache:
                    self.cache[key] = mx.quantize(w, group_size=group, bits=bits)
                    mx.eval(self.cache[key])
                wq, sc, bi = self.cache[key]
                op = lambda: mx.quantized_matmul(x, wq, sc, bi, transpose=True,  # noqa: E731
                                                 group_size=group, bits=bits)
        elif name == "conv2d":
            n, hw, cin, cout = (int(a.get(k, v)) for k, v in (("n", 32), ("hw", 64), ("cin", 64), ("cout", 64)))
            x = self._input("conv_x", [n, hw, hw, cin], -1, 1, 71)
            w = self._input("conv_w", [cout, 3, 3, cin], -0.1, 0.1, 72)
            op = lambda: mx.conv2d(x, w, padding=1)  # noqa: E731
        elif name in ("sort", "topk"):
            n, k = int(a.get("n", 1 << 20)), int(a.get("k", 100))
            x = self._input("sort_x", [n], -1, 1, 81)
            op = (lambda: mx.sort(x)) if name == "sort" else (lambda: mx.topk(x, k))
        elif name == "fft":
            x = self._input("fft_x", [int(a.get("n", 1 << 20))], -1, 1, 91)
            op = lambda: mx.fft.fft(x)  # noqa: E731
        else:
            raise ValueError(f"unknown benchmark {name!r}")
        box = [None]

        def body():
            box[0] = None  # free the previous result first, as Zoo's side does
            t0 = pc()
            r = op()
            mx.eval(r)
            t = pc() - t0
            box[0] = r
            return t

        return _measure(body, **pol), extra


class NumpyPeer:
    name = "numpy"

    def __init__(self, threads):
        import numpy as np

        self.np = np
        self.cache = {}

    def info(self):
        out = {"numpy": self.np.__version__}
        try:
            from threadpoolctl import threadpool_info

            out["threadpools"] = threadpool_info()
        except Exception as e:  # threadpoolctl is optional
            out["threadpools"] = f"threadpoolctl unavailable: {e}"
        return out

    def _input(self, key, shape, low, high, seed):
        k = (key, tuple(shape), seed)
        if k not in self.cache:
            rng = self.np.random.default_rng(seed)
            self.cache[k] = rng.uniform(low, high, size=shape).astype(self.np.float32)
        return self.cache[k]

    def done(self):
        pass

    def _softmax(self, x):
        np = self.np
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        e /= e.sum(axis=-1, keepdims=True)
        return e

    def run(self, name, a, pol):
        np = self.np
        pc = time.perf_counter
        if name == "eval_each":
            x = self._input("small", [3], 0, 1, 1)
            y = self._input("small", [3], 0, 1, 2)
            n = int(a.get("n", 20000))

            def body():
                t0 = pc()
                for _ in range(n):
                    c = x + y  # noqa: F841
                return pc() - t0

            return _measure(body, **pol), {}
        if name == "gemm":
            n = int(a.get("n", 1024))
            x = self._input("gemm_a", [n, n], -1, 1, 11)
            y = self._input("gemm_b", [n, n], -1, 1, 12)
            op = lambda: x @ y  # noqa: E731
        elif name in ("add", "exp", "sum"):
            n = int(a.get("n", 16777216))
            x = self._input("vec_a", [n], -1, 1, 21)
            y = self._input("vec_b", [n], -1, 1, 22)
            op = {"add": lambda: x + y, "exp": lambda: np.exp(x), "sum": lambda: x.sum()}[name]
        elif name == "softmax":
            shape = [int(a.get("rows", 4096)), int(a.get("cols", 4096))]
            x = self._input("softmax_x", shape, -4, 4, 31)
            op = lambda: self._softmax(x)  # noqa: E731
        else:
            raise ValueError(f"numpy has no peer for {name!r}")
        box = [None]

        def body():
            box[0] = None
            t0 = pc()
            r = op()
            t = pc() - t0
            box[0] = r
            return t

        return _measure(body, **pol), {}


class TorchPeer:
    name = "torch"

    def __init__(self, threads):
        import torch

        self.torch = torch
        torch.set_num_threads(threads)
        self.cache = {}

    def info(self):
        torch = self.torch
        out = {"torch": torch.__version__, "num_threads": torch.get_num_threads(),
               "parallel_info": torch.__config__.parallel_info()}
        try:
            from threadpoolctl import threadpool_info

            out["threadpools"] = threadpool_info()
        except Exception as e:
            out["threadpools"] = f"threadpoolctl unavailable: {e}"
        return out

    def _input(self, key, shape, low, high, seed):
        k = (key, tuple(shape), seed)
        if k not in self.cache:
            g = self.torch.Generator().manual_seed(seed)
            x = self.torch.rand(shape, generator=g, dtype=self.torch.float32) * (high - low) + low
            self.cache[k] = x.contiguous()
        return self.cache[k]

    def done(self):
        pass

    def run(self, name, a, pol):
        torch = self.torch
        pc = time.perf_counter
        with torch.inference_mode():
            if name == "eval_each":
                x = self._input("small", [3], 0, 1, 1)
                y = self._input("small", [3], 0, 1, 2)
                n = int(a.get("n", 20000))

                def body():
                    t0 = pc()
                    for _ in range(n):
                        c = x + y  # noqa: F841
                    return pc() - t0

                return _measure(body, **pol), {}
            if name == "gemm":
                n = int(a.get("n", 1024))
                x = self._input("gemm_a", [n, n], -1, 1, 11)
                y = self._input("gemm_b", [n, n], -1, 1, 12)
                op = lambda: x @ y  # noqa: E731
            elif name in ("add", "exp", "sum"):
                n = int(a.get("n", 16777216))
                x = self._input("vec_a", [n], -1, 1, 21)
                y = self._input("vec_b", [n], -1, 1, 22)
                op = {"add": lambda: x + y, "exp": lambda: torch.exp(x), "sum": lambda: x.sum()}[name]
            elif name == "softmax":
                shape = [int(a.get("rows", 4096)), int(a.get("cols", 4096))]
                x = self._input("softmax_x", shape, -4, 4, 31)
                op = lambda: torch.softmax(x, dim=-1)  # noqa: E731
            elif name == "rmsnorm":
                rows, cols = int(a.get("rows", 1)), int(a.get("cols", 576))
                x = self._input("rms_x", [rows, cols], -2, 2, 41)
                w = self._input("rms_w", [cols], 0.5, 1.5, 42)
                op = lambda: torch.nn.functional.rms_norm(x, (cols,), w, 1e-5)  # noqa: E731
            elif name == "sdpa":
                b, hq, hk, lq, lk, d = (int(a.get(k, v)) for k, v in
                                        (("b", 1), ("hq", 9), ("hk", 3), ("lq", 1), ("lk", 512), ("d", 64)))
                q = self._input("sdpa_q", [b, hq, lq, d], -1, 1, 51)
                k = self._input("sdpa_k", [b, hk, lk, d], -1, 1, 52)
                v = self._input("sdpa_v", [b, hk, lk, d], -1, 1, 53)
                causal = a.get("causal") == "1"
                if causal and lq != lk:
                    raise ValueError("torch's is_causal aligns top-left; the benchmark uses lq == lk")
                op = lambda: torch.nn.functional.scaled_dot_product_attention(  # noqa: E731
                    q, k, v, is_causal=causal, scale=d ** -0.5, enable_gqa=True)
            elif name in ("qmm", "mm_f32"):
                # PyTorch has no affine group-quantized matmul: both rows run the float32
                # x @ W^T of the same shape.
                m, kk, n = int(a.get("m", 1)), int(a.get("k", 576)), int(a.get("n", 1536))
                x = self._input("qmm_x", [m, kk], -1, 1, 61)
                w = self._input("qmm_w", [n, kk], -1, 1, 62)
                op = lambda: x @ w.T  # noqa: E731
            elif name == "conv2d":
                n, hw, cin, cout = (int(a.get(k, v)) for k, v in (("n", 32), ("hw", 64), ("cin", 64), ("cout", 64)))
                # PyTorch's native layout is NCHW: the same data as channels_last memory format
                x = self._input("conv_x", [n, cin, hw, hw], -1, 1, 71).contiguous(memory_format=torch.channels_last)
                w = self._input("conv_w", [cout, cin, 3, 3], -0.1, 0.1, 72)
                op = lambda: torch.nn.functional.conv2d(x, w, padding=1)  # noqa: E731
            elif name in ("sort", "topk"):
                n, k = int(a.get("n", 1 << 20)), int(a.get("k", 100))
                x = self._input("sort_x", [n], -1, 1, 81)
                op = (lambda: torch.sort(x)) if name == "sort" else (lambda: torch.topk(x, k))
            elif name == "fft":
                x = self._input("fft_x", [int(a.get("n", 1 << 20))], -1, 1, 91)
                op = lambda: torch.fft.fft(x)  # noqa: E731
            else:
                raise ValueError(f"torch has no peer for {name!r}")
            box = [None]

            def body():
                box[0] = None
                t0 = pc()
                r = op()
                t = pc() - t0
                box[0] = r
                return t

            return _measure(body, **pol), {}


PEERS = {"mlx": MLXPeer, "numpy": NumpyPeer, "torch": TorchPeer}


def parse_request(line):
    words = line.split()
    if not words:
        return None, {}
    args = {}
    for w in words[1:]:
        k, _, v = w.partition("=")
        args[k] = v if _ else "1"
    return words[0], args


def policy_from(args):
    pol = {}
    for key, conv in (("warmup", int), ("min_reps", int), ("max_reps", int), ("min_time", float)):
        if key in args:
            pol[key] = conv(args[key])
    return pol


def serve(peer_name, threads):
    peer = PEERS[peer_name](threads)
    print("READY " + json.dumps(peer.info(), default=str), flush=True)
    for line in sys.stdin:
        name, args = parse_request(line)
        if name is None:
            continue
        if name == "quit":
            break
        res = {"side": peer_name, "bench": name, "args": args}
        try:
            samples, extra = peer.run(name, args, policy_from(args))
            res.update(ok=True, seconds=statistics.median(samples), samples=samples, **extra)
        except Exception as e:  # report, keep serving
            res.update(ok=False, error=f"{type(e).__name__}: {e}")
        finally:
            peer.done()
        print("RESULT " + json.dumps(res), flush=True)


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------

class Worker:
    """A long-lived side (Zoo or a peer) answering one request per line."""

    def __init__(self, side, cmd, env, timeout):
        self.side, self.cmd, self.env, self.timeout = side, cmd, env, timeout
        self.proc = None
        self.info = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     env=self.env, text=True, bufsize=1)
        line = self._read_line(startup=True)
        if line is None or not line.startswith("READY"):
            raise RuntimeError(f"{self.side}: worker did not start ({line!r})")
        rest = line[len("READY"):].strip()
        self.info = json.loads(rest) if rest else {}

    def _read_line(self, startup=False):
        deadline = time.monotonic() + (300 if startup else self.timeout)
        want = ("READY",) if startup else ("RESULT ",)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.proc.stdout], [], [], left)
            if not r:
                return None
            line = self.proc.stdout.readline()
            if not line:
                return None  # exited
            line = line.rstrip("\n")
            if line.startswith(want):
                return line
            print(f"  [{self.side}] {line}", file=sys.stderr)

    def request(self, name, args):
        req = " ".join([name] + [f"{k}={v}" for k, v in args.items()])
        try:
            self.proc.stdin.write(req + "\n")
            self.proc.stdin.flush()
            line = self._read_line()
        except (BrokenPipeError, OSError):
            line = None
        if line is None:
            rc = self.proc.poll()
            why = f"exited with status {rc}" if rc is not None else f"no answer in {self.timeout} s"
            self.stop(force=True)
            try:
                self.start()  # fresh worker for the next request
            except Exception as e:
                print(f"  [{self.side}] restart failed: {e}", file=sys.stderr)
            return {"ok": False, "error": f"{name}: worker {why}", "timed_out": rc is None}
        return json.loads(line[len("RESULT "):])

    def stop(self, force=False):
        if self.proc is None:
            return
        if not force and self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=30)
            except Exception:
                pass
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


def plan(quick):
    """(group, bench, args, peers, unit, work) — work is what the unit counts per call."""
    if quick:
        n_small, n_eval, g_sizes, n_vec, sm = 20000, 2000, (256, 512), 1 << 20, (1024, 1024)
    else:
        n_small, n_eval, g_sizes, n_vec, sm = 200000, 20000, (1024, 2048), 16 << 20, (4096, 4096)
    P = []
    P.append(("overhead", "build_chain", {"n": n_small}, ["mlx"], "ns/op", n_small))
    P.append(("overhead", "build_independent", {"n": n_small}, ["mlx"], "ns/op", n_small))
    P.append(("overhead", "eval_chain", {"n": n_small}, ["mlx"], "ns/op", n_small))
    P.append(("overhead", "eval_each", {"n": n_eval}, ["mlx", "numpy", "torch"], "ns/op", n_eval))
    for n in g_sizes:
        P.append(("gemm", "gemm", {"n": n}, ["numpy", "torch", "mlx"], "GFLOP/s", 2.0 * n ** 3))
    P.append(("elementwise", "add", {"n": n_vec}, ["mlx", "numpy", "torch"], "GB/s", 12.0 * n_vec))
    P.append(("elementwise", "exp", {"n": n_vec}, ["mlx", "numpy", "torch"], "GB/s", 8.0 * n_vec))
    P.append(("elementwise", "sum", {"n": n_vec}, ["mlx", "numpy", "torch"], "GB/s", 4.0 * n_vec))
    P.append(("elementwise", "softmax", {"rows": sm[0], "cols": sm[1]}, ["mlx", "numpy", "torch"],
              "GB/s", 8.0 * sm[0] * sm[1]))
    # Fused ops at SmolLM2-135M shapes (hidden 576, 9 query heads, 3 KV heads, head dim 64).
    for rows in (1, 128):
        P.append(("fast", "rmsnorm", {"rows": rows, "cols": 576}, ["mlx", "torch"], "GB/s", 12.0 * rows * 576))
    lk = 128 if quick else 512
    for lq, causal in ((1, "0"), (lk, "1")):
        a = {"b": 1, "hq": 9, "hk": 3, "lq": lq, "lk": lk, "d": 64, "causal": causal}
        flops = 4.0 * 9 * lq * lk * 64 * (0.5 if causal == "1" else 1.0)
        P.append(("fast", "sdpa", a, ["mlx", "torch"], "GFLOP/s", flops))
    # Affine-quantized matmul (x @ W^T, W [1536, 576]) beside MLX's quantized_matmul and a
    # float32 matmul of the same shape (PyTorch's column for the qmm rows is that float32 matmul).
    for m in (1, 128):
        for bits in (4, 8):
            P.append(("quant", "qmm", {"m": m, "k": 576, "n": 1536, "bits": bits, "group": 64},
                      ["mlx", "torch"], "GFLOP/s", 2.0 * m * 576 * 1536))
        P.append(("quant", "mm_f32", {"m": m, "k": 576, "n": 1536}, ["mlx", "torch"], "GFLOP/s",
                  2.0 * m * 576 * 1536))
    # Convolution, sorting and selection (issue 3's rows).
    cn = 4 if quick else 32
    P.append(("conv", "conv2d", {"n": cn, "hw": 64, "cin": 64, "cout": 64}, ["mlx", "torch"], "GFLOP/s",
              2.0 * cn * 64 * 64 * 64 * 64 * 9))
    sn = 1 << (16 if quick else 20)
    P.append(("sort", "sort", {"n": sn}, ["mlx", "torch"], "GB/s", 8.0 * sn))
    P.append(("sort", "topk", {"n": sn, "k": 100}, ["mlx", "torch"], "GB/s", 4.0 * sn))
    fn = 1 << (16 if quick else 20)
    P.append(("fft", "fft", {"n": fn}, ["mlx", "torch"], "GFLOP/s", 5.0 * fn * math.log2(fn)))
    return P


def label(bench, args):
    if bench == "gemm":
        return f"gemm {args['n']}x{args['n']}"
    if bench == "softmax":
        return f"softmax [{args['rows']},{args['cols']}] axis -1"
    if bench == "rmsnorm":
        return f"rmsNorm [{args['rows']},{args['cols']}]"
    if bench == "sdpa":
        kind = "decode" if args["lq"] == 1 else "prefill causal"
        return (f"sdpa {kind} q[1,{args['hq']},{args['lq']},{args['d']}] "
                f"kv[1,{args['hk']},{args['lk']},{args['d']}]")
    if bench == "qmm":
        kind = "GEMV" if args["m"] == 1 else "GEMM"
        return f"qmm {args['bits']}-bit {kind} [{args['m']},{args['k']}]x[{args['k']},{args['n']}]"
    if bench == "mm_f32":
        kind = "GEMV" if args["m"] == 1 else "GEMM"
        return f"float32 {kind} [{args['m']},{args['k']}]x[{args['k']},{args['n']}]"
    if bench == "conv2d":
        return f"conv2d [{args['n']},{args['hw']},{args['hw']},{args['cin']}] 3x3x{args['cout']}"
    if bench == "fft":
        return f"fft of 2^{int(math.log2(args['n']))} float32 (5 n log2 n flops)"
    if bench in ("sort", "topk"):
        m = args["n"] / (1 << 20)
        size = f"{m:g}M" if m >= 1 else str(args["n"])
        return f"sort {size} float32" if bench == "sort" else f"topK k={args['k']} of {size} float32"
    n = args.get("n")
    if bench in ("add", "exp", "sum"):
        return f"{bench} {n // (1 << 20)}M" if n % (1 << 20) == 0 else f"{bench} {n}"
    names = {"build_chain": f"build c=c+b x{n} (lazy)",
             "build_independent": f"build a+b x{n} (lazy)",
             "eval_chain": f"eval chain of {n} adds",
             "eval_each": f"a+b then eval x{n}"}
    return names.get(bench, bench)


def metric(unit, work, seconds):
    if seconds is None or seconds <= 0:
        return None
    if unit == "ns/op":
        return seconds / work * 1e9
    if unit == "GFLOP/s":
        return work / seconds / 1e9
    if unit == "GB/s":
        return work / seconds / 1e9
    return seconds


def sh(cmd, env=None):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, env=env, timeout=60).stdout.strip()
    except Exception:
        return ""


def zoo_blas_info(zoo, env):
    """Which OpenBLAS Zoo links and which kernel it picks under Zoo's environment."""
    lib = ""
    for line in sh(f"ldd {shlex.quote(zoo)}").splitlines():
        if "openblas" in line or "libblas" in line:
            parts = line.split("=>")
            if len(parts) == 2:
                lib = parts[1].split("(")[0].strip()
                break
    if not lib:
        return {"library": None}
    code = ("import ctypes,sys; l=ctypes.CDLL(sys.argv[1]); "
            "l.openblas_get_corename.restype=ctypes.c_char_p; "
            "l.openblas_get_config.restype=ctypes.c_char_p; "
            "print(l.openblas_get_corename().decode()); print(l.openblas_get_config().decode()); "
            "print(l.openblas_get_num_threads())")
    out = sh(f"{shlex.quote(sys.executable)} -c {shlex.quote(code)} {shlex.quote(lib)}", env=env).splitlines()
    info = {"library": os.path.realpath(lib)}
    if len(out) >= 3:
        info.update(corename=out[0], config=out[1], num_threads=int(out[2]))
    return info


def numpy_kernel(info):
    tp = info.get("threadpools") if isinstance(info, dict) else None
    if isinstance(tp, list):
        for p in tp:
            if p.get("internal_api") == "openblas":
                return f"{p.get('prefix')} {p.get('version')} {p.get('architecture')}, {p.get('num_threads')} threads"
    return "unknown (threadpoolctl missing)"


def fmt(v, unit):
    if v is None:
        return "—"
    if unit == "ns/op":
        return f"{v:,.0f}"
    return f"{v:,.1f}" if v < 1000 else f"{v:,.0f}"


def fmt_ratio(r):
    return "—" if r is None else f"{r:.2f}×"


def run(opts):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out_dir = opts.out or os.path.join(root, "bench", "results")
    threads = opts.threads
    peers_wanted = [p.strip() for p in opts.peers.split(",") if p.strip()]
    groups_wanted = set(g.strip() for g in opts.only.split(",")) if opts.only else None
    benches = [b for b in plan(opts.quick) if groups_wanted is None or b[0] in groups_wanted]
    if not benches:
        sys.exit(f"no benchmark in groups {sorted(groups_wanted)}")

    base = dict(os.environ)
    for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        base[k] = str(threads)
    quirks = {k: os.environ[k] for k in BLAS_ENV_QUIRKS if k in os.environ}
    peer_env = dict(base)
    for k in BLAS_ENV_QUIRKS:
        peer_env.pop(k, None)  # both together, peers only
    env_note = (f"{', '.join(f'{k}={v}' for k, v in quirks.items())} kept for Zoo, unset for the peers"
                if quirks else "OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE not set")

    used_peers = [p for p in peers_wanted if any(p in b[3] for b in benches)]
    print(f"zoo bench: {len(benches)} benchmarks x {opts.rounds} rounds, threads={threads}, "
          f"peers={','.join(used_peers)}; {env_note}", flush=True)
    t_start = time.monotonic()
    load_start = os.getloadavg()
    workers = {"zoo": Worker("zoo", [opts.zoo, "serve"], base, opts.timeout)}
    for p in used_peers:
        workers[p] = Worker(p, [sys.executable, os.path.abspath(__file__), "serve", "--peer", p,
                                "--threads", str(threads)], peer_env, opts.timeout)

    pol = {"warmup": 1, "min_reps": 3, "max_reps": 30, "min_time": opts.min_time}
    # records[(bench index)][side] = list of per-round results
    records = [{s: [] for s in ["zoo"] + [p for p in b[3] if p in workers]} for b in benches]
    gave_up = {}
    try:
        for rnd in range(opts.rounds):
            for i, (group, bench, args, peers, unit, work) in enumerate(benches):
                sides = ["zoo"] + [p for p in peers if p in workers]
                line = [f"round {rnd + 1}/{opts.rounds} {label(bench, args):34s}"]
                for s in sides:
                    if (i, s) in gave_up:
                        res = {"ok": False, "error": gave_up[(i, s)], "skipped": True}
                        records[i][s].append(res)
                        line.append(f"{PEER_NAMES[s]} skipped")
                        continue
                    # Let the previous side's thread pools go idle first (OpenBLAS and OpenMP
                    # workers keep spinning for a while after their last call and would take
                    # cores from whichever side runs next).
                    time.sleep(opts.settle)
                    res = workers[s].request(bench, {**args, **pol})
                    if res.get("timed_out"):
                        # One sample past the limit: later rounds would only repeat the wait.
                        gave_up[(i, s)] = f"skipped after a sample took over {opts.timeout:.0f} s"
                    records[i][s].append(res)
                    v = metric(unit, work, res.get("seconds")) if res.get("ok") else None
                    line.append(f"{PEER_NAMES[s]} {fmt(v, unit)}" if v is not None else f"{PEER_NAMES[s]} FAIL")
                    if not res.get("ok"):
                        print(f"  [{s}] {bench}: {res.get('error')}", file=sys.stderr)
                print("  ".join(line), flush=True)
    finally:
        infos = {s: w.info for s, w in workers.items()}
        for w in workers.values():
            w.stop()

    elapsed = time.monotonic() - t_start
    meta = {
        "timestamp": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "commit": sh(f"git -C {shlex.quote(root)} rev-parse --short HEAD") or None,
        "dirty": bool(sh(f"git -C {shlex.quote(root)} status --porcelain --untracked-files=no")),
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "platform": platform.platform(),
                    "loadavg_start": load_start, "loadavg_end": os.getloadavg()},
        "threads": threads, "rounds": opts.rounds, "quick": opts.quick,
        "policy": pol, "env_note": env_note, "blas_env_quirks": quirks,
        "zoo_blas": zoo_blas_info(opts.zoo, base),
        "peers": {s: infos.get(s) for s in used_peers},
        "elapsed_seconds": round(elapsed, 1),
        "ratio_definition": "speed ratio Zoo/peer = peer seconds / Zoo seconds; >1 means Zoo is faster",
    }

    rows = []
    for i, (group, bench, args, peers, unit, work) in enumerate(benches):
        sides = {}
        for s, rs in records[i].items():
            good = [r for r in rs if r.get("ok")]
            secs = [r["seconds"] for r in good]
            entry = {"rounds_ok": len(good), "rounds": len(rs),
                     "round_seconds": secs,
                     "round_samples": [r.get("samples") for r in good],
                     "errors": sorted({r.get("error", "") for r in rs if not r.get("ok")})}
            if secs:
                med = statistics.median(secs)
                entry.update(seconds=med, min_seconds=min(secs), max_seconds=max(secs),
                             value=metric(unit, work, med))
                extras = {k: v for r in good for k, v in r.items()
                          if k not in ("side", "bench", "args", "ok", "seconds", "samples")}
                if "check" in extras:
                    extras["check"] = all(r.get("check", True) for r in good)
                if "teardown_seconds" in extras:
                    extras["teardown_seconds"] = statistics.median(r["teardown_seconds"] for r in good)
                entry.update(extras)
            sides[s] = entry
        zs = sides.get("zoo", {}).get("seconds")
        ratios = {}
        for s, e in sides.items():
            if s != "zoo":
                ratios[s] = (e["seconds"] / zs) if (zs and e.get("seconds")) else None
        peer_secs = {s: e["seconds"] for s, e in sides.items() if s != "zoo" and e.get("seconds")}
        best = min(peer_secs, key=peer_secs.get) if peer_secs else None
        rows.append({"group": group, "bench": bench, "label": label(bench, args), "args": args,
                     "unit": unit, "work_per_call": work, "sides": sides, "ratio_zoo_over_peer": ratios,
                     "fastest_peer": best, "ratio_vs_fastest_peer": ratios.get(best) if best else None})

    table = render_table(rows, meta)
    print()
    print(table)
    if opts.quick and not opts.out:
        print("(quick run: no files written; pass --out DIR to keep them)")
        return rows
    os.makedirs(out_dir, exist_ok=True)
    for g in dict.fromkeys(r["group"] for r in rows):
        path = os.path.join(out_dir, f"{g}.json")
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"group": g, **meta, "results": [r for r in rows if r["group"] == g]}, f, indent=2, default=str)
            f.write("\n")
        os.replace(tmp, path)
    with open(os.path.join(out_dir, "latest.md"), "w") as f:
        f.write(table + "\n")
    print(f"\nwrote {out_dir}/{{{','.join(dict.fromkeys(r['group'] for r in rows))}}}.json and latest.md "
          f"({elapsed:.0f} s)")
    return rows


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def render_table(rows, meta):
    cols = ["zoo", "mlx", "numpy", "torch"]
    out = []
    out.append(f"# Zoo benchmarks ({meta['timestamp']}, commit {meta['commit']}{' dirty' if meta['dirty'] else ''})")
    out.append("")
    out.append(f"{meta['machine']['cpu']}, {meta['machine']['cores']} cores; {meta['threads']} threads for "
               f"OpenBLAS/OpenMP/torch; {meta['rounds']} rounds alternating Zoo then each peer; "
               f"figures are medians over rounds. Load average {meta['machine']['loadavg_start'][0]:.2f} at start, "
               f"{meta['machine']['loadavg_end'][0]:.2f} at end.")
    out.append("")
    out.append("Ratio = speed of Zoo / speed of the peer (peer time ÷ Zoo time): **>1 means Zoo is faster**.")
    out.append("")
    hdr = ["Benchmark", "Unit"] + [PEER_NAMES[c] for c in cols] + \
          [f"Zoo/{PEER_NAMES[c]}" for c in cols[1:]] + ["Zoo/fastest peer"]
    out.append("| " + " | ".join(hdr) + " |")
    out.append("|" + "|".join(["---"] * 2 + ["---:"] * (len(hdr) - 2)) + "|")
    for r in rows:
        cells = [r["label"], r["unit"]]
        for c in cols:
            e = r["sides"].get(c)
            v = fmt(e.get("value"), r["unit"]) if e else ""
            if e and e.get("check") is False:
                v += " (WRONG)"
            if e and e.get("rounds_ok", 0) < e.get("rounds", 0):
                timeouts = any("no answer" in x or "skipped" in x for x in e.get("errors", []))
                what = "timed out" if timeouts else "failed"
                v = (f"{what} ({e['rounds'] - e['rounds_ok']}/{e['rounds']} rounds)" if e.get("value") is None
                     else v + f" ({e['rounds'] - e['rounds_ok']} {what})")
            cells.append(v if e else "")
        for c in cols[1:]:
            cells.append(fmt_ratio(r["ratio_zoo_over_peer"].get(c)) if c in r["ratio_zoo_over_peer"] else "")
        best = r["fastest_peer"]
        cells.append(f"{fmt_ratio(r['ratio_vs_fastest_peer'])} ({PEER_NAMES[best]})" if best else "—")
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    out.append("Milliseconds per call (median over rounds; for ns/op rows, the whole loop):")
    out.append("")
    out.append("| Benchmark | " + " | ".join(PEER_NAMES[c] for c in cols) + " |")
    out.append("|---|" + "|".join(["---:"] * len(cols)) + "|")
    for r in rows:
        cells = [r["label"]]
        for c in cols:
            e = r["sides"].get(c)
            cells.append(f"{e['seconds'] * 1e3:,.2f}" if e and e.get("seconds") else ("—" if e else ""))
        out.append("| " + " | ".join(cells) + " |")
    extras = []
    for r in rows:
        for s, e in r["sides"].items():
            if "teardown_seconds" in e:
                extras.append(f"{PEER_NAMES[s]} frees the {r['args']['n']}-node chain in "
                              f"{e['teardown_seconds'] * 1e3:.1f} ms ({r['label']}, not in the figure)")
            for err in e.get("errors", []):
                extras.append(f"{PEER_NAMES[s]} {r['label']}: {err}")
    out.append("")
    out.append("Notes:")
    out.append("")
    for x in extras:
        out.append(f"- {x}")
    out.append(f"- BLAS environment: {meta['env_note']}.")
    zb = meta.get("zoo_blas") or {}
    if zb.get("library"):
        out.append("- Zoo's float32 GEMM rows run Zoo's own packed kernel on its thread pool (`zoo_sgemm`, "
                   "tasks claimed dynamically); OpenBLAS serves Zoo's float64/complex and small products.")
        out.append(f"- Zoo's OpenBLAS: {zb['library']} kernel {zb.get('corename')} "
                   f"({zb.get('num_threads')} threads).")
    p = meta["peers"]
    if p.get("numpy"):
        out.append(f"- NumPy {p['numpy'].get('numpy')}: {numpy_kernel(p['numpy'])}.")
    if p.get("torch"):
        out.append(f"- PyTorch {p['torch'].get('torch')}: {p['torch'].get('num_threads')} threads.")
    if p.get("mlx"):
        out.append(f"- MLX {p['mlx'].get('mlx')} on {p['mlx'].get('device')} (its own CPU threads).")
    out.append("- NumPy and PyTorch allocate each 16M/4096² output afresh (new pages from the OS every call); "
               "Zoo and MLX reuse buffers from their caches.")
    out.append("- MLX's Linux CPU wheel (mlx-cpu) links the reference BLAS it bundles, hence its slow GEMM.")
    out.append("- NumPy and PyTorch are eager: their 'a+b then eval' is the eager op alone. "
               "MLX figures include the Python interpreter's cost per op, as a Python user sees it.")
    if any(r["bench"] == "qmm" for r in rows):
        out.append("- qmm rows: PyTorch has no affine group-quantized matmul, so its column there is the float32 "
                   "x @ W^T of the same shape (the float32 GEMV/GEMM rows show every side's float32 figure).")
    out.append(f"- Total run time {meta['elapsed_seconds']:.0f} s.")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve", help="peer worker (used by the driver)")
    s.add_argument("--peer", choices=sorted(PEERS), required=True)
    s.add_argument("--threads", type=int, default=2)
    r = sub.add_parser("run", help="run the benchmarks beside the peers")
    r.add_argument("--zoo", required=True, help="path to the ZooBench binary")
    r.add_argument("--rounds", type=int, default=5)
    r.add_argument("--threads", type=int, default=int(os.environ.get("BENCH_THREADS", "2")))
    r.add_argument("--only", default="", help="comma-separated groups: overhead,gemm,elementwise")
    r.add_argument("--settle", type=float, default=0.3,
                   help="seconds of idleness before each side's measurement (spinning peer threads go quiet)")
    r.add_argument("--peers", default="mlx,numpy,torch")
    r.add_argument("--min-time", type=float, default=0.3, help="timed seconds per sample (at least 3 calls)")
    r.add_argument("--timeout", type=float, default=60,
                   help="seconds one sample may take; a side past it is skipped for that benchmark")
    r.add_argument("--quick", action="store_true", help="small sizes, for a smoke test; writes nothing by default")
    r.add_argument("--out", default=None, help="results folder (default bench/results)")
    opts = ap.parse_args()
    if opts.cmd == "serve":
        serve(opts.peer, opts.threads)
    else:
        run(opts)


if __name__ == "__main__":
    main()

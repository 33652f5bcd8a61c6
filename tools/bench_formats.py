#!/usr/bin/env python3
"""Formats benchmarks for `make bench`: Zoo beside the reference Python implementations.

  bench_formats.py --zoo ZooBench --model SmolLM2.gguf [--rounds 5] [--out bench/results]

  st_read   open a 500 MB safetensors file and reduce every tensor (every byte read):
            Zoo (memory-mapped, SafeTensorsFile + sum) vs safetensors.numpy.load_file + numpy sum.
  gguf_q8   convert the SmolLM2 Q4_1 GGUF to Q8_0 (dequantize, quantize, write with metadata):
            `zoo convert --quantize q8_0` code path vs gguf-py (GGUFReader, quants, GGUFWriter).
            Zoo flushes and fsyncs its output before renaming it into place; gguf-py does not.

Rounds alternate Zoo and the peer; each sample is the median of a few timed calls after a
warm-up; the figure reported is the median of the round samples, ratio = peer time / Zoo time
(above 1: Zoo faster). Writes bench/results/formats.json and formats.md.
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np


def make_big_safetensors(path, mb=500):
    if os.path.exists(path) and os.path.getsize(path) > mb * 1e6 * 0.99:
        return
    from safetensors.numpy import save_file
    rng = np.random.default_rng(0)
    tensors, total, i = {}, 0, 0
    while total < mb * 1e6:
        shape = (1024, 1280) if i % 3 else (4096, 1024)
        a = rng.standard_normal(shape, dtype=np.float32)
        if i % 4 == 3:
            a = a.astype(np.float16)
        tensors[f"layer.{i}.weight"] = a
        total += a.nbytes
        i += 1
    os.makedirs(os.path.dirname(path), exist_ok=True)
    save_file(tensors, path + ".tmp")
    os.replace(path + ".tmp", path)


def peer_st_read(path):
    from safetensors.numpy import load_file
    t0 = time.perf_counter()
    d = load_file(path)
    s = sum(float(v.sum(dtype=np.float32)) for v in d.values())
    return time.perf_counter() - t0, s


def peer_gguf_q8(src, dst):
    import gguf
    t0 = time.perf_counter()
    r = gguf.GGUFReader(src)
    arch = r.fields["general.architecture"].contents()
    w = gguf.GGUFWriter(dst, arch=arch)
    for f in r.fields.values():
        if f.name.startswith("GGUF.") or f.name == "general.architecture":
            continue
        vt = f.types[0]
        sub = f.types[-1] if vt == gguf.GGUFValueType.ARRAY else None
        w.add_key_value(f.name, f.contents(), vt, sub_type=sub)
    Q = gguf.GGMLQuantizationType
    for t in r.tensors:
        shape = [int(x) for x in reversed(t.shape)]
        if t.tensor_type in (Q.F32, Q.F16) or len(shape) < 2:
            w.add_tensor(t.name, np.asarray(t.data).reshape(shape) if t.tensor_type in (Q.F32, Q.F16) else t.data, raw_dtype=t.tensor_type)
        elif t.tensor_type == Q.Q8_0:
            w.add_tensor(t.name, t.data, raw_dtype=Q.Q8_0)
        else:
            v = gguf.quants.dequantize(t.data, t.tensor_type).reshape(shape)
            w.add_tensor(t.name, gguf.quants.quantize(v, Q.Q8_0), raw_dtype=Q.Q8_0)
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
    return time.perf_counter() - t0


def zoo_sample(zoo, name, **args):
    cmd = [zoo, name] + [f"{k}={v}" for k, v in args.items()] + ["min_time=0", "min_reps=1", "max_reps=1", "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = [l for l in out.splitlines() if l.startswith("{")][-1]
    r = json.loads(line)
    if not r.get("ok"):
        raise SystemExit(f"Zoo {name} failed: {r}")
    return r["seconds"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zoo", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--out", default="bench/results")
    ap.add_argument("--data", default=".build/bench-data")
    o = ap.parse_args()
    big = os.path.join(o.data, "big.safetensors")
    make_big_safetensors(big)
    size = os.path.getsize(big)
    q8_zoo, q8_peer = os.path.join(o.data, "zoo-q8.gguf"), os.path.join(o.data, "ggufpy-q8.gguf")
    rows = []
    for name, zoo_args, peer in [
        ("st_read", {"path": big}, lambda: peer_st_read(big)[0]),
        ("gguf_q8", {"in": o.model, "out": q8_zoo}, lambda: peer_gguf_q8(o.model, q8_peer)),
    ]:
        zoo_args_ = dict(zoo_args)
        zoo_sample(o.zoo, name, **zoo_args_)  # warm-up (page cache, first-touch)
        peer()
        zs, ps = [], []
        for _ in range(o.rounds):
            zs.append(zoo_sample(o.zoo, name, **zoo_args_))
            ps.append(peer())
        z, p = statistics.median(zs), statistics.median(ps)
        rows.append({"bench": name, "zoo_s": z, "peer_s": p, "ratio": p / z,
                     "peer": "safetensors+numpy" if name == "st_read" else "gguf-py",
                     "zoo_samples": zs, "peer_samples": ps})
        print(f"{name:8s} Zoo {z:.3f} s  {rows[-1]['peer']} {p:.3f} s  ratio {p / z:.2f}x", flush=True)
    os.makedirs(o.out, exist_ok=True)
    meta = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "file_bytes": size, "model": os.path.basename(o.model), "rounds": o.rounds}
    with open(os.path.join(o.out, "formats.json"), "w") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=1)
    with open(os.path.join(o.out, "formats.md"), "w") as f:
        f.write(f"# Formats benchmarks ({meta['date']}, median of {o.rounds} rounds)\n\n")
        f.write("| benchmark | Zoo | peer | peer time | ratio (peer/Zoo) |\n|---|---|---|---|---|\n")
        for r in rows:
            desc = f"read + sum all tensors of a {size / 1e6:.0f} MB safetensors" if r["bench"] == "st_read" else f"convert {meta['model']} to Q8_0"
            f.write(f"| {desc} | {r['zoo_s']:.3f} s | {r['peer']} | {r['peer_s']:.3f} s | {r['ratio']:.2f}x |\n")


if __name__ == "__main__":
    sys.exit(main())

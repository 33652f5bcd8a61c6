#!/usr/bin/env python3
"""Reference files and expected values for the Formats tests.

Every file under fixtures/formats/ is written by a reference implementation (NumPy, MLX,
safetensors, gguf-py, PyTorch for the float8 dtypes); expected.json holds what those
implementations read back, as hex of little-endian C-order bytes so the Swift tests need no
Python and compare bit for bit. Pinned versions: tools/requirements-fixtures.txt.
"""
import json
import os
import struct
import sys

import numpy as np
import gguf
import mlx.core as mx
from safetensors.numpy import save_file as np_save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "formats")
rng = np.random.default_rng(20261126)
expected = {"npy": {}, "npz": {}, "safetensors": {}, "gguf": {}, "encode": {}, "mlx_gguf": {}, "mlx_quantize": []}


def hexbytes(a):
    a = np.ascontiguousarray(a)
    if a.dtype.byteorder == ">":
        a = a.astype(a.dtype.newbyteorder("<"))
    return a.tobytes().hex()


def entry(a, dtype_name=None):
    return {"dtype": dtype_name or a.dtype.name, "shape": list(a.shape), "hex": hexbytes(a)}


def sample(dtype, shape):
    if dtype == np.bool_:
        return rng.random(shape) > 0.5
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
    if np.issubdtype(dtype, np.complexfloating):
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    return (rng.standard_normal(shape) * 3).astype(dtype)


def gen_npy():
    d = os.path.join(OUT, "npy")
    os.makedirs(d, exist_ok=True)
    dtypes = [np.bool_, np.uint8, np.uint16, np.uint32, np.uint64, np.int8, np.int16, np.int32, np.int64,
              np.float16, np.float32, np.float64, np.complex64]
    shapes = [(), (5,), (3, 4), (2, 3, 5), (0, 3)]
    for i, dt in enumerate(dtypes):
        shape = shapes[i % len(shapes)]
        a = sample(dt, shape)
        name = f"{np.dtype(dt).name}.npy"
        np.save(os.path.join(d, name), a)
        expected["npy"][name] = entry(a)
    # Fortran order, big-endian, header versions 2 and 3.
    a = sample(np.float32, (3, 4, 2))
    np.save(os.path.join(d, "fortran.npy"), np.asfortranarray(a))
    expected["npy"]["fortran.npy"] = entry(a)
    a = sample(np.float32, (4, 3)).astype(">f4")
    np.save(os.path.join(d, "bigendian_f4.npy"), a)
    expected["npy"]["bigendian_f4.npy"] = entry(a.astype("<f4"), "float32")
    a = sample(np.int16, (7,)).astype(">i2")
    np.save(os.path.join(d, "bigendian_i2.npy"), a)
    expected["npy"]["bigendian_i2.npy"] = entry(a.astype("<i2"), "int16")
    for version in [(2, 0), (3, 0)]:
        a = sample(np.int32, (2, 6))
        name = f"version{version[0]}.npy"
        with open(os.path.join(d, name), "wb") as f:
            np.lib.format.write_array(f, a, version=version)
        expected["npy"][name] = entry(a)
    # MLX writes bfloat16 as two raw bytes per value ('<V2').
    b = mx.array(rng.standard_normal((3, 5)).astype(np.float32)).astype(mx.bfloat16)
    mx.save(os.path.join(d, "mlx_bfloat16.npy"), b)
    raw = np.array(b.astype(mx.float32)).view(np.uint32) >> 16
    expected["npy"]["mlx_bfloat16.npy"] = {"dtype": "bfloat16", "shape": [3, 5], "hex": raw.astype("<u2").tobytes().hex()}
    # NPZ, stored and deflated.
    arrays = {"weight": sample(np.float32, (4, 8)), "bias": sample(np.float16, (8,)), "ids": sample(np.int64, (3,)),
              "mask": sample(np.bool_, (2, 2))}
    np.savez(os.path.join(d, "stored.npz"), **arrays)
    np.savez_compressed(os.path.join(d, "deflated.npz"), **arrays)
    expected["npz"]["stored.npz"] = {k: entry(v) for k, v in arrays.items()}
    expected["npz"]["deflated.npz"] = {k: entry(v) for k, v in arrays.items()}


def gen_safetensors():
    d = os.path.join(OUT, "safetensors")
    os.makedirs(d, exist_ok=True)
    tensors = {}
    for dt in [np.bool_, np.uint8, np.int8, np.uint16, np.int16, np.float16, np.uint32, np.int32, np.float32,
               np.uint64, np.int64, np.float64]:
        tensors[f"t_{np.dtype(dt).name}"] = sample(dt, (3, 5))
    tensors["empty"] = np.zeros((0, 4), np.float32)
    tensors["scalar"] = np.array(2.5, np.float32)
    np_save_file(tensors, os.path.join(d, "numpy_dtypes.safetensors"), metadata={"format": "np", "note": "zoo fixture"})
    expected["safetensors"]["numpy_dtypes.safetensors"] = {
        "metadata": {"format": "np", "note": "zoo fixture"}, "tensors": {k: entry(v) for k, v in tensors.items()}}
    # bfloat16 and the float8 types need PyTorch.
    import torch
    from safetensors.torch import save_file as torch_save_file
    base = torch.tensor(rng.standard_normal((4, 6)).astype(np.float32) * 4)
    tt = {"bf16": base.to(torch.bfloat16), "f8_e4m3": base.to(torch.float8_e4m3fn), "f8_e5m2": base.to(torch.float8_e5m2)}
    # Every float8 bit pattern once (E4M3 NaN included), to check the widening exhaustively.
    allbits = torch.arange(256, dtype=torch.uint8)
    tt["all_e4m3"] = allbits.view(torch.float8_e4m3fn)
    tt["all_e5m2"] = allbits.clone().view(torch.float8_e5m2)
    torch_save_file(tt, os.path.join(d, "torch_low_precision.safetensors"))
    exp = {}
    exp["bf16"] = {"dtype": "bfloat16", "shape": [4, 6], "hex": tt["bf16"].view(torch.int16).numpy().astype("<i2").tobytes().hex()}
    for k in ["f8_e4m3", "f8_e5m2", "all_e4m3", "all_e5m2"]:
        v = tt[k].to(torch.float16).numpy()
        exp[k] = entry(v, "float16")
    expected["safetensors"]["torch_low_precision.safetensors"] = {"metadata": {}, "tensors": exp}
    # A sharded checkpoint: two shards and an index, as transformers writes them.
    shard_a = {"model.embed.weight": sample(np.float32, (6, 4)), "model.layers.0.w": sample(np.float16, (4, 4))}
    shard_b = {"model.layers.1.w": sample(np.float16, (4, 4)), "lm_head.weight": sample(np.float32, (6, 4))}
    np_save_file(shard_a, os.path.join(d, "model-00001-of-00002.safetensors"), metadata={"format": "pt"})
    np_save_file(shard_b, os.path.join(d, "model-00002-of-00002.safetensors"), metadata={"format": "pt"})
    wm = {k: "model-00001-of-00002.safetensors" for k in shard_a} | {k: "model-00002-of-00002.safetensors" for k in shard_b}
    with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": sum(v.nbytes for v in (shard_a | shard_b).values())}, "weight_map": wm}, f, indent=2)
    expected["safetensors"]["model.safetensors.index.json"] = {
        "metadata": {"format": "pt", "total_size": str(sum(v.nbytes for v in (shard_a | shard_b).values()))},
        "tensors": {k: entry(v) for k, v in (shard_a | shard_b).items()}}


def random_kquant_blocks(qtype, n_blocks):
    """Random block bytes with finite float16 scales at the positions each layout keeps them."""
    bs, ts = gguf.GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, size=(n_blocks, ts), dtype=np.uint8)
    def put_f16(off):
        vals = (rng.standard_normal(n_blocks) * 0.01).astype(np.float16)
        raw[:, off:off + 2] = vals.view(np.uint8).reshape(n_blocks, 2)
    T = gguf.GGMLQuantizationType
    if qtype == T.Q2_K:
        put_f16(80); put_f16(82)
    elif qtype == T.Q3_K:
        put_f16(108)
    elif qtype in (T.Q4_K, T.Q5_K):
        put_f16(0); put_f16(2)
    elif qtype == T.Q6_K:
        put_f16(208)
    elif qtype == T.Q8_K:
        raw[:, 0:4] = (rng.standard_normal(n_blocks) * 0.01).astype(np.float32).view(np.uint8).reshape(n_blocks, 4)
    return raw


def gen_gguf():
    d = os.path.join(OUT, "gguf")
    os.makedirs(d, exist_ok=True)
    T = gguf.GGMLQuantizationType
    for name, alignment in [("types.gguf", None), ("align64.gguf", 64)]:
        w = gguf.GGUFWriter(os.path.join(d, name), arch="llama")
        if alignment:
            w.add_custom_alignment(alignment)
        w.add_uint8("test.u8", 200); w.add_int8("test.i8", -100)
        w.add_uint16("test.u16", 60000); w.add_int16("test.i16", -30000)
        w.add_uint32("test.u32", 4000000000); w.add_int32("test.i32", -2000000000)
        w.add_uint64("test.u64", 2**63 + 5); w.add_int64("test.i64", -(2**62))
        w.add_float32("test.f32", 0.1); w.add_float64("test.f64", 1e-300)
        w.add_bool("test.bool", True); w.add_string("test.string", "héllo ✓ 日本")
        w.add_string("test.empty", "")
        w.add_array("test.array_i32", [1, -2, 3])
        w.add_array("test.array_str", ["a", "", "ünï"])
        w.add_array("test.array_f32", [0.5, -1.25])
        w.add_key_value("test.nested", [[1, 2], [3]], gguf.GGUFValueType.ARRAY, sub_type=gguf.GGUFValueType.ARRAY)
        meta = {}
        tensors = {}
        plain = {"plain_f32": np.float32, "plain_f16": np.float16, "plain_f64": np.float64, "plain_i8": np.int8,
                 "plain_i16": np.int16, "plain_i32": np.int32, "plain_i64": np.int64}
        for tn, dt in plain.items():
            a = sample(dt, (3, 7))
            w.add_tensor(tn, a)
            tensors[tn] = {"type": gguf.GGMLQuantizationType[{"float32": "F32", "float16": "F16", "float64": "F64", "int8": "I8", "int16": "I16", "int32": "I32", "int64": "I64"}[np.dtype(dt).name]].name,
                           "shape": [3, 7], "values": entry(a.astype(np.float32), "float32")}
        bf = sample(np.float32, (2, 32))
        bfq = gguf.quants.quantize(bf, T.BF16)
        w.add_tensor("plain_bf16", bfq, raw_dtype=T.BF16)
        tensors["plain_bf16"] = {"type": "BF16", "shape": [2, 32], "values": entry(gguf.quants.dequantize(bfq, T.BF16).astype(np.float32), "float32")}
        for qt in [T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0]:
            a = sample(np.float32, (3, 64))
            q = gguf.quants.quantize(a, qt)
            w.add_tensor(f"q_{qt.name}", q, raw_dtype=qt)
            tensors[f"q_{qt.name}"] = {"type": qt.name, "shape": [3, 64],
                                       "values": entry(gguf.quants.dequantize(q, qt).astype(np.float32), "float32")}
        for qt in [T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K, T.Q6_K, T.Q8_K]:
            blocks = random_kquant_blocks(qt, 4)
            q = blocks.reshape(2, -1)
            w.add_tensor(f"q_{qt.name}", q, raw_dtype=qt)
            if qt == T.Q8_K:
                # gguf-py has no Q8_K decoder; llama.cpp's is y = d (float32) * qs (int8).
                b = blocks
                deq = (b[:, :4].copy().view(np.float32) * b[:, 4:260].view(np.int8).astype(np.float32)).reshape(2, 512)
            else:
                deq = gguf.quants.dequantize(q, qt)
            tensors[f"q_{qt.name}"] = {"type": qt.name, "shape": [2, 512], "values": entry(deq.astype(np.float32), "float32")}
        w.add_tensor("vector", sample(np.float32, (5,)))
        w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
        r = gguf.GGUFReader(os.path.join(d, name))
        for k, f in r.fields.items():
            if k.startswith("GGUF."):
                continue
            meta[k] = {"types": [t.name for t in f.types], "value": jsonable(f.contents())}
        expected["gguf"][name] = {"alignment": alignment or 32, "metadata": meta, "tensors": tensors,
                                  "tensor_order": [t.name for t in r.tensors],
                                  "offsets": {t.name: int(t.data_offset) for t in r.tensors}}
    # Version 2 has the same layout as version 3 for little-endian files: patch the field.
    with open(os.path.join(d, "types.gguf"), "rb") as f:
        data = bytearray(f.read())
    data[4:8] = struct.pack("<I", 2)
    with open(os.path.join(d, "version2.gguf"), "wb") as f:
        f.write(data)


def jsonable(v):
    if isinstance(v, float):
        return {"f": v.hex()}
    if isinstance(v, list):
        return [jsonable(x) for x in v]
    if isinstance(v, (np.integer,)):
        return int(v)
    return v


def gen_encoders():
    T = gguf.GGMLQuantizationType
    blocks = [rng.standard_normal(32) * s for s in (0.02, 1.0, 40.0)]
    blocks += [np.zeros(32), np.full(32, 0.75), np.full(32, -3.0), np.r_[np.zeros(31), 5.0], np.r_[np.full(31, 0.1), -7.0]]
    blocks += [rng.uniform(-1, 1, 32) for _ in range(8)]
    blocks += [np.linspace(-1, 1, 32), (np.arange(32) - 16) / 8.0]
    x = np.concatenate(blocks).astype(np.float32)
    expected["encode"]["input"] = entry(x)
    for qt in [T.Q8_0, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1]:
        expected["encode"][qt.name] = gguf.quants.quantize(x.reshape(-1, 32), qt).tobytes().hex()


def gen_mlx():
    d = os.path.join(OUT, "gguf")
    T = gguf.GGMLQuantizationType
    path = os.path.join(d, "mlx_affine.gguf")
    w = gguf.GGUFWriter(path, arch="llama")
    srcs = {}
    for qt in [T.Q4_0, T.Q4_1, T.Q8_0]:
        a = sample(np.float32, (4, 64))
        q = gguf.quants.quantize(a, qt)
        w.add_tensor(f"blk.0.{qt.name.lower()}.weight", q, raw_dtype=qt)
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
    loaded = mx.load(path)
    for k, v in loaded.items():
        arr = np.array(v)
        expected["mlx_gguf"][k] = entry(arr)
    # mx.quantize in the affine layout for every bit width and group size.
    wts = (rng.standard_normal((8, 256)) * 0.05).astype(np.float32)
    wts[0, :32] = 0.0          # an all-zero group
    wts[1, :64] = 0.3          # a constant group
    expected["mlx_quantize_input"] = entry(wts)
    for bits in [2, 3, 4, 5, 6, 8]:
        for gs in [32, 64, 128]:
            wq, s, b = mx.quantize(mx.array(wts), group_size=gs, bits=bits)
            deq = mx.dequantize(wq, s, b, group_size=gs, bits=bits)
            expected["mlx_quantize"].append({"bits": bits, "group_size": gs, "wq": entry(np.array(wq)),
                                             "scales": entry(np.array(s)), "biases": entry(np.array(b)),
                                             "dequantized": entry(np.array(deq))})


def main():
    os.makedirs(OUT, exist_ok=True)
    gen_npy()
    gen_safetensors()
    gen_gguf()
    gen_encoders()
    gen_mlx()
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
    total = sum(os.path.getsize(os.path.join(r, n)) for r, _, fs in os.walk(OUT) for n in fs)
    print(f"fixtures/formats: {total / 1e6:.2f} MB")


if __name__ == "__main__":
    sys.exit(main())

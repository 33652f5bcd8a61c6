#!/usr/bin/env python3
"""Files written by Zoo, read by the reference implementations (numpy, safetensors, gguf-py,
MLX) and compared bit for bit — the other direction of the Formats fixture tests.

usage: check_formats_interop.py ZOO_BINARY MODEL_GGUF WORKDIR
Exits non-zero on any mismatch and prints one line per check with its counts.
"""
import json
import os
import subprocess
import sys

import numpy as np
import gguf
import mlx.core as mx
from safetensors.numpy import load_file, save_file

ZOO, MODEL, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
ROOT = os.path.join(os.path.dirname(__file__), "..")
FIX = os.path.join(ROOT, "fixtures", "formats")
os.makedirs(WORK, exist_ok=True)
failures = []
T = gguf.GGMLQuantizationType


def check(cond, what):
    print(("ok    " if cond else "FAIL  ") + what, flush=True)
    if not cond:
        failures.append(what)


def zoo(*args):
    r = subprocess.run([ZOO, *args], capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stdout, r.stderr)
        raise SystemExit(f"zoo {' '.join(args)} failed")
    return r.stdout


def w(name):
    return os.path.join(WORK, name)


def gguf_tensors(path):
    r = gguf.GGUFReader(path)
    return r, {t.name: t for t in r.tensors}


def deq(t):
    return gguf.quants.dequantize(t.data, t.tensor_type).reshape([int(x) for x in reversed(t.shape)]).astype(np.float32)


def hf_name(g):
    m = {"token_embd": "model.embed_tokens", "output_norm": "model.norm", "output": "lm_head"}
    layer = {"attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
             "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
             "ffn_down": "mlp.down_proj", "attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm"}
    parts = g.split(".")
    if parts[0] == "blk":
        return f"model.layers.{parts[1]}.{layer[parts[2]]}.{parts[3]}"
    return f"{m[parts[0]]}.{parts[1]}"


def unpermute(x, heads):
    # GGUF interleaves each head's rotary pairs; Hugging Face keeps two halves.
    rows = x.shape[0]
    return x.reshape(heads, rows // heads // 2, 2, *x.shape[1:]).swapaxes(1, 2).reshape(x.shape)


def affine_values(wq, scales, biases, bits, gs):
    rows = wq.shape[0]
    raw = np.ascontiguousarray(wq).view(np.uint8).reshape(rows, -1)
    bitsarr = np.unpackbits(raw, axis=1, bitorder="little").reshape(rows, -1, bits)
    q = (bitsarr * (1 << np.arange(bits))).sum(-1).astype(np.float32)
    s = np.repeat(scales.astype(np.float32), gs, axis=1)
    b = np.repeat(biases.astype(np.float32), gs, axis=1)
    return s * q + b


# --- small files through every writer --------------------------------------------------------

src = os.path.join(FIX, "safetensors", "numpy_dtypes.safetensors")
ref = load_file(src)
zoo("convert", src, w("dtypes.safetensors"))
got = load_file(w("dtypes.safetensors"))
check(all(np.array_equal(ref[k], got[k]) and ref[k].dtype == got[k].dtype for k in ref) and set(ref) == set(got),
      f"safetensors → Zoo safetensors: {len(ref)} tensors equal under safetensors.numpy")
zoo("convert", src, w("dtypes.npz"))
npz = np.load(w("dtypes.npz"))
check(all(np.array_equal(ref[k], npz[k]) and ref[k].dtype == npz[k].dtype for k in ref),
      f"safetensors → Zoo npz: {len(ref)} arrays equal under numpy.load")
src_npz = os.path.join(FIX, "npy", "deflated.npz")
zoo("convert", src_npz, w("from_npz.safetensors"))
a, b = np.load(src_npz), load_file(w("from_npz.safetensors"))
check(all(np.array_equal(a[k], b[k]) for k in a.files), f"npz → Zoo safetensors: {len(a.files)} arrays equal")

src_gguf = os.path.join(FIX, "gguf", "types.gguf")
zoo("convert", src_gguf, w("types.gguf"))
with open(src_gguf, "rb") as f1, open(w("types.gguf"), "rb") as f2:
    check(f1.read() == f2.read(), "gguf → Zoo gguf without changes: byte-identical to gguf-py's file")

rng = np.random.default_rng(5)
weights = {"layers.0.w": (rng.standard_normal((64, 256)) * 0.05).astype(np.float32),
           "layers.1.w": (rng.standard_normal((32, 512)) * 2).astype(np.float32)}
save_file(weights, w("float.safetensors"))
for q in ["q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q4_k", "q6_k"]:
    zoo("convert", w("float.safetensors"), w(f"{q}.gguf"), "--quantize", q)
    r, ts = gguf_tensors(w(f"{q}.gguf"))
    qt = T[q.upper()]
    same = 0
    for k, v in weights.items():
        t = ts[k]
        check(t.tensor_type == qt, f"{q}: {k} stored as {t.tensor_type.name}")
        if q in ("q4_k", "q6_k"):
            err = np.sqrt(((deq(t) - v) ** 2).mean()) / v.std()
            check(err < (0.12 if q == "q4_k" else 0.03), f"{q}: {k} relative RMSE {err:.4f} (gguf-py dequantizes)")
        else:
            same += int(np.array_equal(np.asarray(t.data).reshape(-1), gguf.quants.quantize(v, qt).reshape(-1)))
    if q not in ("q4_k", "q6_k"):
        check(same == len(weights), f"{q}: Zoo's blocks equal gguf-py's quantize for {same}/{len(weights)} tensors")
for bits in [4, 8]:
    zoo("convert", w("float.safetensors"), w(f"affine{bits}.safetensors"), "--quantize", f"affine{bits}")
    got = load_file(w(f"affine{bits}.safetensors"))
    ok = 0
    for k, v in weights.items():
        base = k[:-2] if k.endswith(".w") else k
        wq, s, bb = mx.quantize(mx.array(v), group_size=64, bits=bits)
        name = k  # not a HF family: names pass through, `.w` is not `.weight` so the module is the name
        ok += int(np.array_equal(np.array(wq), got[name + ".weight"]) and np.array_equal(np.array(s), got[name + ".scales"])
                  and np.array_equal(np.array(bb), got[name + ".biases"]))
    check(ok == len(weights), f"affine{bits}: Zoo's weight/scales/biases equal mx.quantize for {ok}/{len(weights)} tensors")

# --- the real model ---------------------------------------------------------------------------

reader, src_t = gguf_tensors(MODEL)
heads = int(reader.fields["llama.attention.head_count"].contents())
heads_kv = int(reader.fields["llama.attention.head_count_kv"].contents())
info = json.loads(zoo("inspect", "--json", MODEL))
table = {t["name"]: t for t in info["tensors"]}
check(len(table) == len(src_t) and all(table[n]["dtype"] == t.tensor_type.name and table[n]["bytes"] == t.n_bytes
                                        and table[n]["shape"] == [int(x) for x in reversed(t.shape)] for n, t in src_t.items()),
      f"zoo inspect: {len(table)} tensors with gguf-py's types, shapes and sizes")
check(len(info["metadata"]) == len([k for k in reader.fields if not k.startswith("GGUF.")]), "zoo inspect: every metadata key")

reference = {}
for n, t in src_t.items():
    v = deq(t)
    if n.endswith("attn_q.weight"):
        v = unpermute(v, heads)
    elif n.endswith("attn_k.weight"):
        v = unpermute(v, heads_kv)
    reference[hf_name(n)] = v

zoo("convert", MODEL, w("smollm2-f16.safetensors"), "--dtype", "float16")
f16 = load_file(w("smollm2-f16.safetensors"))
eq = sum(int(np.array_equal(f16[k], reference[k].astype(np.float16))) for k in reference)
check(set(f16) == set(reference) and eq == len(reference),
      f"SmolLM2 → float16 safetensors: {eq}/{len(reference)} tensors equal gguf-py's dequantization rounded to float16")

zoo("convert", MODEL, w("smollm2-affine4.safetensors"), "--quantize", "affine4")
from safetensors import safe_open
with safe_open(w("smollm2-affine4.safetensors"), "np") as f:
    meta = f.metadata()
a4 = load_file(w("smollm2-affine4.safetensors"))
quant = json.loads(meta["quantization"])
mlx_gguf = mx.load(MODEL)
exact = mlx_same = requant = 0
for k, v in reference.items():
    if k + "" in a4 and not k.endswith(".weight"):
        continue
    base = k[: -len(".weight")] if k.endswith(".weight") else k
    if base + ".scales" not in a4:
        check(np.array_equal(a4[k], v), f"affine4: {k} kept float")
        continue
    gs, bits = quant.get(base, {}).get("group_size", quant["group_size"]), quant.get(base, {}).get("bits", quant["bits"])
    vals = affine_values(a4[base + ".weight"], a4[base + ".scales"], a4[base + ".biases"], bits, gs)
    gname = [n for n in src_t if hf_name(n) == k][0]
    if gs == 32:
        # Converted exactly from Q4_1 blocks: the same values as the GGUF file, and (for tensors
        # not reordered by the Q/K permutation) the same triples as mx.load of the GGUF.
        exact += int(np.array_equal(vals, v))
        gb = gname[: -len(".weight")]
        if not (gname.endswith("attn_q.weight") or gname.endswith("attn_k.weight")):
            mlx_same += int(np.array_equal(np.array(mlx_gguf[gb + ".weight"]), a4[base + ".weight"])
                            and np.array_equal(np.array(mlx_gguf[gb + ".scales"]), a4[base + ".scales"])
                            and np.array_equal(np.array(mlx_gguf[gb + ".biases"]), a4[base + ".biases"]))
    else:
        wq, s, b = mx.quantize(mx.array(v), group_size=gs, bits=bits)
        requant += int(np.array_equal(np.array(wq), a4[base + ".weight"]) and np.array_equal(np.array(s), a4[base + ".scales"]))
n_exact = sum(1 for n, t in src_t.items() if t.tensor_type == T.Q4_1)
n_perm = sum(1 for n, t in src_t.items() if t.tensor_type == T.Q4_1 and (n.endswith("attn_q.weight") or n.endswith("attn_k.weight")))
check(exact == n_exact, f"SmolLM2 → affine4: {exact}/{n_exact} Q4_1 tensors converted exactly (values equal gguf-py's)")
check(mlx_same == n_exact - n_perm, f"SmolLM2 → affine4: {mlx_same}/{n_exact - n_perm} triples equal mx.load of the GGUF")
check(requant == 1, f"SmolLM2 → affine4: {requant}/1 requantized tensor (token_embd from Q8_0) equals mx.quantize")

zoo("convert", w("smollm2-f16.safetensors"), w("smollm2-q8_0.gguf"), "--quantize", "q8_0")
r8, q8 = gguf_tensors(w("smollm2-q8_0.gguf"))
same_blocks = total = 0
for n, t in src_t.items():
    g = q8[n]
    v = deq(t).astype(np.float16).astype(np.float32)
    if t.tensor_type in (T.Q4_1, T.Q8_0):
        total += 1
        same_blocks += int(g.tensor_type == T.Q8_0 and np.array_equal(np.asarray(g.data).reshape(-1), gguf.quants.quantize(v, T.Q8_0).reshape(-1)))
    else:
        check(g.tensor_type == T.F32 and np.array_equal(np.asarray(g.data).reshape(v.shape), v), f"Q8_0 GGUF: {n} kept F32")
check(same_blocks == total, f"float16 safetensors → GGUF Q8_0: {same_blocks}/{total} tensors equal gguf-py's quantize, names and Q/K order restored")
keys_src = [k for k in reader.fields if not k.startswith("GGUF.")]
same_meta = sum(int(k in r8.fields and (k == "general.file_type" or r8.fields[k].contents() == reader.fields[k].contents())) for k in keys_src)
check(same_meta == len(keys_src), f"GGUF → safetensors → GGUF: {same_meta}/{len(keys_src)} metadata keys carried (tokenizer included)")

print(f"\n{len(failures)} failures")
sys.exit(1 if failures else 0)

#!/usr/bin/env python3
"""Generation benchmarks for `make bench`: Zoo beside llama.cpp and PyTorch on the same GGUF.

  bench_generate.py --zoo ZOO --model SmolLM2.Q4_1.gguf [--rounds 3] [--threads 2] [--out bench/results]

For the shipped Q4_1 file and Zoo's Q8_0 and F16 conversions of it: a 128-token prompt, then
128 new tokens (end-of-sequence ignored), greedy. Reported per side: prefill tokens/s, decode
tokens/s, time to first token, peak RSS (each side runs in its own process; medians of the
rounds). llama.cpp runs through llama-cpp-python with the same thread count; PyTorch runs
transformers on the GGUF (dequantized to float32, as transformers loads GGUF files).
Decode is also given as GB/s of weights read per token against the file's tensor bytes.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROMPT_WORDS = ("The history of the printing press begins in the fifteenth century, when movable type "
                "changed how books were made and read across Europe. ") * 12


def child_rss(args):
    """Like child(), with the child's own peak RSS from wait4."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{args[:3]} failed with status {proc.returncode}")
    r = json.loads(out.strip().splitlines()[-1])
    # The child's own high-water mark: wait4's ru_maxrss starts from this (large) parent's
    # RSS at fork, which made every side report at least the parent's size.
    r["peakRSS"] = r.get("peakRSSBytes") or usage.ru_maxrss * 1024
    return r


def vm_hwm():
    """This process's peak resident set in bytes (VmHWM), or None."""
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def peer_main():
    ap = argparse.ArgumentParser()
    sys.argv.pop(1)  # --peer
    ap.add_argument("peer")
    ap.add_argument("model")
    ap.add_argument("--prompt-tokens", type=int, default=128)
    ap.add_argument("--new-tokens", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(sys.argv[1:])
    if a.peer == "llama.cpp":
        from llama_cpp import Llama
        llm = Llama(model_path=a.model, n_ctx=512, n_threads=a.threads, n_threads_batch=a.threads, n_batch=512, verbose=False)
        ids = llm.tokenize(PROMPT_WORDS.encode())[: a.prompt_tokens]
        llm.reset()
        t0 = time.perf_counter()
        llm.eval(ids)
        t1 = time.perf_counter()
        import numpy as np
        tok = int(np.argmax(llm.scores[llm.n_tokens - 1]))
        first = time.perf_counter()
        for _ in range(a.new_tokens - 1):
            llm.eval([tok])
            tok = int(np.argmax(llm.scores[llm.n_tokens - 1]))
        t2 = time.perf_counter()
        res = {"prefill": len(ids) / (t1 - t0), "decode": (a.new_tokens - 1) / (t2 - first), "ttft": first - t0,
               "peakRSSBytes": vm_hwm()}
    else:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        torch.set_num_threads(a.threads)
        folder, name = os.path.dirname(a.model), os.path.basename(a.model)
        tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32).eval()
        ids = torch.tensor([tok(PROMPT_WORDS)["input_ids"][: a.prompt_tokens]])
        with torch.no_grad():
            t0 = time.perf_counter()
            out = model(ids, use_cache=True)
            nxt = out.logits[:, -1].argmax(-1, keepdim=True)
            first = time.perf_counter()
            past = out.past_key_values
            for _ in range(a.new_tokens - 1):
                out = model(nxt, past_key_values=past, use_cache=True)
                past = out.past_key_values
                nxt = out.logits[:, -1].argmax(-1, keepdim=True)
            t2 = time.perf_counter()
        res = {"prefill": ids.shape[1] / (first - t0), "decode": (a.new_tokens - 1) / (t2 - first), "ttft": first - t0,
               "peakRSSBytes": vm_hwm()}
    print(json.dumps(res))


def zoo_run(zoo, model, prompt_ids_text, new_tokens):
    r = child_rss([zoo, "generate", model, "--prompt", prompt_ids_text, "--max-tokens", str(new_tokens),
               "--temperature", "0", "--ignore-eos", "--json"])
    return {"prefill": r["prefillTokensPerSecond"], "decode": r["decodeTokensPerSecond"],
            "ttft": r["timeToFirstTokenSeconds"], "peakRSS": r["peakRSS"], "promptTokens": len(r["promptTokens"])}


def tensor_bytes(path):
    import gguf
    return sum(int(t.n_bytes) for t in gguf.GGUFReader(path).tensors)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zoo", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="bench/results")
    ap.add_argument("--data", default=".build/bench-data")
    ap.add_argument("--peers", default="llama.cpp,pytorch")
    o = ap.parse_args()
    os.makedirs(o.data, exist_ok=True)
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(o.threads), OMP_NUM_THREADS=str(o.threads))
    os.environ.update(env)
    variants = [("Q4_1", o.model)]
    # Q8_0: requantized. F16: dequantized to float16 through safetensors (a GGUF-to-GGUF
    # conversion with --dtype keeps quantized blocks as they are, so it would be Q4_1 again).
    q8 = os.path.join(o.data, "smollm2-Q8_0.gguf")
    if not os.path.exists(q8):
        subprocess.run([o.zoo, "convert", o.model, q8, "--quantize", "q8_0"], check=True, capture_output=True)
    f16 = os.path.join(o.data, "smollm2-F16-dense.gguf")
    if not os.path.exists(f16):
        mid = os.path.join(o.data, "smollm2-F16.safetensors")
        subprocess.run([o.zoo, "convert", o.model, mid, "--dtype", "float16"], check=True, capture_output=True)
        subprocess.run([o.zoo, "convert", mid, f16, "--dtype", "float16"], check=True, capture_output=True)
        os.remove(mid)
    variants += [("Q8_0", q8), ("F16", f16)]
    # The prompt: the peers cut the same text to 128 tokens; Zoo gets the text that decodes from those.
    from transformers import AutoTokenizer
    tk = AutoTokenizer.from_pretrained(os.path.dirname(o.model), gguf_file=os.path.basename(o.model))
    prompt = tk.decode(tk(PROMPT_WORDS)["input_ids"][:128])
    rows = []
    for name, path in variants:
        sides = {"Zoo": lambda p=path: zoo_run(o.zoo, p, prompt, 128)}
        for peer in o.peers.split(","):
            sides[peer] = lambda p=path, peer=peer: child_rss([sys.executable, __file__, "--peer", peer, p, "--threads", str(o.threads)])
        samples = {s: [] for s in sides}
        for _ in range(o.rounds):
            for s, fn in sides.items():
                samples[s].append(fn())
        med = {s: {k: statistics.median(r[k] for r in v) for k in ("prefill", "decode", "ttft", "peakRSS")} for s, v in samples.items()}
        gb = tensor_bytes(path) / 1e9
        row = {"variant": name, "file_tensor_GB": gb, "sides": med}
        rows.append(row)
        for s, m in med.items():
            print(f"{name:5s} {s:10s} prefill {m['prefill']:7.1f} tok/s  decode {m['decode']:6.1f} tok/s "
                  f"({m['decode'] * gb:5.2f} GB/s)  TTFT {m['ttft'] * 1000:6.0f} ms  peak RSS {m['peakRSS'] / 1e6:6.0f} MB", flush=True)
    os.makedirs(o.out, exist_ok=True)
    with open(os.path.join(o.out, "generate.json"), "w") as f:
        json.dump({"threads": o.threads, "rounds": o.rounds, "rows": rows}, f, indent=1)
    with open(os.path.join(o.out, "generate.md"), "w") as f:
        f.write(f"# SmolLM2-135M generation, {o.threads} threads, 128-token prompt + 128 new tokens (median of {o.rounds})\n\n")
        f.write("| weights | side | prefill tok/s | decode tok/s | decode GB/s | TTFT ms | peak RSS MB | decode ratio (Zoo/side) | prefill ratio |\n|---|---|---|---|---|---|---|---|---|\n")
        for r in rows:
            z = r["sides"]["Zoo"]
            for s, m in r["sides"].items():
                f.write(f"| {r['variant']} | {s} | {m['prefill']:.1f} | {m['decode']:.1f} | {m['decode'] * r['file_tensor_GB']:.2f} | "
                        f"{m['ttft'] * 1000:.0f} | {m['peakRSS'] / 1e6:.0f} | {z['decode'] / m['decode']:.2f}x | {z['prefill'] / m['prefill']:.2f}x |\n")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--peer":
        peer_main()
    else:
        main()

#!/usr/bin/env python3
"""Tokenizer benchmarks: Zoo (bench/TokenizersBench, release build) beside the references in the
same run, alternating, several rounds; prints medians and Zoo/peer ratios and writes
bench/results/tokenizers.json.

  * load time of the SmolLM2 tokenizer: Zoo from the GGUF and from an equivalent tokenizer.json,
    `tokenizers` (Rust) from that tokenizer.json, llama.cpp (vocab_only) from the GGUF;
  * single-thread encode throughput (MB/s) on a 10 MB text (lines of the jargon file, the KJV
    bible and the test corpus): SmolLM2 and MiniLM vs `tokenizers`, a SentencePiece model vs
    `sentencepiece`.

Run: .venv-tok/bin/python tools/bench_tokenizers.py [--rounds N]   (after `make fixtures-tokenizers`'s venv exists)
"""
import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("RAYON_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GGUF = os.path.join(ROOT, "models", "smollm2-135m-instruct", "SmolLM2-135M-Instruct.Q4_1.gguf")
MINILM = os.path.join(ROOT, "models", "all-minilm-l6-v2")
WORK = os.path.join(ROOT, ".build", "tokbench")
SPM = os.path.join(ROOT, "fixtures", "tokenizers", "trained", "spm-unigram.model")


def make_text(path, size=10_000_000):
    if os.path.exists(path) and os.path.getsize(path) >= size:
        return
    src = [l.rstrip("\n") for l in gzip.open("/usr/share/doc/jargon-text/jargon.txt.gz", "rt", encoding="latin-1")]
    src += subprocess.run(["bible", "-f", "Ge1:1-Re22:21"], capture_output=True, text=True).stdout.splitlines()
    src += [c.replace("\n", " ") for c in json.load(open(os.path.join(ROOT, "fixtures", "tokenizers", "corpus.json")))]
    out, total, i = [], 0, 0
    while total < size:
        line = src[i % len(src)]
        out.append(line)
        total += len(line.encode()) + 1
        i += 1
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out))


def smollm2_tokenizer_json(path):
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    from gen_tokenizer_fixtures import smollm2_reference
    tok, _ = smollm2_reference()
    os.makedirs(path, exist_ok=True)
    tok.save(os.path.join(path, "tokenizer.json"))


def zoo(binary, *args):
    out = subprocess.run([binary, *args], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def timed(fn):
    t0 = time.perf_counter()
    r = fn()
    return time.perf_counter() - t0, r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    os.makedirs(WORK, exist_ok=True)
    text_path = os.path.join(WORK, "text-10mb.txt")
    make_text(text_path)
    smol_dir = os.path.join(WORK, "smollm2")
    smollm2_tokenizer_json(smol_dir)
    subprocess.run(["swift", "build", "-c", "release", "--product", "TokenizersBench"], cwd=ROOT, check=True)
    binary = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout.strip() + "/TokenizersBench"

    from tokenizers import Tokenizer
    import sentencepiece as spm
    text = open(text_path, encoding="utf-8").read()
    lines = text.split("\n")
    mb = len(text.encode()) / 1e6
    results = {}

    def record(name, zoo_value, peer_value, peer, unit, higher_is_better):
        ratio = (zoo_value / peer_value) if higher_is_better else (peer_value / zoo_value)
        results[name] = {"zoo": zoo_value, "peer": peer_value, "peer_name": peer, "unit": unit,
                         "zoo_over_peer": zoo_value / peer_value, "goal_met": ratio >= 1.0}

    # Load time (seconds, lower is better).
    z_gguf, z_json, p_json, p_llama = [], [], [], []
    try:
        import llama_cpp
    except ImportError:
        llama_cpp = None
    for _ in range(args.rounds):
        z_gguf.append(zoo(binary, "load", GGUF, "1")["seconds"])
        z_json.append(zoo(binary, "load", smol_dir, "1")["seconds"])
        p_json.append(timed(lambda: Tokenizer.from_file(os.path.join(smol_dir, "tokenizer.json")))[0])
        if llama_cpp:
            p_llama.append(timed(lambda: llama_cpp.Llama(model_path=GGUF, vocab_only=True, verbose=False))[0])
    record("smollm2_load_tokenizer_json", statistics.median(z_json), statistics.median(p_json), "tokenizers", "s", False)
    if p_llama:
        record("smollm2_load_gguf", statistics.median(z_gguf), statistics.median(p_llama), "llama.cpp", "s", False)
    results["smollm2_load_gguf_zoo_s"] = statistics.median(z_gguf)

    # Encode throughput (MB/s, higher is better), one thread each.
    def peer_hf(path):
        tok = Tokenizer.from_file(path)
        tok.no_truncation(); tok.no_padding()
        # The faster of the two batch entry points (encode_batch_fast skips offsets).
        best = mb / timed(lambda: tok.encode_batch(lines, add_special_tokens=False))[0]
        if hasattr(tok, "encode_batch_fast"):
            best = max(best, mb / timed(lambda: tok.encode_batch_fast(lines, add_special_tokens=False))[0])
        return best

    sp = spm.SentencePieceProcessor(model_file=SPM)
    cases = [
        ("smollm2_encode", GGUF, lambda: peer_hf(os.path.join(smol_dir, "tokenizer.json")), "tokenizers"),
        ("minilm_encode", MINILM, lambda: peer_hf(os.path.join(MINILM, "tokenizer.json")), "tokenizers"),
        ("sentencepiece_unigram_encode", SPM, lambda: mb / timed(lambda: sp.encode(lines))[0], "sentencepiece"),
    ]
    for name, path, peer, peer_name in cases:
        z, p = [], []
        for _ in range(args.rounds):
            z.append(zoo(binary, "encode", path, text_path, "1")["mb_per_s"])
            p.append(peer())
        record(name, statistics.median(z), statistics.median(p), peer_name, "MB/s", True)

    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "tokenizers.json"), "w") as f:
        json.dump(results, f, indent=1)
    print(f"{'benchmark':34} {'zoo':>10} {'peer':>10} {'peer name':>14} {'zoo/peer':>9}")
    for name, r in results.items():
        if isinstance(r, dict):
            print(f"{name:34} {r['zoo']:10.4f} {r['peer']:10.4f} {r['peer_name']:>14} {r['zoo_over_peer']:9.2f} {r['unit']}")
        else:
            print(f"{name:34} {r:10.4f}")


if __name__ == "__main__":
    main()

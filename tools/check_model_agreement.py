#!/usr/bin/env python3
"""Zoo's greedy decoding of SmolLM2 checked against PyTorch float32, teacher-forced.

For each prompt of fixtures/models/smollm2_reference.json, `zoo generate --json` produces 64
greedy tokens (end-of-sequence ignored); transformers + gguf + torch (float32) then runs over
prompt + Zoo's tokens and, at every generated position, Zoo's token must be the reference's
argmax or within 0.25 logits of it. Agreement with llama.cpp's greedy ids (which flip
near-ties themselves) is reported, not required.

usage: check_model_agreement.py ZOO MODEL.gguf
"""
import json
import os
import subprocess
import sys

import numpy as np
import torch
from transformers import AutoModelForCausalLM

ZOO, GGUF = sys.argv[1], sys.argv[2]
ROOT = os.path.join(os.path.dirname(__file__), "..")
ref = json.load(open(os.path.join(ROOT, "fixtures", "models", "smollm2_reference.json")))
folder, name = os.path.dirname(GGUF), os.path.basename(GGUF)
model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, torch_dtype=torch.float32).eval()
N, TOL = 64, 0.25
fails, total_tokens, exact_argmax, llama_prefix = 0, 0, 0, []
for p in ref["prompts"]:
    args = [ZOO, "generate", GGUF, "--prompt", p["prompt"], "--max-tokens", str(N), "--temperature", "0", "--json", "--ignore-eos"]
    if p["chat"]:
        args.append("--chat")
    out = json.loads(subprocess.run(args, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
    if out["promptTokens"] != p["ids"]:
        print(f"FAIL  prompt ids differ for {p['prompt']!r}: {out['promptTokens']} vs {p['ids']}")
        fails += 1
        continue
    toks = out["tokens"]
    seq = torch.tensor([p["ids"] + toks])
    with torch.no_grad():
        logits = model(seq).logits[0].float().numpy()
    n = len(p["ids"])
    worst = 0.0
    for i, t in enumerate(toks):
        row = logits[n - 1 + i]
        gap = float(row.max() - row[t])
        worst = max(worst, gap)
        exact_argmax += int(gap == 0.0)
        if gap > TOL:
            fails += 1
            print(f"FAIL  {p['prompt']!r} token {i}: Zoo chose {t}, {gap:.3f} below the reference's argmax {int(row.argmax())}")
    total_tokens += len(toks)
    lc = p.get("llama_cpp_greedy", [])
    agree = next((i for i, (a, b) in enumerate(zip(toks, lc)) if a != b), min(len(toks), len(lc)))
    llama_prefix.append(agree)
    print(f"ok    {p['prompt']!r}: {len(toks)} tokens, worst gap {worst:.4f}, first {len(lc)} llama.cpp ids agree for {agree}")
print(f"\n{total_tokens} tokens checked, {exact_argmax} exactly the reference argmax, {fails} outside {TOL} logits; "
      f"llama.cpp greedy prefix agreement {llama_prefix}")
sys.exit(1 if fails or total_tokens < 5 * N else 0)

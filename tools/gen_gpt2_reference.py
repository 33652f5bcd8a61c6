#!/usr/bin/env python3
"""A randomly initialised GPT-2 saved by transformers (safetensors + config.json) and its
logits from PyTorch for fixed token ids: fixtures/models/gpt2-tiny/ and gpt2_reference.npz."""
import os

import numpy as np
import torch
from transformers import GPT2Config, GPT2LMHeadModel

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "models")
torch.manual_seed(1234)
cfg = GPT2Config(vocab_size=211, n_positions=64, n_embd=64, n_layer=3, n_head=4, resid_pdrop=0, embd_pdrop=0, attn_pdrop=0)
model = GPT2LMHeadModel(cfg).eval()
folder = os.path.join(OUT, "gpt2-tiny")
model.save_pretrained(folder, safe_serialization=True)
ids = torch.tensor([[5, 17, 200, 3, 3, 99, 150, 42, 8, 0, 61, 7]])
with torch.no_grad():
    logits = model(ids).logits[0].numpy().astype(np.float32)
np.savez(os.path.join(OUT, "gpt2_reference.npz"), ids=ids[0].numpy().astype(np.int32), logits=logits)
print("saved", folder, logits.shape)

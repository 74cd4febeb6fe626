#!/usr/bin/env python3
"""An independent Llama forward pass and tokenizer, written from llama2.c's run.c algorithm.

The model runs one position at a time with a key/value cache, exactly as run.c's forward()
does: token embedding; per layer RMSNorm (eps 1e-5), q/k/v projections, RoPE on pairs (i, i+1)
with frequency 10000^(-(i mod head_size)/head_size), grouped-query attention over the cached
positions 0..pos with scores scaled by 1/sqrt(head_size) and a softmax, the output projection,
a residual add, RMSNorm, the SwiGLU FFN w2(silu(w1 x) * w3 x) and another residual add; final
RMSNorm and the classifier. Arithmetic in float32 NumPy. The tokenizer follows run.c's
encode(): BOS, a dummy " " prefix, one token per UTF-8 character (else its <0xXX> byte tokens,
else <unk>), then repeated merges of the best-scoring adjacent pair.

usage: llama2c_reference.py CHECKPOINT TOKENIZER PROMPT STEPS
Prints JSON: {"prompt_tokens": [...], "logits": [[...] per prompt position],
              "generated_tokens": [...], "text": "..."}  (greedy, STEPS new tokens)
"""
import json
import struct
import sys

import numpy as np


def load_checkpoint(path):
    raw = open(path, "rb").read()
    dim, hidden, layers, heads, kv_heads, vocab, seq_len = struct.unpack("<7i", raw[:28])
    shared = vocab > 0
    vocab = abs(vocab)
    head = dim // heads
    kv_dim = kv_heads * head
    data = np.frombuffer(raw, dtype="<f4", offset=28)
    at = 0

    def take(*shape):
        nonlocal at
        n = int(np.prod(shape))
        t = data[at:at + n].reshape(shape)
        at += n
        return t

    w = {"emb": take(vocab, dim), "rms_att": take(layers, dim), "wq": take(layers, dim, dim),
         "wk": take(layers, kv_dim, dim), "wv": take(layers, kv_dim, dim),
         "wo": take(layers, dim, dim), "rms_ffn": take(layers, dim),
         "w1": take(layers, hidden, dim), "w2": take(layers, dim, hidden),
         "w3": take(layers, hidden, dim), "rms_final": take(dim)}
    take(seq_len, head // 2)
    take(seq_len, head // 2)
    w["cls"] = w["emb"] if shared else take(vocab, dim)
    cfg = dict(dim=dim, hidden=hidden, layers=layers, heads=heads, kv_heads=kv_heads,
               vocab=vocab, seq_len=seq_len, head=head, kv_dim=kv_dim)
    return cfg, w


def rmsnorm(x, weight):
    ss = np.float32(np.mean(x.astype(np.float64) ** 2)) + np.float32(1e-5)
    return (weight * (x / np.sqrt(ss))).astype(np.float32)


class Model:
    def __init__(self, path):
        self.cfg, self.w = load_checkpoint(path)
        c = self.cfg
        self.key_cache = np.zeros((c["layers"], c["seq_len"], c["kv_dim"]), np.float32)
        self.value_cache = np.zeros_like(self.key_cache)

    def rope(self, vec, pos):
        c = self.cfg
        i = np.arange(0, vec.shape[0], 2)
        freq = 1.0 / np.power(10000.0, (i % c["head"]) / c["head"])
        angle = pos * freq
        re, im = vec[0::2].copy(), vec[1::2].copy()
        out = np.empty_like(vec)
        out[0::2] = re * np.cos(angle) - im * np.sin(angle)
        out[1::2] = re * np.sin(angle) + im * np.cos(angle)
        return out.astype(np.float32)

    def forward(self, token, pos):
        c, w = self.cfg, self.w
        head, kv_mul = c["head"], c["heads"] // c["kv_heads"]
        x = w["emb"][token].copy()
        for l in range(c["layers"]):
            xb = rmsnorm(x, w["rms_att"][l])
            q = self.rope(w["wq"][l] @ xb, pos)
            self.key_cache[l, pos] = self.rope(w["wk"][l] @ xb, pos)
            self.value_cache[l, pos] = w["wv"][l] @ xb
            att_out = np.zeros(c["dim"], np.float32)
            for h in range(c["heads"]):
                g = h // kv_mul
                qh = q[h * head:(h + 1) * head]
                keys = self.key_cache[l, :pos + 1, g * head:(g + 1) * head]
                scores = (keys @ qh) / np.sqrt(np.float32(head))
                scores = np.exp(scores - scores.max())
                scores /= scores.sum()
                att_out[h * head:(h + 1) * head] = scores @ self.value_cache[l, :pos + 1, g * head:(g + 1) * head]
            x = x + w["wo"][l] @ att_out
            xb = rmsnorm(x, w["rms_ffn"][l])
            h1, h3 = w["w1"][l] @ xb, w["w3"][l] @ xb
            x = x + w["w2"][l] @ ((h1 / (1.0 + np.exp(-h1))) * h3)
        return (w["cls"] @ rmsnorm(x, w["rms_final"])).astype(np.float32)


def load_tokenizer(path, vocab):
    raw = open(path, "rb").read()
    at = 4
    pieces, scores = [], []
    for _ in range(vocab):
        score, n = struct.unpack("<fi", raw[at:at + 8])
        pieces.append(raw[at + 8:at + 8 + n])
        scores.append(score)
        at += 8 + n
    ids = {}
    for i, p in enumerate(pieces):
        ids.setdefault(p, i)
    return pieces, scores, ids


def encode(tok, text):
    pieces, scores, ids = tok
    tokens = [1]
    data = text.encode("utf-8")
    if data and b" " in ids:
        tokens.append(ids[b" "])
    for ch in text:
        b = ch.encode("utf-8")
        if b in ids:
            tokens.append(ids[b])
        else:
            tokens.extend(ids.get(b"<0x%02X>" % byte, 0) for byte in b)
    while True:
        best = None
        for i in range(len(tokens) - 1):
            merged = ids.get(pieces[tokens[i]] + pieces[tokens[i + 1]])
            if merged is not None and (best is None or scores[merged] > best[0]):
                best = (scores[merged], i, merged)
        if best is None:
            return tokens
        _, i, merged = best
        tokens[i:i + 2] = [merged]


def decode(tok, previous, token):
    piece = tok[0][token]
    if previous == 1 and piece.startswith(b" "):
        piece = piece[1:]
    if len(piece) == 6 and piece.startswith(b"<0x") and piece.endswith(b">"):
        return bytes([int(piece[3:5], 16)])
    return piece


def main():
    checkpoint, tokenizer, prompt, steps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    model = Model(checkpoint)
    tok = load_tokenizer(tokenizer, model.cfg["vocab"])
    tokens = encode(tok, prompt)
    logits = []
    for pos, t in enumerate(tokens):
        logits.append(model.forward(t, pos))
    generated = []
    token, pos = int(np.argmax(logits[-1])), len(tokens)
    text = b"".join(decode(tok, a, b) for a, b in zip(tokens[:-1], tokens[1:]))
    previous = tokens[-1]
    for _ in range(steps):
        generated.append(token)
        text += decode(tok, previous, token)
        if len(generated) == steps or pos >= model.cfg["seq_len"]:
            break
        previous = token
        token = int(np.argmax(model.forward(token, pos)))
        pos += 1
    json.dump({"prompt_tokens": tokens, "logits": [l.tolist() for l in logits],
               "generated_tokens": generated, "text": text.decode("utf-8", "replace")}, sys.stdout)


if __name__ == "__main__":
    main()

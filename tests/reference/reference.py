#!/usr/bin/python3
"""An independent numpy forward pass for tiny GGUF models (qwen2, llama, qwen3), to check the C++ engine.

It shares no code with Penser: its own GGUF parser, its own dequantizers (F32, F16, BF16, Q8_0, Q4_0) and the
transformer written from the papers in float64. The one thing it copies on purpose is the KV cache format
Penser documents: keys and values are rounded to float16 when stored.

    reference.py MODEL --tokens 1,2,3 [--greedy N] [--variant no-rope]

prints JSON: {"logits": [...last position...], "greedy": [N tokens chosen by argmax, one at a time]}.
"""
import argparse
import json
import struct
import sys

import numpy as np

# --- GGUF -------------------------------------------------------------------------------------------------

_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.data, self.pos)[0]
        self.pos += struct.calcsize(fmt)
        return v

    def string(self):
        n = self.take("<Q")
        s = self.data[self.pos:self.pos + n].decode("utf-8")
        self.pos += n
        return s

    def value(self, t):
        if t in _SCALARS:
            return self.take(_SCALARS[t])
        if t == 8:
            return self.string()
        if t == 9:
            et, n = self.take("<I"), self.take("<Q")
            return [self.value(et) for _ in range(n)]
        raise ValueError("unknown metadata type %d" % t)


# type id: (block size, bytes per block)
_TYPES = {0: (1, 4), 1: (1, 2), 30: (1, 2), 8: (32, 34), 2: (32, 18)}


def dequantize(t, raw, n):
    if t == 0:
        return np.frombuffer(raw, dtype="<f4", count=n).astype(np.float64)
    if t == 1:
        return np.frombuffer(raw, dtype="<f2", count=n).astype(np.float64)
    if t == 30:
        u = np.frombuffer(raw, dtype="<u2", count=n).astype(np.uint32) << 16
        return u.view(np.float32).astype(np.float64)
    nb = n // 32
    if t == 8:  # Q8_0: f16 scale, 32 x int8
        b = np.frombuffer(raw, dtype=np.uint8, count=nb * 34).reshape(nb, 34)
        d = b[:, :2].copy().view("<f2").astype(np.float64)
        q = b[:, 2:].view(np.int8).astype(np.float64)
        return (q * d).reshape(-1)
    if t == 2:  # Q4_0: f16 scale, 16 bytes: low nibbles are elements 0..15, high nibbles 16..31, offset 8
        b = np.frombuffer(raw, dtype=np.uint8, count=nb * 18).reshape(nb, 18)
        d = b[:, :2].copy().view("<f2").astype(np.float64)
        qs = b[:, 2:]
        q = np.concatenate([qs & 15, qs >> 4], axis=1).astype(np.float64) - 8.0
        return (q * d).reshape(-1)
    raise ValueError("tensor type %d is not supported by the reference" % t)


def load_gguf(path):
    data = open(path, "rb").read()
    r = Reader(data)
    if data[:4] != b"GGUF":
        raise ValueError("not a GGUF file")
    r.pos = 4
    version = r.take("<I")
    if version not in (2, 3):
        raise ValueError("GGUF version %d" % version)
    n_tensors, n_kv = r.take("<Q"), r.take("<Q")
    meta = {}
    for _ in range(n_kv):
        key = r.string()
        meta[key] = r.value(r.take("<I"))
    infos = []
    for _ in range(n_tensors):
        name = r.string()
        dims = [r.take("<Q") for _ in range(r.take("<I"))]
        infos.append((name, dims, r.take("<I"), r.take("<Q")))
    align = meta.get("general.alignment", 32)
    start = (r.pos + align - 1) // align * align
    tensors = {}
    for name, dims, t, off in infos:
        n = int(np.prod(dims))
        bs, ts = _TYPES[t] if t in _TYPES else (1, 0)
        raw = data[start + off:start + off + n // bs * ts]
        # numpy shape is the reverse of ggml's: a (ne0, ne1) matrix is ne1 rows of ne0.
        tensors[name] = dequantize(t, raw, n).reshape(list(reversed(dims)))
    return meta, tensors


# --- The model --------------------------------------------------------------------------------------------

def rms_norm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def rope(x, pos, inv_freq, neox):
    """x: (n_heads, head_dim) at position pos. Rotates pairs by pos * inv_freq."""
    half = x.shape[-1] // 2
    c, s = np.cos(pos * inv_freq), np.sin(pos * inv_freq)
    if neox:  # GPT-NeoX / Qwen: element i pairs with i + half
        a, b = x[:, :half], x[:, half:]
        return np.concatenate([a * c - b * s, a * s + b * c], axis=1)
    a, b = x[:, 0::2], x[:, 1::2]  # GGUF llama: adjacent pairs (2i, 2i + 1)
    out = np.empty_like(x)
    out[:, 0::2], out[:, 1::2] = a * c - b * s, a * s + b * c
    return out


def f16(x):
    return x.astype(np.float16).astype(np.float64)


class Model:
    def __init__(self, path, variant=""):
        meta, self.t = load_gguf(path)
        a = meta["general.architecture"]
        if a not in ("qwen2", "llama", "qwen3"):
            raise ValueError("architecture " + a)
        self.arch, self.variant = a, variant
        self.n_layer = meta[a + ".block_count"]
        self.n_head = meta[a + ".attention.head_count"]
        self.n_head_kv = meta.get(a + ".attention.head_count_kv", self.n_head)
        n_embd = meta[a + ".embedding_length"]
        self.head_dim = meta.get(a + ".attention.key_length", n_embd // self.n_head)
        self.eps = meta[a + ".attention.layer_norm_rms_epsilon"]
        base = meta.get(a + ".rope.freq_base", 10000.0)
        i = np.arange(self.head_dim // 2, dtype=np.float64)
        self.inv_freq = base ** (-2.0 * i / self.head_dim)
        if "rope_freqs.weight" in self.t:
            self.inv_freq = self.inv_freq / self.t["rope_freqs.weight"]
        self.neox = a != "llama"
        self.output = self.t.get("output.weight", self.t["token_embd.weight"])

    def logits(self, tokens):
        """Logits of every position: (len(tokens), n_vocab)."""
        t, D, H, Hkv = self.t, self.head_dim, self.n_head, self.n_head_kv
        n = len(tokens)
        x = t["token_embd.weight"][tokens]  # (n, E)
        for l in range(self.n_layer):
            p = "blk.%d." % l
            xn = rms_norm(x, t[p + "attn_norm.weight"], self.eps)
            q, k, v = xn @ t[p + "attn_q.weight"].T, xn @ t[p + "attn_k.weight"].T, xn @ t[p + "attn_v.weight"].T
            if self.arch == "qwen2":
                q, k, v = q + t[p + "attn_q.bias"], k + t[p + "attn_k.bias"], v + t[p + "attn_v.bias"]
            q, k, v = q.reshape(n, H, D), k.reshape(n, Hkv, D), v.reshape(n, Hkv, D)
            if self.arch == "qwen3":
                q = rms_norm(q, t[p + "attn_q_norm.weight"], self.eps)
                k = rms_norm(k, t[p + "attn_k_norm.weight"], self.eps)
            if self.variant != "no-rope":
                q = np.stack([rope(q[i], i, self.inv_freq, self.neox) for i in range(n)])
                k = np.stack([rope(k[i], i, self.inv_freq, self.neox) for i in range(n)])
            k, v = f16(k), f16(v)  # the KV cache stores float16
            out = np.empty((n, H, D))
            group = H // Hkv
            for h in range(H):
                s = q[:, h, :] @ k[:, h // group, :].T / np.sqrt(D)  # (n, n)
                s = np.where(np.tril(np.ones((n, n), dtype=bool)), s, -np.inf)
                s = np.exp(s - s.max(axis=1, keepdims=True))
                s /= s.sum(axis=1, keepdims=True)
                out[:, h, :] = s @ v[:, h // group, :]
            x = x + out.reshape(n, H * D) @ t[p + "attn_output.weight"].T
            xn = rms_norm(x, t[p + "ffn_norm.weight"], self.eps)
            g, u = xn @ t[p + "ffn_gate.weight"].T, xn @ t[p + "ffn_up.weight"].T
            x = x + (g / (1.0 + np.exp(-g)) * u) @ t[p + "ffn_down.weight"].T
        return rms_norm(x, t["output_norm.weight"], self.eps) @ self.output.T


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--tokens", required=True)
    ap.add_argument("--greedy", type=int, default=0)
    ap.add_argument("--variant", default="")
    args = ap.parse_args()
    m = Model(args.model, args.variant)
    tokens = [int(s) for s in args.tokens.split(",")]
    logits = m.logits(tokens)[-1]
    greedy, seq = [], list(tokens)
    for _ in range(args.greedy):
        nxt = int(np.argmax(m.logits(seq)[-1]))
        greedy.append(nxt)
        seq.append(nxt)
    json.dump({"logits": logits.tolist(), "greedy": greedy}, sys.stdout)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes pretokenizer_cases.json: texts and their pre-tokenizer pieces, as the original regexes split them.

The pieces come from the third-party `regex` module (Unicode properties, (?i:...) with Unicode case folding,
lookahead), not from Penser's matchers, so the test compares the hand-written matchers with a real regex
engine. Run with a Python that has `regex` (pip install regex; Debian: python3-regex):

    python3 tests/tokenizer/make_pretokenizer_cases.py > tests/tokenizer/pretokenizer_cases.json
"""
import json
import random

import regex

# tokenizer.json "pre_tokenizer" Split patterns.
QWEN2 = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
LLAMA3 = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"

HAND = [
    "Hello world", "  hello", "hello  ", "a\n\n  b", "I'm fine, you're 'RE'LL", "y'all ' era", "'S'T'Ve'm'D",
    "don\u017ft 'ſ", "12345", "3.14159 x 1000000", "\u0663\u0664\u0665 \u00bd \u2167", "hello!!!\n\nworld", " !? \t\n",
    "x \t", "a\u3000b", "a\u00a0\u00a0b", "!\u0085", "a\u2028b\u2029c", "e\u0301t\u00e9", "\u1680x\u205fy\u202fz",
    "line\r\nnext\r\n\r\n  indented", "\t\tdef f():\n\t\treturn 1\n", "\U0001F468\u200d\U0001F469\u200d\U0001F467 family",
    "\u4e2d\u6587\u6d4b\u8bd5\u3002\u4f60\u597d\uff01", "\u1780\u17b6\u1793\u17cb\u178f\u17c2", "Ti\u1ebfng Vi\u1ec7t",
    "\u0420\u0443\u0441\u0441\u043a\u0438\u0439 \u0442\u0435\u043a\u0441\u0442", "<|im_end|>\n<think>", "a__b--c..d",
    "\x0b\x0c\x1c\x1f", "\u200b\u2060\ufeff", "   ", "\n", " \n \n ", "(x)", "\"quoted\"", "#include <x.h>",
]

POOL = list("aZ\u00e9e\u0301 \t\n\r\u00a0\u3000\u0085\u2028\u20291\u0663\u00bd\u216b!'sStreldmvRELDMV\U0001F600\u4e2d"
            "\u200d\ufeff_-.\x0b\x0c\x1c\x1f\u1680\u180e\u200b\u2060\u205f\u2007\u017f\u0130\u00ad0123456789")


def main():
    rng = random.Random(20260128)
    texts = list(HAND)
    for _ in range(200):
        texts.append("".join(rng.choice(POOL) for _ in range(rng.randint(1, 24))))
    cases = [{"text": t, "qwen2": regex.findall(QWEN2, t), "llama3": regex.findall(LLAMA3, t)} for t in texts]
    for c in cases:
        assert "".join(c["qwen2"]) == c["text"] and "".join(c["llama3"]) == c["text"]
    print("[\n" + ",\n".join(json.dumps(c, ensure_ascii=True) for c in cases) + "\n]")


if __name__ == "__main__":
    main()

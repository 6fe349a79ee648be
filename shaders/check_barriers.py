#!/usr/bin/env python3
"""Barriers in uniform control flow: a lint over the compute shaders (CTest `shader_barriers`).

A workgroup barrier (`barrier()`) must be reached by every invocation of the workgroup, and on Apple GPUs so
must a memory barrier: MoltenVK turns `memoryBarrier*()` into Metal's `threadgroup_barrier`, an execution
barrier (docs/vulkan.md, "Barriers and Apple GPUs"). No tool checks this for SPIR-V, so this script does it
on the GLSL text, by rule of thumb: a barrier, or a call of a function that reaches one (found across every
file, to a fixed point), is an error when
- a block it stands in is opened by an `if` / `else` / `for` / `while` / `switch` whose condition names an
  invocation-varying value (`tid`, `lane`, `sgid`, `gl_LocalInvocationID`, `gl_SubgroupInvocationID`, ...), or
  it follows such an `if` on the same line;
- or it comes after a `return` inside such a condition, in the same function.
Conditions on workgroup-uniform values (push constants, `group_index()`, shared flags) are fine. The rule of
thumb misses what it cannot see (a varying value under another name) and says so for nothing else: every
finding is a line to fix or to reword. `--self-test` checks that it flags the patterns it is for.
"""
import re
import sys
from pathlib import Path

VARYING = re.compile(
    r"\b(tid|lane|sgid|gl_LocalInvocationID|gl_LocalInvocationIndex|gl_GlobalInvocationID|"
    r"gl_SubgroupInvocationID|gl_SubgroupID|subgroupElect)\b")
BARRIER = re.compile(r"\b(barrier|memoryBarrier\w*|groupMemoryBarrier)\s*\(\s*\)")
CONTROL = re.compile(r"^\s*(?:\}\s*)?(if|else\s+if|else|for|while|switch)\b")
FUNC_DEF = re.compile(r"^[A-Za-z_][\w<>\[\]\s]*?\b([A-Za-z_]\w*)\s*\([^;{]*\)\s*\{")
CALL = re.compile(r"\b([A-Za-z_]\w*)\s*\(")


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return [re.sub(r"//.*", "", line) for line in text.split("\n")]


def functions(lines):
    """(name, first line index, last line index) of each function defined at file level."""
    out, depth, current, start = [], 0, None, 0
    for i, line in enumerate(lines):
        if depth == 0:
            m = FUNC_DEF.match(line.strip())
            if m and not CONTROL.match(line):
                current, start = m.group(1), i
        depth += line.count("{") - line.count("}")
        if depth == 0 and current is not None and "}" in line:
            out.append((current, start, i))
            current = None
    return out


def barrier_functions(files):
    """Names of functions that reach a barrier, directly or through calls."""
    bodies = {}
    for lines in files.values():
        for name, a, b in functions(lines):
            bodies.setdefault(name, []).append("\n".join(lines[a : b + 1]))
    reach = {n for n, bs in bodies.items() if any(BARRIER.search(b) for b in bs)}
    while True:
        more = {n for n, bs in bodies.items() if n not in reach
                and any(c in reach for b in bs for c in CALL.findall(b))}
        if not more:
            return reach
        reach |= more


def check(name, lines, reach):
    """Findings (file:line: text) for one file."""
    findings = []
    stack = []  # per open brace: does the statement that opened it vary per invocation
    pending = False  # a varying control header whose block has not opened yet (its `{` on a later line)
    returned = False  # a varying condition returned earlier in this function
    for i, line in enumerate(lines):
        text = line.strip()
        if not text:
            continue
        header = CONTROL.match(line)
        varying_header = bool(header) and bool(VARYING.search(line))
        hits = BARRIER.findall(line) + [c for c in CALL.findall(line) if c in reach]
        # A call on the line of a varying `if` without a brace, in the statement after one (`pending`), or
        # inside any varying block.
        inside = any(stack) or pending or (varying_header and "{" not in line)
        if hits and (inside or returned):
            findings.append(f"{name}:{i + 1}: {text}")
        if varying_header and re.search(r"\breturn\b", line):
            returned = True
        if any(stack) and re.search(r"\breturn\b", line):
            returned = True
        opens, closes = line.count("{"), line.count("}")
        for _ in range(closes):
            if stack:
                stack.pop()
        if not stack:
            returned = False if FUNC_DEF.match(text) or text == "}" else returned
        for _ in range(opens):
            stack.append(varying_header or pending)
        if opens:
            pending = False
        elif header and not text.endswith(";"):
            pending = varying_header  # `if (tid == 0)` then its `{` or its one statement on the next line
        elif pending and text.endswith(";"):
            pending = False  # that one statement ended
    return findings


def run(paths):
    files = {}
    for p in paths:
        files[str(p)] = strip_comments(Path(p).read_text())
    reach = barrier_functions(files)
    findings = []
    for name, lines in files.items():
        findings += check(name, lines, reach)
    return findings


SELF_TEST_BAD = {
    "divergent memory barrier (the carried norm before 2026-11-29 13:00)": """
void carry(float ss) {
  if (tid == 0) {
    y[0] = ss;
    memoryBarrierBuffer();
    last = atomicAdd(c[0], 1u) == n - 1;
  }
  barrier();
}""",
    "barrier on the line of a varying if": """
void f() {
  if (lane == 0) barrier();
}""",
    "a barrier-reaching call in a varying block": """
float wg_sum(float v) { barrier(); return v; }
void f() {
  if (gl_LocalInvocationID.x < 3) {
    float s = wg_sum(1.0);
  }
}""",
    "a barrier after a varying return": """
void f() {
  if (tid >= n) return;
  barrier();
}""",
    "a brace on the next line": """
void f() {
  if (tid == 0)
  {
    memoryBarrierShared();
  }
}""",
}
SELF_TEST_GOOD = """
float wg_sum(float v) { barrier(); return v; }
void f() {
  if (tid == 0) y[0] = 1.0;
  memoryBarrierBuffer();
  if (tid == 0) last = atomicAdd(c[0], 1u) == n;
  barrier();
  if (!last) return;
  memoryBarrierBuffer();
  for (uint i = 0; i < n; ++i) { float s = wg_sum(x[i]); }
  if (p.n > 0) { barrier(); }
}
void main() {
  if (group_index() >= p.n) return;
  barrier();
}
"""


def self_test():
    ok = True
    for label, src in SELF_TEST_BAD.items():
        files = {"bad": strip_comments(src)}
        if not check("bad", files["bad"], barrier_functions(files)):
            print(f"self-test: not flagged: {label}")
            ok = False
    files = {"good": strip_comments(SELF_TEST_GOOD)}
    for f in check("good", files["good"], barrier_functions(files)):
        print(f"self-test: flagged in uniform code: {f}")
        ok = False
    return ok


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--self-test":
        ok = self_test()
        print("self-test passed" if ok else "self-test FAILED")
        return 0 if ok else 1
    paths = [p for a in sys.argv[1:] for p in (sorted(Path(a).glob("*.comp")) + sorted(Path(a).glob("*.glsl"))
                                             if Path(a).is_dir() else [Path(a)])]
    if not paths:
        print("usage: check_barriers.py SHADER_DIR|FILE... | --self-test")
        return 2
    findings = run(paths)
    for f in findings:
        print(f"barrier in non-uniform control flow: {f}")
    print(f"{len(paths)} files, {len(findings)} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())

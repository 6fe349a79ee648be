#!/usr/bin/python3
"""Renders chat templates with jinja2 the way Hugging Face transformers' apply_chat_template does.

Usage: render_jinja.py INPUT.json OUTPUT.json
INPUT: {"template": "<path>", "bos_token": "...", "eos_token": "...", "conversations": [[{"role","content"}...]...]}
OUTPUT: a list, one entry per conversation: {"ok": true, "text": "..."} or {"ok": false, "error": "..."}.

The environment matches transformers (src/transformers/utils/chat_template_utils.py): an
ImmutableSandboxedEnvironment with trim_blocks and lstrip_blocks, the loopcontrols extension, a
raise_exception global and a tojson filter that keeps non-ASCII text; add_generation_prompt=True.
"""
import json
import sys

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    with open(spec["template"], encoding="utf-8", newline="") as f:
        source = f.read()
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    template = env.from_string(source)
    results = []
    for messages in spec["conversations"]:
        try:
            text = template.render(messages=messages, add_generation_prompt=True,
                                   bos_token=spec["bos_token"], eos_token=spec["eos_token"])
            results.append({"ok": True, "text": text})
        except Exception as e:  # noqa: BLE001 - any failure of the template is a result to compare
            results.append({"ok": False, "error": f"{type(e).__name__}: {e}"})
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(results, f, ensure_ascii=True)


if __name__ == "__main__":
    main()

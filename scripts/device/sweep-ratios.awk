# scripts/device/gpu-run.sh's summary: awk -f sweep-ratios.awk bench.log
# Each sweep line against its baseline measured in the same run: decode lines against "default" (or
# "default kv 4096" / "kv4096 default" for the 4096-position cache, "kv512 default" for 512), prompt lines'
# prefill against "prompt default" (or "prompt default (coopmat)"); profiled
# lines (their timestamps cost time) against the profiled baseline where there is one.
/^== sweep/ {
  s = $0; sub(/^== sweep /, "", s); sub(/: env .*/, "", s)
  split(s, parts, / \| /); model = parts[1]; label = parts[2]; next
}
/^(prefill|decode):/ && label != "" {
  v = $2 + 0
  if ($1 == "decode:" && label !~ /^prompt/) dec[model SUBSEP label] = v
  if ($1 == "prefill:" && label ~ /^prompt/) pre[model SUBSEP label] = v
  if (!((model SUBSEP label) in seen)) { seen[model SUBSEP label] = 1; order[++n] = model SUBSEP label }
}
END {
  for (i = 1; i <= n; ++i) {
    split(order[i], k, SUBSEP); m = k[1]; l = k[2]
    prof = l ~ /--profile/ ? " --profile" : ""
    if (l ~ /^prompt/) {
      base = "prompt default" prof
      if (!((m SUBSEP base) in pre)) base = "prompt default (coopmat)" prof
      have = (m SUBSEP l) in pre; v = pre[m SUBSEP l]; b = pre[m SUBSEP base]; what = "prefill"
    } else {
      base = (l ~ /kv ?4096/ ? "default kv 4096" : l ~ /kv ?512/ ? "kv512 default" : "default") prof
      if (l ~ /kv ?4096/ && !((m SUBSEP base) in dec)) base = "kv4096 default" prof
      have = (m SUBSEP l) in dec; v = dec[m SUBSEP l]; b = dec[m SUBSEP base]; what = "decode"
    }
    if (!have || l == base || b <= 0) continue
    printf "%-5s %-55s %s %9.2f tok/s = %5.3fx %s\n", m, l, what, v, v / b, base
  }
}

#!/usr/bin/env bash
# scripts/device/gpu-run.sh: the one prepared run on a lent GPU machine (issue #3). Run from the repo root
# there, with the pack made here by scripts/device/pack-gpu.sh carried in .gpu/:
#
#   run(command="PENSER_GPU_BUDGET=520 bash scripts/device/gpu-run.sh", carry=[".gpu", ".gl"], timeout_s=590)
#
# (.gl: the Debian Vulkan loader and glvnd packages, see step 0.) The sweep at the end (step 7) is a list in
# priority order: it stops where the budget runs out (the summary lists what ran).
#
# It unpacks the pack into /tmp, points the bundled Vulkan loader at the NVIDIA driver, prints the GPU
# (nvidia-smi, penser-cli devices, the bandwidth probe), runs the Vulkan op parity and evaluator suites on
# it (PENSER_VK_DEVICE), makes a 1.5B-shaped (qwen2) and an 8B-shaped (llama) Q4_K_M model with every CPU
# thread (in the background, while the suites run) and benchmarks each with --backend vulkan. Every step has
# a time limit and the whole script stops starting steps after PENSER_GPU_BUDGET seconds (default 390), so it
# ends within 7 minutes. Logs go to $OUT (the device tool brings back 8 files at most: run.log, env.txt, make-model.log, suites.log, bench.log, mv.log); the end of the output is a summary.
#
# Environment (all optional):
#   OUT                 where the logs go (default ./gpu-out)
#   PENSER_GPU_PACK     the pack (default .gpu/penser-gpu.tar.xz)
#   PENSER_GPU_ICD      the Vulkan driver manifest (default: NVIDIA's; searched for when missing)
#   PENSER_VK_DEVICE    device index for the suites (default: the device penser-cli devices marks default)
#   PENSER_GPU_SHAPES   "tiny": small models and short benches (a rehearsal on lavapipe)
#   PENSER_GPU_BUDGET   seconds after which no further step starts (default 390)
#   PENSER_GPU_MV       0: skip the decode product's micro-benchmark (step 6a)
#   PENSER_GPU_PLAN     "full" (default): everything below; "check": a short run (~4 min) for what a session
#                       changed after a full one: the suites (test_vulkan_threads alone first, as in "full"),
#                       then only the sweep lines of the "check" list (no quick/full benches)
# Rehearsal here (lavapipe): PENSER_GPU_SHAPES=tiny PENSER_GPU_BUDGET=900 \
#   PENSER_GPU_ICD=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json OUT=/tmp/gpu-out bash scripts/device/gpu-run.sh
set -u
t_start=$(date +%s)
budget=${PENSER_GPU_BUDGET:-390}
out=${OUT:-$PWD/gpu-out}
mkdir -p "$out"
pack=${PENSER_GPU_PACK:-$PWD/.gpu/penser-gpu.tar.xz}
shapes=${PENSER_GPU_SHAPES:-full}
plan=${PENSER_GPU_PLAN:-full}
log_run=$out/run.log env_log=$out/env.txt mm_log=$out/make-model.log bench_log=$out/bench.log
exec > >(tee -a "$log_run") 2>&1
summary=()

elapsed() { echo $(($(date +%s) - t_start)); }
# step NAME LIMIT_S LOG CMD...: runs CMD under a timeout no longer than the budget left, appending to LOG.
step() {
  local name=$1 limit=$2 log=$3
  shift 3
  local left=$((budget - $(elapsed)))
  if [ "$left" -lt 5 ]; then
    summary+=("SKIP  $name (budget of ${budget}s spent)")
    echo "== $name: skipped, the budget is spent"
    return 124
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  echo "== $name (limit ${limit}s, at $(elapsed)s)"
  { echo; echo "== $name: $*"; } >>"$log"
  local t0 rc
  t0=$(date +%s)
  timeout -k 5 "$limit" "$@" >>"$log" 2>&1
  rc=$?
  local dt=$(($(date +%s) - t0)) tag=ok
  [ $rc -ne 0 ] && tag="rc=$rc"
  [ $rc -eq 124 ] || [ $rc -eq 137 ] && tag="TIMEOUT after ${limit}s"
  summary+=("$(printf '%-5s %-34s %4ss' "$([ $rc -eq 0 ] && echo ok || echo FAIL)" "$name" "$dt") $([ $rc -ne 0 ] && echo "$tag")")
  echo "-- $name: $tag, ${dt}s"
  return $rc
}

echo "penser gpu-run: $(date -u +%FT%TZ) on $(uname -n), $(nproc) CPUs, shapes=$shapes, plan=$plan, budget ${budget}s, logs in $out"

# 0. The machine's own Vulkan loader and glvnd, when the lead's .gl folder of Debian packages is carried too
# (the device tool's README): the first H200 run without them failed in the loader with "Could not get
# 'vkCreateInstance' via 'vk_icdGetInstanceProcAddr' for ICD libGLX_nvidia.so.0"; with them it ran.
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1 ' && ls .gl/*.deb >/dev/null 2>&1; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
  echo "installed $(ls .gl/*.deb | wc -l) packages from .gl (Vulkan loader, glvnd)"
fi

# 1. Unpack.
[ -f "$pack" ] || { echo "no pack at $pack: run scripts/device/pack-gpu.sh here and carry .gpu"; exit 2; }
root=/tmp/penser-gpu
rm -rf "$root" && mkdir -p /tmp && tar -C /tmp -xJf "$pack" || { echo "could not unpack $pack"; exit 2; }
cli=$root/bin/penser-cli
# The driver may want a newer libstdc++ than Debian 12's: when the machine's own has every symbol version
# the pack's binaries need (GLIBCXX_3.4.30, gcc 12), it is used instead of the packed one.
for d in /usr/lib/x86_64-linux-gnu /usr/lib64 /lib/x86_64-linux-gnu; do
  if [ -e "$d/libstdc++.so.6" ] && grep -qa 'GLIBCXX_3\.4\.30' "$d/libstdc++.so.6"; then
    echo "using the machine's $d/libstdc++.so.6"
    rm -f "$root/lib/libstdc++.so.6" "$root/lib/libgcc_s.so.1"
    break
  fi
done
export LD_LIBRARY_PATH=$root/lib:/usr/local/nvidia/lib64:/usr/local/nvidia/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}:$root/lib-fallback
export QT_QPA_PLATFORM=offscreen
export XDG_RUNTIME_DIR=$(mktemp -d) && chmod 0700 "$XDG_RUNTIME_DIR"
head -3 "$root/MANIFEST"

# 2. The Vulkan driver: NVIDIA's manifest, or whatever the machine has.
icd=${PENSER_GPU_ICD:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
{
  echo "== MANIFEST"; cat "$root/MANIFEST"
  echo "== driver manifests on this machine"
  find /usr/share/vulkan /etc/vulkan /usr/local/nvidia /usr/local/share/vulkan -name '*icd*.json' 2>/dev/null
} >>"$env_log"
if [ ! -f "$icd" ]; then
  echo "no driver manifest at $icd; found:"
  found=$(find /usr/share/vulkan /etc/vulkan /usr/local/nvidia /usr/local/share/vulkan -name '*icd*.json' 2>/dev/null)
  echo "$found"
  icd=$(grep -m1 -i nvidia <<<"$found" || head -1 <<<"$found")
fi
export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd
echo "driver manifest: $icd"
{
  echo "== $icd"; cat "$icd"
  lib=$(grep -o '"library_path"[^,}]*' "$icd" | sed 's/.*: *"\(.*\)"/\1/')
  echo "== library_path $lib"
  libfile=$lib
  [ "${lib#/}" = "$lib" ] && libfile=$(for d in ${LD_LIBRARY_PATH//:/ } /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib; do
    [ -e "$d/$lib" ] && echo "$d/$lib" && break; done)
  if [ -n "$libfile" ]; then echo "resolved: $libfile"; ldd "$libfile" | grep -E 'not found|GLdispatch|vulkan' ; else echo "NOT FOUND"; fi
  echo "== missing libraries of the packed binaries (none expected)"
  for b in "$root"/bin/*; do ldd "$b" | grep 'not found' | sed "s|^|$(basename "$b"): |"; done
  echo "== ldconfig: libvulkan"; ldconfig -p 2>/dev/null | grep -i vulkan
} >>"$env_log" 2>&1

# 3. The models, made in the background (CPU only) while the GPU runs the suites.
if [ "$shapes" = tiny ]; then
  m15=(--arch qwen2 --n-embd 256 --n-ff 512 --n-layer 2 --n-head 4 --n-head-kv 2 --n-vocab 2048 --n-ctx 8192)
  m8=(--arch llama --n-embd 256 --n-ff 768 --n-layer 2 --n-head 8 --n-head-kv 2 --n-vocab 4096 --rope-freqs --n-ctx 8192)
  full_pn=(-p 8 -n 8) quick_pn=(-p 4 -n 4)
else
  m15=(--arch qwen2 --n-embd 1536 --n-ff 8960 --n-layer 28 --n-head 12 --n-head-kv 2 --n-vocab 151936 --n-ctx 8192)
  m8=(--arch llama --n-embd 4096 --n-ff 14336 --n-layer 32 --n-head 32 --n-head-kv 8 --n-vocab 128256 --rope-freqs --n-ctx 8192)
  full_pn=(-p 512 -n 128) quick_pn=(-p 32 -n 32)
fi
models=/tmp/penser-models
rm -rf "$models" && mkdir -p "$models"  # a warm machine keeps /tmp: never trust an earlier run's .ok files
rm -f /tmp/penser-suite-*
(
  timeout -k 5 150 "$cli" make-model "$models/q15b.gguf" "${m15[@]}" --type Q4_K_M --threads 0 && touch "$models/q15b.ok"
  timeout -k 5 240 "$cli" make-model "$models/l8b.gguf" "${m8[@]}" --type Q4_K_M --threads 0 && touch "$models/l8b.ok"
) >>"$mm_log" 2>&1 &
mm_pid=$!

# 4. The GPU as the driver and Penser see it.
step "nvidia-smi" 20 "$env_log" nvidia-smi
step "nvidia-smi query" 20 "$env_log" nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem,pcie.link.gen.max,power.limit --format=csv
step "penser-cli devices" 30 "$env_log" "$cli" devices
step "penser-cli devices --json" 30 "$env_log" "$cli" devices --json
if [ -z "${PENSER_VK_DEVICE:-}" ]; then
  PENSER_VK_DEVICE=$(grep -o '"default": [0-9][0-9]*' "$env_log" | tail -1 | grep -o '[0-9]*$')
fi
export PENSER_VK_DEVICE
echo "suites run on device ${PENSER_VK_DEVICE:-(default choice)}"
grep -E '^\* |driver  |memory  |free now|subgroups|limits' "$env_log" | head -12
step "devices --bandwidth" 90 "$env_log" "$cli" devices --bandwidth
grep -i 'bandwidth' "$env_log" | tail -1

# 5. Op parity and evaluator suites on the GPU (validation layer on, new buffers poisoned: as in CI), all at
# once in the background beside the model generation: one after another they could take 10 minutes of the
# budget (the validation layer is host work, and the machine has 16 cores). The benches wait for them.
suites="test_vulkan_ops test_vulkan_evaluator test_vulkan_prefill test_vulkan_batch test_vulkan_attention test_vulkan_threads"
suite_limit=$((budget / 3)); [ "$suite_limit" -gt 170 ] && suite_limit=170
[ "$plan" = check ] && suite_limit=140
# stacks_after S PID LOG: after S seconds, if PID still runs, every thread's stack (eu-stack, where packed)
# and kernel wait channel into LOG: what a hang waits on.
stacks_after() {
  local s=$1 pid=$2 log=$3 i=0
  while [ $i -lt "$s" ] && kill -0 "$pid" 2>/dev/null; do sleep 1; i=$((i + 1)); done
  kill -0 "$pid" 2>/dev/null || return 0
  local p
  for p in $(pgrep -P "$pid") "$pid"; do
    { echo "== still running after ${s}s: pid $p $(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null)"
      for t in /proc/$p/task/*; do echo "  task ${t##*/} $(cat $t/comm 2>/dev/null) wchan=$(cat $t/wchan 2>/dev/null) state=$(sed 's/.*) //' $t/stat 2>/dev/null | cut -d' ' -f1)"; done
      [ -x "$root/tools/eu-stack" ] && timeout 20 "$root/tools/eu-stack" -p "$p" 2>&1 | head -400
    } >>"$log" 2>&1
  done
}
if [ -x "$root/bin/test_vulkan_threads" ]; then
  # Alone first (4 s on the H200): the fourth H200 run (2026-11-29) saw instances_on_several_threads hang for
  # 170 s beside the other suites and the model generation; alone it passed.
  echo "== test_vulkan_threads alone (limit 35s, at $(elapsed)s)"
  t0=$(date +%s)
  VK_LAYER_PATH=$root/layers PENSER_VK_TEST_POISON=1 timeout -k 5 35 "$root/bin/test_vulkan_threads" >/tmp/penser-suite-threads-alone.log 2>&1 &
  th_pid=$!
  stacks_after 25 "$th_pid" /tmp/penser-suite-threads-alone.log
  wait "$th_pid"; rc=$?
  summary+=("$(printf '%-5s %-34s %4ss' "$([ $rc -eq 0 ] && echo ok || echo FAIL)" "test_vulkan_threads alone" "$(($(date +%s) - t0))") $([ $rc -ne 0 ] && echo "rc=$rc")")
  echo "test_vulkan_threads alone: rc=$rc $(grep -E '^Totals' /tmp/penser-suite-threads-alone.log)"
  grep -E '^FAIL!|still running|wchan' /tmp/penser-suite-threads-alone.log | head -20
  { echo "== test_vulkan_threads alone (rc=$rc)"; cat /tmp/penser-suite-threads-alone.log; } >>"$out/suites.log"
  suites=${suites% test_vulkan_threads}
fi
suite_t0=$(date +%s)
echo "== suites, all at once (limit ${suite_limit}s each, at $(elapsed)s)"
suite_pids=()
for t in $suites; do
  [ -x "$root/bin/$t" ] || continue
  rm -f "/tmp/penser-suite-$t.rc"
  ( t0=$(date +%s)
    VK_LAYER_PATH=$root/layers PENSER_VK_TEST_POISON=1 timeout -k 5 "$suite_limit" "$root/bin/$t" >"/tmp/penser-suite-$t.log" 2>&1
    echo "$? $(($(date +%s) - t0))" >"/tmp/penser-suite-$t.rc" ) &
  suite_pids+=($!)
  # A suite still running 10 s before its limit: its threads' stacks go to its log.
  ( sleep 2; tp=$(pgrep -n -f "$root/bin/$t\$") && stacks_after $((suite_limit - 12)) "$tp" "/tmp/penser-suite-$t.stacks" ) &
done
suites_done() {  # waits for the suites, then adds each one's line to the summary (once)
  [ -n "${suites_reported:-}" ] && return
  suites_reported=1
  wait "${suite_pids[@]}" 2>/dev/null
  echo "-- suites done at $(elapsed)s ($(($(date +%s) - suite_t0))s)"
  local t rc dt tag
  for t in $suites; do
    [ -f "/tmp/penser-suite-$t.rc" ] || continue
    read -r rc dt <"/tmp/penser-suite-$t.rc"
    tag=""; [ "$rc" -ne 0 ] && tag="rc=$rc"
    [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && tag="TIMEOUT after ${suite_limit}s"
    summary+=("$(printf '%-5s %-34s %4ss' "$([ "$rc" -eq 0 ] && echo ok || echo FAIL)" "$t" "$dt") $tag")
    echo "$t: rc=$rc ${dt}s $(grep -E '^Totals' "/tmp/penser-suite-$t.log" | tail -1)"
    grep -E '^FAIL!' "/tmp/penser-suite-$t.log" | head -6
    # The cooperative-matrix prompt product's real rows (they run only where VK_NV_cooperative_matrix is usable).
    [ "$t" = test_vulkan_prefill ] && grep -E '^(PASS|SKIP|FAIL!) .*mul_mm_coopmat\(.*/coopmat' "/tmp/penser-suite-$t.log" | head -4
    { echo "== $t (rc=$rc, ${dt}s)"; cat "/tmp/penser-suite-$t.log"; cat "/tmp/penser-suite-$t.stacks" 2>/dev/null; } >>"$out/suites.log"
  done
}

# 6. Benchmarks: a short run with the per-op profile first (cheap insurance), then the issue's figures.
profile=()
"$cli" bench --help 2>/dev/null | grep -q -- '--profile' && profile=(--profile)
bench_model() {  # bench_model NAME FILE OKFILE WAIT_LIMIT FULL_LIMIT
  local name=$1 file=$2 ok=$3 wait_limit=$4 full_limit=$5 waited=0
  while [ ! -e "$ok" ] && kill -0 "$mm_pid" 2>/dev/null && [ $waited -lt "$wait_limit" ] && [ $(elapsed) -lt "$budget" ]; do
    sleep 2; waited=$((waited + 2))
  done
  if [ ! -e "$ok" ]; then
    summary+=("FAIL  make-model $name (see make-model.log)")
    echo "== $name: no model (make-model failed or is still running after ${waited}s)"
    return
  fi
  grep "wrote $file" "$mm_log"
  step "bench $name quick ${profile[*]}" 60 "$bench_log" "$cli" bench "$file" --backend vulkan "${quick_pn[@]}" "${profile[@]}" --memory-bandwidth
  step "bench $name ${full_pn[*]}" "$full_limit" "$bench_log" "$cli" bench "$file" --backend vulkan "${full_pn[@]}"
  awk -v n="bench $name ${full_pn[*]}" 'index($0, "== " n) {p=1} p && /^(prefill|decode|load|decode reads|sampling|GPU mem| +device and buffers)/' "$bench_log"
}
# Let model generation (every CPU thread) finish first: a busy host slows the driver's submissions and
# made the first H200 run's 1.5B decode figure depend on the 8B generation running beside it.
while kill -0 "$mm_pid" 2>/dev/null && [ $(elapsed) -lt $((budget - 150)) ]; do sleep 2; done
suites_done  # and the suites: they share the GPU

# 6a. The decode product alone (vk_mul_mv_bench: GB/s of weights, REPEAT products per submission so that the
# submission's fixed cost is spread; matrices above the H200's 50 MiB L2 unless said): the rows per workgroup
# and lanes per item for Q4_K (the 8B's 4096-wide rows and 14336-wide ffn_down, the real gate|up with SwiGLU
# folded: 63 MiB), Q6_K, Q8_0, F32 (no conversions at all: the kernel's own ceiling), and a 1.5B model's Wo
# (1536 x 1536, 1.3 MiB: in L2, so a dispatch's fixed cost). (The H200 runs of 2026-11-30, docs/vulkan.md:
# Q4_K 1.0-1.35 TB/s, Q8_0 1.9-2.2, F32 2.6-2.8, against the probe's 4.39.) PENSER_GPU_MV=0 skips it.
mv_bench() {  # mv_bench REPEAT TYPE NCOLS NROWS VARIANT...
  local rep=$1; shift
  step "mv $1 $2x$3" 40 "$mv_log" env REPEAT="$rep" ROUNDS=5 "$root/bin/vk_mul_mv_bench" "$@"
}
if [ -x "$root/bin/vk_mul_mv_bench" ] && [ "${PENSER_GPU_MV:-1}" != 0 ]; then
  mv_log=$out/mv.log
  big=57344 mid=32768 small=1536 rep=40
  [ "$shapes" = tiny ] && big=1024 mid=512 small=256 rep=2
  # x in 8 bits (q8x=1; q8x=2: every row slot loading) first: the 2026-11-30 (evening) change.
  mv_bench $rep Q4_K 4096 $big - q8x=1 q8x=2 q8x=1,rows=8 q8x=2,rows=8 rows=8
  mv_bench $rep Q4_K 4096 $((big / 2)) fold=1 fold=1,q8x=1 fold=1,q8x=2 fold=1,q8x=2,rows=8
  mv_bench $rep Q4_K 14336 $((big / 4)) - q8x=1 q8x=2 rows=8
  mv_bench $rep Q6_K 4096 $mid - q8x=1 q8x=2 rows=8
  mv_bench $rep Q8_0 4096 $mid - q8x=1 q8x=2 rows=8
  mv_bench $rep F32 4096 $((mid / 4)) - rows=8
  mv_bench $((rep * 5)) Q4_K $small $small - q8x=1 q8x=2 rows=2
  grep -E '^ |^[A-Z0-9_]+ [0-9]+ x' "$mv_log"
fi

if [ "$plan" != check ]; then
  bench_model 1.5b "$models/q15b.gguf" "$models/q15b.ok" 150 75
  bench_model 8b "$models/l8b.gguf" "$models/l8b.ok" 240 110
fi

# 7. Last, while budget is left: the variants of the decode step that only a GPU can choose between, on both
# models, most important first (each line: a label, the environment, the bench arguments; "d" is decode
# only, "f" decode over a 4096-position cache, "p" a 512-token prompt). Default of everything first, so each
# group compares against a figure taken in the same minutes.
d="-p 0 -n 32" m="-p 0 -n 32 --kv-fill 512" f="-p 0 -n 32 --kv-fill 4096" pp="-p 512 -n 0"
[ "$shapes" = tiny ] && d="-p 0 -n 4" m="-p 0 -n 4 --kv-fill 32" f="-p 0 -n 4 --kv-fill 64" pp="-p 8 -n 0"
sweeps=(
  "default||$d"
  # The decode step's RMSNorms carried by the products (PENSER_VK_NORM_CARRY, on by default since
  # 2026-11-29 10:30: 2 of 8 barrier stages a layer fewer; unmeasured on a GPU), then with the profile
  # (bench.log: the producers' attn_output / ffn_down and the consumers' GB/s against the separate norms).
  "norm_carry=0|PENSER_VK_NORM_CARRY=0|$d"
  "norm_carry=0 ${profile[*]}|PENSER_VK_NORM_CARRY=0|$d ${profile[*]}"
  # The decode step's rope_kv inside the grouped attention (PENSER_VK_ROPE_ATTN, on by default since
  # 2026-11-29 11:30: 1 of 6 barrier stages a layer fewer; unmeasured on a GPU), at a short and a long cache.
  "rope_attn=0|PENSER_VK_ROPE_ATTN=0|$d"
  "rope_attn=0 kv 4096|PENSER_VK_ROPE_ATTN=0|$f"
  "default kv 4096||$f"
  "default ${profile[*]}||$d ${profile[*]}"
  # What the session before needed decided (2026-11-29, docs/vulkan.md), most important first: SwiGLU
  # folded into the gate|up product (PENSER_VK_SWIGLU_FOLD, on by default: unmeasured on a GPU); the prompt
  # on cooperative matrices (mul_mm_cm.comp, PENSER_VK_MUL_MM_COOPMAT=1: off by default until measured); the
  # register-blocked GPU-tile kernel (mul_mm_gpu.comp, the default) against the first one (mul_mm.comp,
  # PENSER_VK_MUL_MM_GPU=1); then the same with the per-op profile (bench.log: each product's GFLOP/s).
  "swiglu_fold=0|PENSER_VK_SWIGLU_FOLD=0|$d"
  "prompt default||$pp"
  "prompt coopmat=1|PENSER_VK_MUL_MM_COOPMAT=1|$pp"
  "prompt mul_mm.comp|PENSER_VK_MUL_MM_GPU=1|$pp"
  "prompt swiglu_fold=0|PENSER_VK_SWIGLU_FOLD=0|$pp"
  "prompt default ${profile[*]}||$pp ${profile[*]}"
  "prompt coopmat=1 ${profile[*]}|PENSER_VK_MUL_MM_COOPMAT=1|$pp ${profile[*]}"
  "prompt mul_mm.comp ${profile[*]}|PENSER_VK_MUL_MM_GPU=1|$pp ${profile[*]}"
  "prompt 128x128x32|PENSER_VK_MUL_MM_BM=128 PENSER_VK_MUL_MM_BN=128 PENSER_VK_MUL_MM_BK=32|$pp"
  "prompt 128x128x32 mul_mm.comp|PENSER_VK_MUL_MM_GPU=1 PENSER_VK_MUL_MM_BM=128 PENSER_VK_MUL_MM_BN=128 PENSER_VK_MUL_MM_BK=32|$pp"
  "prompt coopmat=1 tile 128x64|PENSER_VK_MUL_MM_COOPMAT=1 PENSER_VK_MUL_MM_CM_BM=128 PENSER_VK_MUL_MM_CM_BN=64|$pp"
  "prompt 64x64x32|PENSER_VK_MUL_MM_BM=64 PENSER_VK_MUL_MM_BN=64 PENSER_VK_MUL_MM_BK=32|$pp"
  "prompt 64x64x32 mul_mm.comp|PENSER_VK_MUL_MM_GPU=1 PENSER_VK_MUL_MM_BM=64 PENSER_VK_MUL_MM_BN=64 PENSER_VK_MUL_MM_BK=32|$pp"
  "merge=0|PENSER_VK_MERGE=0|$d"
  "merge=qkv|PENSER_VK_MERGE=qkv|$d"
  "merge=gate_up|PENSER_VK_MERGE=gate_up|$d"
  "merge=rope_kv|PENSER_VK_MERGE=rope_kv|$d"
  # A discrete GPU without resizable BAR, on this one (PENSER_VK_TEST_UNMAPPED: no device memory mapped, the
  # load through staging, the step copying its inputs): decode should equal the default's.
  "unmapped (no resizable BAR)|PENSER_VK_TEST_UNMAPPED=1|$d"
  # A 512-position cache, where attention's ranges (>= 16 positions since 2026-11-29) and its reduction
  # (rewritten then) matter most.
  "kv512 default||$m"
  "kv512 chunk=64|PENSER_VK_ATTN_CHUNK=64|$m"
  "kv512 default --profile||$m --profile"
  "kv4096 default||$f"
  "kv4096 attn=1 (per head)|PENSER_VK_ATTN=1|$f"
  "kv4096 attn wg=32|PENSER_VK_ATTN_WG=32|$f"
  "kv4096 attn wg=128|PENSER_VK_ATTN_WG=128|$f"
  "kv4096 attn heads=1|PENSER_VK_ATTN_HEADS=1|$f"
  "kv4096 attn heads=2|PENSER_VK_ATTN_HEADS=2|$f"
  "kv4096 attn block=4|PENSER_VK_ATTN_BLOCK=4|$f"
  "kv4096 attn block=16|PENSER_VK_ATTN_BLOCK=16|$f"
  "kv4096 split=16 chunk=128|PENSER_VK_ATTN_SPLIT=16 PENSER_VK_ATTN_CHUNK=128|$f"
  "kv4096 split=32 chunk=64|PENSER_VK_ATTN_SPLIT=32 PENSER_VK_ATTN_CHUNK=64|$f"
  "kv4096 split=64 chunk=32|PENSER_VK_ATTN_SPLIT=64 PENSER_VK_ATTN_CHUNK=32|$f"
  "lanes=2|PENSER_VK_MUL_MV_LANES=2|$d"
  "lanes=4|PENSER_VK_MUL_MV_LANES=4|$d"
  "lanes=2 wg=128|PENSER_VK_MUL_MV_LANES=2 PENSER_VK_MUL_MV_WG=128|$d"
  "lanes=4 wg=128 rows=4|PENSER_VK_MUL_MV_LANES=4 PENSER_VK_MUL_MV_WG=128 PENSER_VK_MUL_MV_ROWS=4|$d"
  "wide=0|PENSER_VK_MUL_MV_WIDE=0|$d"
  "weights in 64 MiB parts|PENSER_VK_MAX_ALLOCATION=67108864|$d"
  "wg=64 rows=4|PENSER_VK_MUL_MV_WG=64 PENSER_VK_MUL_MV_ROWS=4|$d"
  "wg=64 rows=8|PENSER_VK_MUL_MV_WG=64 PENSER_VK_MUL_MV_ROWS=8|$d"
  "wg=32 rows=4|PENSER_VK_MUL_MV_WG=32 PENSER_VK_MUL_MV_ROWS=4|$d"
  "wg=128 rows=4|PENSER_VK_MUL_MV_WG=128 PENSER_VK_MUL_MV_ROWS=4|$d"
  "prompt merge=0|PENSER_VK_MERGE=0|$pp"
  "prompt merge=rope_kv|PENSER_VK_MERGE=rope_kv|$pp"
  "prompt tile 256x64x32|PENSER_VK_MUL_MM_BM=256 PENSER_VK_MUL_MM_BN=64 PENSER_VK_MUL_MM_BK=32|$pp"
  "prompt tile 64x128x32|PENSER_VK_MUL_MM_BM=64 PENSER_VK_MUL_MM_BN=128 PENSER_VK_MUL_MM_BK=32|$pp"
  "prompt tile 128x32x32|PENSER_VK_MUL_MM_BM=128 PENSER_VK_MUL_MM_BN=32 PENSER_VK_MUL_MM_BK=32|$pp"
  "prompt tile 64x64x64|PENSER_VK_MUL_MM_BM=64 PENSER_VK_MUL_MM_BN=64 PENSER_VK_MUL_MM_BK=64|$pp"
  "prompt tile 128x32x64|PENSER_VK_MUL_MM_BM=128 PENSER_VK_MUL_MM_BN=32 PENSER_VK_MUL_MM_BK=64|$pp"
  "prompt coopmat=1 tile 64x128|PENSER_VK_MUL_MM_COOPMAT=1 PENSER_VK_MUL_MM_CM_BM=64 PENSER_VK_MUL_MM_CM_BN=128|$pp"
  "prompt coopmat=1 tile 32x64|PENSER_VK_MUL_MM_COOPMAT=1 PENSER_VK_MUL_MM_CM_BM=32 PENSER_VK_MUL_MM_CM_BN=64|$pp"
  "prompt mul_mm_cpu kernel|PENSER_VK_MUL_MM_KERNEL=2|$pp"
  "prompt mul_mm_cpu kernel, x shared|PENSER_VK_MUL_MM_KERNEL=2 PENSER_VK_MUL_MM_SHARE=1|$pp"
  "prompt attn_prefill=2|PENSER_VK_ATTN_PREFILL=2|$pp"
  "prompt batch=32||$pp --batch 32"
  "prompt batch=128||$pp --batch 128"
  "prompt batch=256||$pp --batch 256"
  "prompt batch=512||$pp --batch 512"
)
# The "check" plan's list (2026-11-30, evening, no GPU that session), most important first: the decode
# products with x rounded to 8 bits and integer dot products (PENSER_VK_MUL_MV_Q8X=1; =2: every row slot
# loading, no branch between the slots' loads); decode attention with a block's K and V rows loaded before
# any is used (PENSER_VK_ATTN_LOADS_FIRST=1) at 32, 4096 and 512 positions; 8 rows per workgroup
# (everywhere, or only in the matrices that keep 1024 workgroups of 8: PENSER_VK_MUL_MV_ROWS_BIG=8); the
# default (now one reduction for all of a workgroup's rows, wg_sum_rows) and the changes profiled; the
# default and the changes again last (noise).
if [ "$plan" = check ]; then
  sweeps=(
    "default||$d"
    "q8x=1|PENSER_VK_MUL_MV_Q8X=1|$d"
    "loads_first|PENSER_VK_ATTN_LOADS_FIRST=1|$d"
    "kv4096 default||$f"
    "kv4096 loads_first|PENSER_VK_ATTN_LOADS_FIRST=1|$f"
    "q8x=2|PENSER_VK_MUL_MV_Q8X=2|$d"
    "kv512 default||$m"
    "kv512 loads_first|PENSER_VK_ATTN_LOADS_FIRST=1|$m"
    "kv512 q8x=1|PENSER_VK_MUL_MV_Q8X=1|$m"
    "q8x=2 rows=8|PENSER_VK_MUL_MV_Q8X=2 PENSER_VK_MUL_MV_ROWS=8|$d"
    "rows_big=8|PENSER_VK_MUL_MV_ROWS_BIG=8|$d"
    "q8x=2 rows_big=8|PENSER_VK_MUL_MV_Q8X=2 PENSER_VK_MUL_MV_ROWS_BIG=8|$d"
    "rows=8|PENSER_VK_MUL_MV_ROWS=8|$d"
    "default ${profile[*]}||$d ${profile[*]}"
    "q8x=1 ${profile[*]}|PENSER_VK_MUL_MV_Q8X=1|$d ${profile[*]}"
    "kv4096 default ${profile[*]}||$f ${profile[*]}"
    "kv4096 loads_first ${profile[*]}|PENSER_VK_ATTN_LOADS_FIRST=1|$f ${profile[*]}"
    # The load through staging (as on a discrete GPU without resizable BAR), its copies into pinned memory
    # overlapping the transfers (two staging buffers, the default since 2026-11-30) or taking turns (one):
    # compare the `load:` lines. Lavapipe could not show it (its transfer is a memcpy on the same 2 cores).
    "load unmapped|PENSER_VK_TEST_UNMAPPED=1|-p 0 -n 1"
    "load unmapped staging=1|PENSER_VK_TEST_UNMAPPED=1 PENSER_VK_STAGING_BUFFERS=1|-p 0 -n 1"
    "default again||$d"
    "q8x=1 again|PENSER_VK_MUL_MV_Q8X=1|$d"
    "kv4096 default again||$f"
    "kv4096 loads_first again|PENSER_VK_ATTN_LOADS_FIRST=1|$f"
    "q8x=2 again|PENSER_VK_MUL_MV_Q8X=2|$d"
  )
fi
# test_vulkan_core's functions that hold on any device (the rest checks lavapipe's own limits): the device's
# description and features, every module's capabilities against what the ops gate, pipeline statistics.
if [ -x "$root/bin/test_vulkan_core" ]; then
  step "test_vulkan_core (device-neutral functions)" 40 "$out/suites.log" env VK_LAYER_PATH="$root/layers" \
    "$root/bin/test_vulkan_core" device_is_described shader_capabilities_are_covered pipeline_statistics_where_asked \
    decode_rows_per_workgroup_on_gpus products_valid_with_the_memory_model
fi

# 6b. The compiler's statistics of the decode products (PENSER_VK_PIPELINE_STATS=1: registers, spills,
# whatever the driver reports through VK_KHR_pipeline_executable_properties), default and x in 8 bits, on the
# 8B-shaped model: whether the products' registers limit the loads in flight (docs/vulkan.md, Missing 1).
stats_log=$out/pipelines.log
if [ -e "$models/l8b.ok" ]; then
  step "pipeline statistics default" 40 "$stats_log" env PENSER_VK_PIPELINE_STATS=1 "$cli" bench "$models/l8b.gguf" --backend vulkan -p 0 -n 2
  step "pipeline statistics q8x=2" 40 "$stats_log" env PENSER_VK_PIPELINE_STATS=1 PENSER_VK_MUL_MV_Q8X=2 "$cli" bench "$models/l8b.gguf" --backend vulkan -p 0 -n 2
fi

# Entry by entry, both models each (the list's order is its priority when the budget runs out).
for entry in "${sweeps[@]}"; do
  IFS='|' read -r label vars args <<<"$entry"
  for sweep_name in l8b q15b; do
    [ -e "$models/$sweep_name.ok" ] || continue
    # shellcheck disable=SC2086 # vars and args are word lists
    step "sweep $sweep_name | $label" 30 "$bench_log" env $vars "$cli" bench "$models/$sweep_name.gguf" --backend vulkan $args
  done
  [ $(elapsed) -lt "$budget" ] || break
done
kill "$mm_pid" 2>/dev/null
suites_done
rm -f "$models"/*.gguf

echo
echo "==================== summary ($(elapsed)s; logs: $(cd "$out" && ls | tr '\n' ' '))"
printf '%s\n' "${summary[@]}"
grep -h -E '^\* |bandwidth \(' "$env_log"
for t in $suites; do
  f=/tmp/penser-suite-$t.log
  [ -f "$f" ] && { echo "$t: $(grep -E '^Totals' "$f" | tail -1)"; grep -E '^FAIL!' -A2 "$f" | head -12; }
done
sed '/^== sweep/,$d' "$bench_log" | grep -E '^(== bench|backend:|prefill:|decode:|decode reads|sampling:|GPU mem:|load:| +device and buffers|memory)'
awk '/^== sweep/ {sub(/^== sweep /, ""); sub(/: env .*/, ""); name=$0} /^(prefill|decode):/ && name {print name": "$0}' "$bench_log"
[ -f "$out/mv.log" ] && { echo "---- the decode product alone (vk_mul_mv_bench, GB/s of weights):"; grep -E '^ |^[A-Z0-9_]+ [0-9]+ x' "$out/mv.log"; }
[ -f "$stats_log" ] && { echo "---- the decode products' pipeline statistics (pipelines.log has every pipeline):"; grep -E 'pipeline mul_mv_(q4_k|q6_k|q8_0)' "$stats_log" | cut -c1-400 | head -24; }
echo "---- each sweep line against its baseline of the same run (what the defaults should follow):"
awk -f "$(dirname "$0")/sweep-ratios.awk" "$bench_log"
awk '/^== bench .*quick/ {print} /^profile:/ {p=1} p && /^  / {print} /^profile:/ {print} /^  total/ {p=0}' "$bench_log" | head -90

// penser-cli bench MODEL [-p 512] [-n 128] [-r R] [--backend cpu] [--threads N] [--json]
// Load time, prefill speed (p prompt tokens, evaluated in the backend's batches), decode speed (n tokens one at
// a time, each the greedy choice of the last), peak memory and the machine. With -r R every figure but the load
// is measured R times and reported as mean and standard deviation; then the time one chat draw (R1's sampling
// defaults) takes on the last logits. With --profile (Vulkan) the decode steps
// are timed per op on the GPU (timestamps), with the weight bytes each matrix op reads per second, and so
// are the prompt batches, with the operations per second of each matrix-matrix product.
#include "app/cli/commands.h"
#include "app/cli/common.h"
#include "inference/chat/sampler.h"
#include "inference/common/threadpool.h"
#include "inference/vulkan/device.h"
#include "inference/vulkan/evaluator.h"
#include "inference/vulkan/probe.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include <sys/resource.h>
#include <sys/utsname.h>

namespace penser::cli {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct BenchOptions {
  std::string model;
  int n_prompt = 512;
  int n_gen = 128;
  int reps = 1;
  std::string backend = "cpu";
  std::optional<uint32_t> device;  // --device N (Vulkan)
  std::optional<uint32_t> batch;   // --batch N (Vulkan prompt tokens per submission)
  int threads = 0;
  bool warmup = true;
  bool memory_bandwidth = false;
  bool profile = false;
  bool json = false;
  int kv_fill = 0;  // --kv-fill N (Vulkan): start at position N over a synthetic cache
};

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

struct Stats {
  double mean = 0, stddev = 0;
  std::vector<double> samples;
};
Stats stats_of(std::vector<double> v) {
  Stats s;
  s.samples = std::move(v);
  if (s.samples.empty()) return s;
  for (double x : s.samples) s.mean += x;
  s.mean /= static_cast<double>(s.samples.size());
  if (s.samples.size() > 1) {
    double ss = 0;
    for (double x : s.samples) ss += (x - s.mean) * (x - s.mean);
    s.stddev = std::sqrt(ss / static_cast<double>(s.samples.size() - 1));
  }
  return s;
}

std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "unknown";
}

uint64_t peak_rss_bytes() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<uint64_t>(ru.ru_maxrss) * 1024;  // Linux reports KiB
}

// The read bandwidth a plain loop reaches with n_threads: each thread sums its share of a 1 GiB buffer
// (far past the caches) with four independent accumulators; the best of 5 passes, in bytes per second.
// This is the ceiling for decoding, which must read every weight once per token.
double memory_read_bandwidth(int n_threads) {
  const size_t n = (size_t{1} << 30) / sizeof(uint64_t);
  std::vector<uint64_t> buf(n);
  ThreadPool pool(n_threads);
  pool.parallel_for(static_cast<int64_t>(n), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) buf[static_cast<size_t>(i)] = static_cast<uint64_t>(i);  // touch every page
  });
  std::vector<uint64_t> sums(256);
  double best = 0;
  for (int pass = 0; pass < 5; ++pass) {
    auto t = Clock::now();
    std::atomic<int> slot{0};
    pool.parallel_for(static_cast<int64_t>(n), [&](int64_t b, int64_t e) {
      uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      const uint64_t* p = buf.data() + b;
      const uint64_t* end = buf.data() + e;
      for (; end - p >= 4; p += 4) {
        a0 += p[0];
        a1 += p[1];
        a2 += p[2];
        a3 += p[3];
      }
      for (; p < end; ++p) a0 += *p;
      sums[static_cast<size_t>(slot.fetch_add(1)) % sums.size()] += a0 + a1 + a2 + a3;
    });
    best = std::max(best, static_cast<double>(n * sizeof(uint64_t)) / seconds_since(t));
  }
  uint64_t total = 0;
  for (uint64_t x : sums) total += x;
  if (total == 42) std::fprintf(stderr, " ");  // keeps the sums observable so the loop is not optimised away
  return best;
}

// Bytes of weights one decoded token reads: every matrix once, except the embedding table, of which one
// row is read (unless the output head reuses it); 1-D tensors are small and counted in full.
uint64_t weight_bytes_per_token(const model::Model& model) {
  uint64_t bytes = model.weight_bytes();
  const model::Weights& w = model.weights();
  const bool tied = w.output.data == w.token_embd.data;
  if (w.token_embd && !tied) bytes -= w.token_embd.info->n_bytes - w.token_embd.row_bytes;
  return bytes;
}

// One row of the per-op profile: the dispatches of one op kind (matrix ops: one tensor and type) per token.
struct OpRow {
  std::string op;
  double seconds = 0;   // GPU time per token
  uint64_t bytes = 0;   // weight bytes per token
  uint32_t dispatches = 0;
  double flops = 0;     // floating-point operations per token (matrix-matrix products)
};

// "mul_mv_q4_k" + "blk.ffn_down.weight" -> "mul_mv q4_k ffn_down"; unlabelled dispatches keep the shader name.
std::string op_key(const vulkan::Recorder::DispatchTime& d) {
  if (d.label.empty()) return d.shader;
  std::string label = d.label;
  if (label.size() > 7 && label.ends_with(".weight")) label.resize(label.size() - 7);
  std::string shader = d.shader;
  if (shader.ends_with("_ubo")) shader.resize(shader.size() - 4);  // x as a uniform buffer (X_UBO): same op
  if (shader.ends_with("_xt")) shader.resize(shader.size() - 3);  // x as texels (X_TEX: mul_mv, mul_mm_cpu): same op
  if (shader.ends_with("_i64") || shader.ends_with("_q8x")) shader.resize(shader.size() - 4);  // other modules of the same op
  if (shader.ends_with("_il")) shader.resize(shader.size() - 3);  // interleaved weights (Matrix::interleaved): same op
  if (shader.rfind("mul_mm_cpu_", 0) == 0) shader = "mul_mm_" + shader.substr(11);  // mul_mm's CPU kernel: same op
  for (const char* kind : {"mul_mv_", "mul_mm_", "get_rows_"})
    if (shader.rfind(kind, 0) == 0) shader = std::string(kind, std::strlen(kind) - 1) + " " + shader.substr(std::strlen(kind));
  return shader + " " + label;
}

// Sums the dispatch times of `steps` decode steps (or the times and operations of the prompt batches that
// held `steps` tokens) into rows per op kind, per token, largest first.
std::vector<OpRow> profile_rows(const std::vector<vulkan::Recorder::DispatchTime>& dispatches, uint32_t steps) {
  std::map<std::string, OpRow> by_key;
  for (const auto& d : dispatches) {
    OpRow& r = by_key[op_key(d)];
    r.seconds += d.seconds;
    r.bytes += d.bytes;
    r.flops += double(d.flops);
    ++r.dispatches;
  }
  std::vector<OpRow> rows;
  for (auto& [key, r] : by_key) {
    r.op = key;
    r.seconds /= std::max<uint32_t>(steps, 1);
    r.flops /= std::max<uint32_t>(steps, 1);
    rows.push_back(r);
  }
  std::sort(rows.begin(), rows.end(), [](const OpRow& a, const OpRow& b) { return a.seconds > b.seconds; });
  return rows;
}

tokenizer::Token argmax(const std::vector<float>& v) {
  return static_cast<tokenizer::Token>(std::max_element(v.begin(), v.end()) - v.begin());
}

void bench(const BenchOptions& o) {
  if (o.n_prompt == 0 && o.n_gen == 0) fail("nothing to measure: -p and -n are both 0");
  std::error_code ec;
  if (!std::filesystem::exists(o.model, ec)) fail(fmt::format("{}: no such file", o.model));

  // Load: map and validate the file, bind the weights, set up the backend (KV cache for p + n tokens).
  auto t_load = Clock::now();
  auto model = load_model(o.model);
  if (o.kv_fill > 0 && o.backend != "vulkan") fail("--kv-fill writes the Vulkan KV cache: add --backend vulkan");
  const uint32_t n_ctx = static_cast<uint32_t>(o.kv_fill + o.n_prompt + o.n_gen + 1);
  auto ev = make_evaluator(*model, o.backend, o.threads, n_ctx, o.device, o.profile, o.batch);
  const double load_s = seconds_since(t_load);
  // Vulkan: the prompt path's pipelines compile in the background once loaded (while a user would type);
  // nothing below is timed while they do.
  if (o.backend == "vulkan") check(vulkan::wait_for_compiles(*ev));
  const int64_t n_vocab = model->hparams().n_vocab;

  // A fixed pseudo-random prompt: the same ids on every run and machine.
  std::mt19937_64 rng(1234);
  std::vector<tokenizer::Token> prompt(static_cast<size_t>(o.n_prompt));
  for (auto& id : prompt) id = static_cast<tokenizer::Token>(rng() % static_cast<uint64_t>(n_vocab));
  std::vector<float> logits(static_cast<size_t>(n_vocab));

  // Warm-up: one token through every weight, so the first repetition does not pay for page faults.
  double warmup_s = 0;
  if (o.warmup) {
    auto t = Clock::now();
    const tokenizer::Token first[1] = {prompt.empty() ? tokenizer::Token{0} : prompt[0]};
    check(ev->eval(first, logits));
    warmup_s = seconds_since(t);
    ev->truncate(0);
  }

  std::vector<double> prefill, decode;
  std::vector<vulkan::Recorder::DispatchTime> decode_times;  // --profile: the decode steps only
  uint32_t decode_steps = 0;
  std::vector<vulkan::Recorder::DispatchTime> prompt_times;  // --profile: the prompt batches
  uint32_t prompt_tokens = 0;
  if (o.profile) take(vulkan::take_prompt_profile(*ev));  // a warm-up of one token never batches; to be sure
  for (int r = 0; r < o.reps; ++r) {
    ev->truncate(0);
    if (o.kv_fill > 0) check(vulkan::fill_cache_for_bench(*ev, uint32_t(o.kv_fill), 99));
    tokenizer::Token next = 0;
    if (o.n_prompt > 0) {
      auto t = Clock::now();
      check(ev->eval(prompt, logits));
      prefill.push_back(o.n_prompt / seconds_since(t));
      next = argmax(logits);
      if (o.profile) {
        vulkan::PromptProfile p = take(vulkan::take_prompt_profile(*ev));
        if (prompt_times.empty()) prompt_times = p.dispatches;
        else
          for (size_t i = 0; i < p.dispatches.size() && i < prompt_times.size(); ++i) {
            prompt_times[i].seconds += p.dispatches[i].seconds;
            prompt_times[i].flops += p.dispatches[i].flops;
          }
        prompt_tokens += p.tokens;
      }
    }
    if (o.profile) take(vulkan::take_profile(*ev));  // drops the warm-up and prompt steps
    if (o.n_gen > 0) {
      auto t = Clock::now();
      for (int i = 0; i < o.n_gen; ++i) {
        const tokenizer::Token one[1] = {next};
        check(ev->eval(one, logits));
        next = argmax(logits);
      }
      decode.push_back(o.n_gen / seconds_since(t));
    }
    if (o.profile) {
      vulkan::StepProfile p = take(vulkan::take_profile(*ev));
      if (decode_times.empty()) decode_times = p.dispatches;
      else
        for (size_t i = 0; i < p.dispatches.size() && i < decode_times.size(); ++i)
          decode_times[i].seconds += p.dispatches[i].seconds;
      decode_steps += p.steps;
    }
  }
  // What the chat adds to every token it decodes, on the CPU: a draw at R1's defaults (temperature 0.6, top-p
  // 0.95) from this model's last logits. The decode above takes the greedy token instead, so that its figure
  // is the backend's alone; on a fast GPU the draw is a visible part of a token (docs/chat.md, "Sampling cost").
  double sample_s = 0;
  if (o.n_prompt > 0 || o.n_gen > 0) {
    chat::SamplerSettings ss;
    ss.seed = 1;
    chat::Sampler sampler(ss);
    (void)sampler.sample(logits, {});  // its scratch allocated
    const int draws = 64;
    const auto t = Clock::now();
    for (int i = 0; i < draws; ++i) (void)sampler.sample(logits, {});
    sample_s = seconds_since(t) / draws;
  }
  const std::vector<OpRow> rows = profile_rows(decode_times, decode_steps);
  double gpu_per_token = 0;
  for (const OpRow& r : rows) gpu_per_token += r.seconds;
  // The prompt: every repetition runs the same batches (the same recordings).
  const std::vector<OpRow> prompt_rows = profile_rows(prompt_times, prompt_tokens);
  double prompt_per_token = 0, prompt_flops = 0;
  for (const OpRow& r : prompt_rows) {
    prompt_per_token += r.seconds;
    prompt_flops += r.flops;
  }
  Stats sp = stats_of(prefill), sd = stats_of(decode);
  const uint64_t per_token = weight_bytes_per_token(*model);
  const uint64_t peak_rss = peak_rss_bytes();  // before the bandwidth probe's 1 GiB buffer
  // On Vulkan: the device memory the run held against the estimate the fit check used before loading (and
  // the driver's own count where it has VK_EXT_memory_budget), so a GPU run shows whether the estimate holds.
  std::optional<vulkan::MemoryInUse> gpu_memory;
  std::optional<vulkan::LoadTimes> gpu_load;
  if (o.backend == "vulkan") {
    gpu_memory = take(vulkan::memory_in_use(*ev));
    gpu_load = take(vulkan::load_times(*ev));
  }
  // The ceiling for decode: on the CPU backend a plain read loop; on Vulkan the device's bandwidth probe
  // (`devices --bandwidth`: the fastest plain read of a large buffer), on the device the bench ran on.
  const bool vk_probe = o.memory_bandwidth && o.backend == "vulkan";
  std::optional<vulkan::BandwidthProbe> probe;
  if (vk_probe) {
    auto instance = take(vulkan::Instance::create({}));
    auto device = take(vulkan::Device::create(*instance, take(vulkan::choose_device(instance->devices(), o.device, true))));
    vulkan::ProbeOptions po;
    po.matvec = false;
    probe = take(vulkan::measure_bandwidth(*device, po));
  }
  const double mem_bw = !o.memory_bandwidth ? 0.0 : probe ? probe->read_limit : memory_read_bandwidth(o.threads);

  struct utsname un {};
  uname(&un);
  json j;
  j["model"] = o.model;
  j["model_name"] = model->name();
  j["n_params"] = model->n_params();
  j["weight_bytes"] = model->weight_bytes();
  j["quant"] = model->quant_summary();
  j["backend"] = ev->backend_name();
  j["threads"] = o.threads;
  j["n_prompt"] = o.n_prompt;
  j["n_gen"] = o.n_gen;
  j["kv_fill"] = o.kv_fill;
  j["repetitions"] = o.reps;
  j["load_s"] = load_s;
  j["warmup_s"] = warmup_s;
  if (gpu_load)
    j["vulkan_load"] = {{"buffers_s", gpu_load->buffers_s}, {"weights_s", gpu_load->weights_s},
                        {"step_s", gpu_load->step_s}, {"total_s", gpu_load->total_s}};
  j["prefill_tok_s"] = {{"mean", sp.mean}, {"stddev", sp.stddev}, {"samples", sp.samples}};
  j["decode_tok_s"] = {{"mean", sd.mean}, {"stddev", sd.stddev}, {"samples", sd.samples}};
  j["sampling_ms_per_token"] = sample_s * 1e3;
  j["peak_rss_bytes"] = peak_rss;
  if (gpu_memory) {
    j["gpu_memory"] = {{"estimate_bytes", gpu_memory->estimate}, {"allocated_bytes", gpu_memory->allocated}};
    if (gpu_memory->driver_usage) {
      j["gpu_memory"]["driver_usage_bytes"] = *gpu_memory->driver_usage;
      j["gpu_memory"]["driver_budget_bytes"] = *gpu_memory->driver_budget;
      j["gpu_memory"]["over_budget"] = gpu_memory->over_budget();
    }
  }
  // Decode reads every weight once per token: bytes per token x tok/s is the bandwidth it achieves.
  j["weight_bytes_per_token"] = per_token;
  j["decode_weight_read_gb_s"] = static_cast<double>(per_token) * sd.mean / 1e9;
  if (o.memory_bandwidth) {
    j["memory_read_gb_s"] = mem_bw / 1e9;
    j["decode_fraction_of_memory_bound"] = mem_bw > 0 ? static_cast<double>(per_token) * sd.mean / mem_bw : 0.0;
    if (probe) j["memory_read_pattern"] = probe->limit_pattern;
  }
  if (o.profile) {
    json ops = json::array();
    for (const OpRow& r : rows)
      ops.push_back({{"op", r.op}, {"dispatches_per_token", r.dispatches}, {"gpu_us_per_token", r.seconds * 1e6},
                     {"share", gpu_per_token > 0 ? r.seconds / gpu_per_token : 0.0}, {"weight_bytes_per_token", r.bytes},
                     {"weight_gb_s", r.seconds > 0 ? double(r.bytes) / r.seconds / 1e9 : 0.0}});
    j["profile"] = {{"decode_steps", decode_steps}, {"gpu_ms_per_token", gpu_per_token * 1e3}, {"ops", ops}};
    json pops = json::array();
    for (const OpRow& r : prompt_rows)
      pops.push_back({{"op", r.op}, {"dispatches_per_batch", r.dispatches}, {"gpu_us_per_token", r.seconds * 1e6},
                      {"share", prompt_per_token > 0 ? r.seconds / prompt_per_token : 0.0},
                      {"gflop_per_token", r.flops / 1e9}, {"gflop_s", r.seconds > 0 ? r.flops / r.seconds / 1e9 : 0.0}});
    j["prompt_profile"] = {{"tokens", prompt_tokens}, {"gpu_ms_per_token", prompt_per_token * 1e3},
                           {"gflop_per_token", prompt_flops / 1e9},
                           {"gflop_s", prompt_per_token > 0 ? prompt_flops / prompt_per_token / 1e9 : 0.0}, {"ops", pops}};
  }
  j["machine"] = {{"cpu", cpu_model_name()},
                  {"hardware_threads", std::thread::hardware_concurrency()},
                  {"os", fmt::format("{} {} {}", un.sysname, un.release, un.machine)}};

  if (o.json) {
    std::printf("%s\n", j.dump(2, ' ', false, json::error_handler_t::replace).c_str());
    return;
  }
  fmt::print("model:    {} ({}, {:.3f} B params, {})\n", o.model, model->quant_summary(),
             static_cast<double>(model->n_params()) / 1e9, format_bytes(model->weight_bytes()));
  fmt::print("backend:  {}\n", ev->backend_name());
  fmt::print("machine:  {}, {} hardware threads, {} {}\n", cpu_model_name(), std::thread::hardware_concurrency(),
             un.sysname, un.release);
  fmt::print("load:     {:.3f} s (warm-up token {:.3f} s)\n", load_s, warmup_s);
  if (gpu_load)  // the Vulkan evaluator's own phases (docs/vulkan.md, "Loading")
    fmt::print("          device and buffers {:.3f} s, then the weights written in {:.3f} s beside the decode step "
               "recorded and compiled in {:.3f} s\n", gpu_load->buffers_s, gpu_load->weights_s, gpu_load->step_s);
  if (o.n_prompt > 0) fmt::print("prefill:  {:8.2f} ± {:.2f} tok/s  (p = {}, r = {})\n", sp.mean, sp.stddev, o.n_prompt, o.reps);
  if (o.n_gen > 0) fmt::print("decode:   {:8.2f} ± {:.2f} tok/s  (n = {}, r = {})\n", sd.mean, sd.stddev, o.n_gen, o.reps);
  if (o.kv_fill > 0)
    fmt::print("kv-fill:  the steps above started at position {} over a synthetic cache (random f16, no prefill)\n",
               o.kv_fill);
  if (sample_s > 0) {
    fmt::print("sampling: {:.3f} ms per token at R1's defaults (temperature 0.6, top-p 0.95; decode above is greedy)", sample_s * 1e3);
    if (o.n_gen > 0 && sd.mean > 0) fmt::print(": decode with it {:.2f} tok/s", 1.0 / (1.0 / sd.mean + sample_s));
    fmt::print("\n");
  }
  fmt::print("peak RSS: {}\n", format_bytes(peak_rss));
  if (gpu_memory) {
    fmt::print("GPU mem:  {} in Penser's buffers, estimated {} before loading", format_bytes(gpu_memory->allocated),
               format_bytes(gpu_memory->estimate));
    if (gpu_memory->driver_usage)
      fmt::print("; the driver counts {} in use of the {} it allows{}", format_bytes(*gpu_memory->driver_usage),
                 format_bytes(*gpu_memory->driver_budget),
                 gpu_memory->over_budget() ? " (OVER: it may move memory to the system's, and decode slows)" : "");
    fmt::print("\n");
  }
  if (o.n_gen > 0) {
    fmt::print("decode reads {} of weights per token: {:.2f} GB/s\n", format_bytes(per_token),
               static_cast<double>(per_token) * sd.mean / 1e9);
  }
  if (o.profile && decode_steps > 0) {
    const double wall = sd.mean > 0 ? 1.0 / sd.mean : 0.0;
    uint64_t bytes = 0;
    for (const OpRow& r : rows) bytes += r.bytes;
    fmt::print("profile:  GPU time per decode token {:.3f} ms over {} steps ({:.0f}% of the {:.3f} ms a token takes; the "
               "rest is submission, waiting and read-back)\n",
               gpu_per_token * 1e3, decode_steps, wall > 0 ? 100.0 * gpu_per_token / wall : 0.0, wall * 1e3);
    fmt::print("  {:<30} {:>6} {:>10} {:>6} {:>11} {:>8}\n", "op", "calls", "us/token", "share", "weights", "GB/s");
    for (const OpRow& r : rows) {
      fmt::print("  {:<30} {:>6} {:>10.1f} {:>5.1f}% {:>11} {:>8}\n", r.op, r.dispatches,
                 r.seconds * 1e6, gpu_per_token > 0 ? 100.0 * r.seconds / gpu_per_token : 0.0,
                 r.bytes ? format_bytes(r.bytes) : std::string("-"),
                 r.bytes && r.seconds > 0 ? fmt::format("{:.2f}", double(r.bytes) / r.seconds / 1e9) : std::string("-"));
    }
    fmt::print("  {:<30} {:>6} {:>10.1f} {:>5.1f}% {:>11} {:>8.2f}\n", "total", "", gpu_per_token * 1e6, 100.0,
               format_bytes(bytes), gpu_per_token > 0 ? double(bytes) / gpu_per_token / 1e9 : 0.0);
  }
  if (o.profile && prompt_tokens > 0) {
    const double wall = sp.mean > 0 ? 1.0 / sp.mean : 0.0;
    fmt::print("prompt:   GPU time per prompt token {:.3f} ms over {} tokens ({:.0f}% of the {:.3f} ms a token takes), "
               "{:.2f} GFLOP/s in the matrix products\n",
               prompt_per_token * 1e3, prompt_tokens, wall > 0 ? 100.0 * prompt_per_token / wall : 0.0, wall * 1e3,
               prompt_per_token > 0 ? prompt_flops / prompt_per_token / 1e9 : 0.0);
    fmt::print("  {:<30} {:>6} {:>10} {:>6} {:>9} {:>8}\n", "op", "calls", "us/token", "share", "MFLOP/tok", "GFLOP/s");
    for (const OpRow& r : prompt_rows)
      fmt::print("  {:<30} {:>6} {:>10.1f} {:>5.1f}% {:>9} {:>8}\n", r.op, r.dispatches, r.seconds * 1e6,
                 prompt_per_token > 0 ? 100.0 * r.seconds / prompt_per_token : 0.0,
                 r.flops > 0 ? fmt::format("{:.1f}", r.flops / 1e6) : std::string("-"),
                 r.flops > 0 && r.seconds > 0 ? fmt::format("{:.2f}", r.flops / r.seconds / 1e9) : std::string("-"));
    fmt::print("  {:<30} {:>6} {:>10.1f} {:>5.1f}% {:>9.1f} {:>8.2f}\n", "total", "", prompt_per_token * 1e6, 100.0,
               prompt_flops / 1e6, prompt_per_token > 0 ? prompt_flops / prompt_per_token / 1e9 : 0.0);
  }
  if (o.memory_bandwidth) {
    fmt::print("memory:   {} reaches {:.2f} GB/s: decode is at {:.0f}% of the probe ({:.1f} tok/s max)\n",
               probe ? fmt::format("the device's bandwidth probe ({})", probe->limit_pattern) : std::string("a plain read loop"),
               mem_bw / 1e9, 100.0 * static_cast<double>(per_token) * sd.mean / mem_bw,
               mem_bw / static_cast<double>(std::max<uint64_t>(per_token, 1)));
  }
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto o = std::make_shared<BenchOptions>();
  CLI::App* cmd = app.add_subcommand("bench", "Measure load time, prefill and decode speed, peak memory");
  cmd->add_option("MODEL", o->model, "GGUF file")->required();
  cmd->add_option("-p,--n-prompt", o->n_prompt, "Prompt tokens")->check(CLI::Range(0, 1 << 20))->capture_default_str();
  cmd->add_option("-n,--n-gen", o->n_gen, "Tokens to decode")->check(CLI::Range(0, 1 << 20))->capture_default_str();
  cmd->add_option("-r,--repetitions", o->reps, "Repetitions (mean and stddev)")->check(CLI::Range(1, 1000))->capture_default_str();
  add_backend_option(cmd, o->backend);
  add_device_option(cmd, o->device);
  add_batch_option(cmd, o->batch);
  cmd->add_option("--threads", o->threads, "CPU threads (0: all)")->check(CLI::Range(0, 1024))->capture_default_str();
  cmd->add_flag("!--no-warmup", o->warmup, "Skip the warm-up token");
  cmd->add_flag("--memory-bandwidth", o->memory_bandwidth,
                "Also measure the ceiling for decode: a plain memory-read loop (1 GiB, same threads); with --backend vulkan the "
                "device's bandwidth probe (`devices --bandwidth`)");
  cmd->add_flag("--profile", o->profile,
                "Vulkan: time every op of the decode steps and of the prompt batches on the GPU (timestamps) and print time, "
                "share and GB/s (decode) or GFLOP/s (prompt) per op");
  cmd->add_option("--kv-fill", o->kv_fill,
                  "Vulkan: start at position N, the KV cache filled with random values instead of a prefill of N "
                  "tokens (times decode at a long context cheaply; the logits mean nothing)")
      ->check(CLI::Range(0, 1 << 24));
  cmd->add_flag("--json", o->json, "Print JSON");
  cmd->callback([o] { bench(*o); });
}

}  // namespace penser::cli

// penser-cli quantize IN OUT TYPE [--threads N] [--quiet]
// TYPE: Q8_0, Q4_0, Q4_K, Q6_K, Q4_K_M, Q5_K_M, F16, BF16, F32 and the other types Penser can write.
#include "app/cli/commands.h"
#include "app/cli/common.h"
#include "inference/model/requantize.h"

#include <fmt/format.h>

#include <chrono>

namespace penser::cli {
namespace {

struct QuantizeOptions {
  std::string in, out, type;
  int threads = 0;
  bool quiet = false;
};

void quantize(const QuantizeOptions& o) {
  std::error_code ec;
  if (!std::filesystem::exists(o.in, ec)) fail(fmt::format("{}: no such file", o.in));
  model::QuantTarget target = take(model::QuantTarget::parse(o.type));
  auto t0 = std::chrono::steady_clock::now();
  uint64_t in_bytes = 0, out_bytes = 0;
  size_t n_fallback = 0;
  auto progress = [&](const model::TensorPlan& p, size_t i, size_t n) {
    in_bytes += quant::row_size(p.from, static_cast<int64_t>(p.shape[0])) * (p.shape.size() > 1 ? p.out_bytes / quant::row_size(p.to, static_cast<int64_t>(p.shape[0])) : 1);
    out_bytes += p.out_bytes;
    bool fallback = !p.note.empty() && p.note.rfind("1-D", 0) != 0;
    n_fallback += fallback ? 1 : 0;
    if (o.quiet && !fallback) return;
    std::string shape;
    for (uint64_t d : p.shape) shape += fmt::format("{}{}", shape.empty() ? "" : " x ", d);
    fmt::print(stderr, "[{:>4}/{}] {:<32} {:<16} {:>6} -> {:<6}{}\n", i + 1, n, p.name, shape,
               quant::type_name(p.from), quant::type_name(p.to), p.note.empty() ? "" : "  (" + p.note + ")");
  };
  check(model::requantize(o.in, o.out, target, progress, o.threads));
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  fmt::print(stderr, "wrote {} ({}, {} of tensor data) in {:.1f} s{}\n", o.out, target.name(), format_bytes(out_bytes), s,
             n_fallback ? fmt::format("; {} tensors took a fallback type (see above)", n_fallback) : "");
}

}  // namespace

void add_quantize_command(CLI::App& app) {
  auto o = std::make_shared<QuantizeOptions>();
  std::string types;
  for (const std::string& n : model::quant_target_names()) types += (types.empty() ? "" : ", ") + n;
  CLI::App* cmd = app.add_subcommand("quantize", "Rewrite a model with its weights in another type");
  cmd->add_option("IN", o->in, "Input GGUF")->required();
  cmd->add_option("OUT", o->out, "Output GGUF")->required();
  cmd->add_option("TYPE", o->type, "Target: " + types)->required();
  cmd->add_option("--threads", o->threads, "Threads (0: all)")->check(CLI::Range(0, 1024));
  cmd->add_flag("--quiet", o->quiet, "List only the tensors that took a fallback type");
  cmd->callback([o] { quantize(*o); });
}

}  // namespace penser::cli

// penser-cli logits MODEL --tokens 1,2,3 [--backend cpu] [--threads N] --out FILE
// Evaluates the ids (no BOS added) and writes the last position's logits: n_vocab little-endian float32.
#include "app/cli/commands.h"
#include "app/cli/common.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>

namespace penser::cli {
namespace {

struct LogitsOptions {
  std::string model;
  std::string tokens;
  std::string backend = "cpu";
  std::optional<uint32_t> device;  // --device N (Vulkan)
  std::optional<uint32_t> batch;   // --batch N (Vulkan prompt tokens per submission)
  int threads = 0;
  std::string out;
};

void logits(const LogitsOptions& o) {
  auto model = load_model(o.model);
  const int64_t n_vocab = model->hparams().n_vocab;
  auto ids = take(parse_token_list(o.tokens, n_vocab));
  auto ev = make_evaluator(*model, o.backend, o.threads, static_cast<uint32_t>(std::max<size_t>(ids.size(), 16)),
                           o.device, false, o.batch);
  std::vector<float> out(static_cast<size_t>(n_vocab));
  check(ev->eval(ids, out));

  std::vector<uint8_t> bytes(out.size() * 4);
  for (size_t i = 0; i < out.size(); ++i) {
    uint32_t u;
    std::memcpy(&u, &out[i], 4);
    if constexpr (std::endian::native == std::endian::big) u = __builtin_bswap32(u);
    std::memcpy(&bytes[i * 4], &u, 4);
  }
  std::FILE* f = std::fopen(o.out.c_str(), "wb");
  if (!f) fail(fmt::format("{}: cannot open for writing: {}", o.out, std::strerror(errno)));
  size_t written = std::fwrite(bytes.data(), 1, bytes.size(), f);
  bool closed = std::fclose(f) == 0;
  if (written != bytes.size() || !closed) fail(fmt::format("{}: write failed", o.out));
  std::fprintf(stderr, "wrote %lld logits (float32 LE) to %s\n", static_cast<long long>(n_vocab), o.out.c_str());
}

}  // namespace

void add_logits_command(CLI::App& app) {
  auto o = std::make_shared<LogitsOptions>();
  CLI::App* cmd = app.add_subcommand("logits", "Write the last position's logits as raw little-endian float32");
  cmd->add_option("MODEL", o->model, "GGUF file")->required();
  cmd->add_option("--tokens", o->tokens, "Token ids, fed exactly as given: 1,2,3")->required();
  add_backend_option(cmd, o->backend);
  add_device_option(cmd, o->device);
  add_batch_option(cmd, o->batch);
  cmd->add_option("--threads", o->threads, "CPU threads (0: all)")->check(CLI::Range(0, 1024));
  cmd->add_option("--out", o->out, "Output file")->required();
  cmd->callback([o] { logits(*o); });
}

}  // namespace penser::cli

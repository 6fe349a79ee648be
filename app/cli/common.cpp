#include "app/cli/common.h"

#include "inference/cpu/cpu.h"
#include "inference/vulkan/evaluator.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdio>

namespace penser::cli {

void fail(const std::string& message) {
  std::fflush(stdout);
  std::fprintf(stderr, "penser-cli: %s\n", message.c_str());
  throw CommandExit{kExitFailure};
}

Result<std::vector<tokenizer::Token>> parse_token_list(std::string_view text, int64_t n_vocab) {
  std::vector<tokenizer::Token> ids;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(pos, comma - pos);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item.empty()) {
      if (comma == text.size() && pos == text.size() && !ids.empty()) break;  // a trailing comma
      return make_error("--tokens: empty item in '{}' (expected ids separated by commas, e.g. 1,2,3)", text);
    }
    int64_t v = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (ec != std::errc() || end != item.data() + item.size()) {
      return make_error("--tokens: '{}' is not a token id (expected ids separated by commas, e.g. 1,2,3)", item);
    }
    if (v < 0 || (n_vocab >= 0 && v >= n_vocab)) {
      return make_error("--tokens: id {} is out of range: the vocabulary has ids 0 to {}", v, n_vocab - 1);
    }
    ids.push_back(static_cast<tokenizer::Token>(v));
    pos = comma + 1;
  }
  if (ids.empty()) return make_error("--tokens: no token ids given");
  return ids;
}

std::unique_ptr<model::Model> load_model(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail(fmt::format("{}: no such file", path.string()));
  return take(model::Model::load(path));
}

std::unique_ptr<model::Evaluator> make_evaluator(const model::Model& model, const std::string& backend,
                                                 int n_threads, uint32_t n_ctx, std::optional<uint32_t> device,
                                                 bool profile, std::optional<uint32_t> batch) {
  if (backend != "vulkan" && device)
    fail(fmt::format("--device {} selects a Vulkan device: add --backend vulkan", *device));
  if (backend != "vulkan" && batch)
    fail(fmt::format("--batch {} sets the Vulkan backend's prompt batch: add --backend vulkan", *batch));
  if (backend != "vulkan" && profile) fail("--profile times the Vulkan backend's GPU work: add --backend vulkan");
  if (backend == "cpu") {
    cpu::Options opt;
    if (n_ctx > 0) opt.n_ctx = n_ctx;
    opt.n_threads = n_threads;
    return take(cpu::create_evaluator(model, opt));
  }
  if (backend == "vulkan") {
    vulkan::EvaluatorOptions opt;
    if (n_ctx > 0) opt.n_ctx = n_ctx;
    opt.device = device;
    opt.profile = profile;
    if (batch) opt.n_batch = *batch;
    return take(vulkan::create_evaluator(model, opt));
  }
  fail(fmt::format("backend '{}' is not available in this build (available: cpu, vulkan)", backend));
}

void add_backend_option(CLI::App* cmd, std::string& backend) {
  cmd->add_option("--backend", backend, "Backend to compute with")
      ->check(CLI::IsMember({"cpu", "vulkan"}))
      ->default_str("cpu");
}

void add_device_option(CLI::App* cmd, std::optional<uint32_t>& device) {
  cmd->add_option("--device", device, "Vulkan device index (see `penser-cli devices`; default: the one marked *)")
      ->check(CLI::Range(0u, 1024u));
}

void add_batch_option(CLI::App* cmd, std::optional<uint32_t>& batch) {
  // A validator of our own: CLI::Range's message does not say what the number is for.
  const CLI::Validator in_range(
      [](std::string& text) -> std::string {
        uint32_t v = 0;
        if (!CLI::detail::lexical_cast(text, v) || v < 1 || v > vulkan::kMaxBatch)
          return fmt::format("the prompt tokens per Vulkan submission must be 1 to {} (got '{}')",
                             vulkan::kMaxBatch, text);
        return {};
      },
      "1..4096");
  cmd->add_option("--batch", batch,
                  "Prompt tokens per Vulkan submission (1 to 4096; default: by device type, see docs/vulkan.md); "
                  "smaller: a cancel is seen sooner, larger: fewer submissions")
      ->check(in_range);
}

std::string format_bytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  if (u == 0) return fmt::format("{} B", bytes);
  return fmt::format("{:.2f} {}", v, units[u]);
}

}  // namespace penser::cli

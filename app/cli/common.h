// Helpers shared by the penser-cli commands: failing with a user-facing message, token lists, model loading.
#pragma once

#include "inference/common/result.h"
#include "inference/model/evaluator.h"
#include "inference/model/model.h"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace penser::cli {

// Exit codes: 1 for a failure on input or environment (missing file, bad model, bad values).
constexpr int kExitFailure = 1;

// Thrown inside a command callback to end the program with `code`; main() turns it into the exit status
// after the message has been printed. Only the CLI uses it: no exception crosses the engine's API.
struct CommandExit {
  int code;
};

// Prints "penser-cli: <message>" on stderr and ends the command with kExitFailure.
[[noreturn]] void fail(const std::string& message);
[[noreturn]] inline void fail(const Error& error) { fail(error.message); }

// The value of a Result, or fail() with its message.
template <typename T>
T take(Result<T> r) {
  if (!r) fail(r.error());
  return std::move(r).value();
}
inline void check(Status s) {
  if (!s) fail(s.error());
}

// "1,2, 3" -> {1, 2, 3}. Every id must be an integer in [0, n_vocab) (n_vocab < 0: no range check).
Result<std::vector<tokenizer::Token>> parse_token_list(std::string_view text, int64_t n_vocab);

// Loads a model for inference; the error names the file and says what is wrong.
std::unique_ptr<model::Model> load_model(const std::filesystem::path& path);

// Creates the evaluator for a backend name ("cpu"). n_ctx 0: the backend's default. `device` (--device N)
// picks the Vulkan device; `profile` turns on the Vulkan decode step's GPU timestamps (bench --profile);
// `batch` (--batch N) sets the Vulkan backend's prompt tokens per submission (default: by device type).
std::unique_ptr<model::Evaluator> make_evaluator(const model::Model& model, const std::string& backend,
                                                 int n_threads, uint32_t n_ctx,
                                                 std::optional<uint32_t> device = std::nullopt, bool profile = false,
                                                 std::optional<uint32_t> batch = std::nullopt);

// Adds the --backend option (accepted values: the backends this build has).
void add_backend_option(CLI::App* cmd, std::string& backend);
// Adds --device N: the Vulkan device to use, numbered as `penser-cli devices` lists them.
void add_device_option(CLI::App* cmd, std::optional<uint32_t>& device);
// Adds --batch N (1..4096): prompt tokens per Vulkan submission (vulkan::EvaluatorOptions::n_batch).
void add_batch_option(CLI::App* cmd, std::optional<uint32_t>& batch);

// Human-readable sizes: "1.23 GiB", "512 KiB".
std::string format_bytes(uint64_t bytes);

}  // namespace penser::cli

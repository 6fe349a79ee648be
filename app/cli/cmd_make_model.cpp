// penser-cli make-model OUT --arch qwen2|llama|qwen3 [--preset r1-distill-qwen-1.5b|tiny] [--n-embd N ...]
//                       [--type F32|Q8_0|Q4_K_M|Q5_K_M|...] [--vocab-from GGUF] [--seed S]
// A random-weight model of a given shape, for tests and benchmarks (the weights mean nothing).
#include "app/cli/commands.h"
#include "app/cli/common.h"
#include "inference/gguf/gguf.h"
#include "inference/model/requantize.h"
#include "inference/model/synth.h"

#include <fmt/format.h>

#include <chrono>
#include <optional>

namespace penser::cli {
namespace {

struct MakeModelOptions {
  std::string out;
  std::string arch = "qwen2";
  std::string preset = "tiny";
  std::optional<uint32_t> n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff, n_vocab, n_ctx;
  std::optional<float> rope_base;
  std::string type = "F32";
  std::string vocab_from;
  uint64_t seed = 1;
  bool tie_embeddings = false;
  bool rope_freqs = false;
  int threads = 0;
  std::string name;
};

void make_model(const MakeModelOptions& o) {
  model::SynthSpec spec;
  if (o.arch == "qwen2") spec.arch = model::Arch::Qwen2;
  else if (o.arch == "llama") spec.arch = model::Arch::Llama;
  else spec.arch = model::Arch::Qwen3;

  if (o.preset == "r1-distill-qwen-1.5b") {
    // DeepSeek-R1-Distill-Qwen-1.5B's shape (its config.json).
    spec.n_embd = 1536;
    spec.n_layer = 28;
    spec.n_head = 12;
    spec.n_head_kv = 2;
    spec.n_ff = 8960;
    spec.n_vocab = 151936;
    spec.n_ctx_train = 131072;
    spec.rope_freq_base = 10000.0f;
    spec.rms_eps = 1e-6f;
    spec.name = "penser-synth r1-distill-qwen-1.5b shape";
  }  // "tiny": SynthSpec's defaults
  if (o.n_embd) spec.n_embd = *o.n_embd;
  if (o.n_layer) spec.n_layer = *o.n_layer;
  if (o.n_head) spec.n_head = *o.n_head;
  if (o.n_head_kv) spec.n_head_kv = *o.n_head_kv;
  if (o.head_dim) spec.head_dim = *o.head_dim;
  if (o.n_ff) spec.n_ff = *o.n_ff;
  if (o.n_vocab) spec.n_vocab = *o.n_vocab;
  if (o.n_ctx) spec.n_ctx_train = *o.n_ctx;
  if (o.rope_base) spec.rope_freq_base = *o.rope_base;
  if (!o.name.empty()) spec.name = o.name;
  spec.tie_embeddings = o.tie_embeddings;
  spec.rope_freqs = o.rope_freqs;
  spec.seed = o.seed;
  spec.n_threads = o.threads;

  if (spec.n_head == 0 || spec.n_head_kv == 0 || spec.n_head % spec.n_head_kv != 0) {
    fail(fmt::format("--n-head ({}) must be a positive multiple of --n-head-kv ({})", spec.n_head, spec.n_head_kv));
  }
  if (spec.head_dim == 0 && spec.n_embd % spec.n_head != 0) {
    fail(fmt::format("--n-embd ({}) must be a multiple of --n-head ({}), or give --head-dim", spec.n_embd, spec.n_head));
  }

  model::QuantTarget target = take(model::QuantTarget::parse(o.type));
  spec.type = target.type;
  spec.k_m = target.k_m;

  std::unique_ptr<gguf::File> vocab_file;
  if (!o.vocab_from.empty()) {
    std::error_code ec;
    if (!std::filesystem::exists(o.vocab_from, ec)) fail(fmt::format("{}: no such file", o.vocab_from));
    vocab_file = take(gguf::File::open(o.vocab_from));
    spec.vocab_source = vocab_file.get();
  }

  auto t0 = std::chrono::steady_clock::now();
  check(model::write_synth_model(spec, o.out));
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::error_code ec;
  uint64_t size = std::filesystem::file_size(o.out, ec);
  fmt::print(stderr, "wrote {} ({} {}, {} layers, n_embd {}, {}) in {:.1f} s\n", o.out, o.arch, target.name(),
             spec.n_layer, spec.n_embd, format_bytes(size), s);
}

}  // namespace

void add_make_model_command(CLI::App& app) {
  auto o = std::make_shared<MakeModelOptions>();
  CLI::App* cmd = app.add_subcommand("make-model", "Write a random-weight model of a given shape (for tests and benchmarks)");
  cmd->add_option("OUT", o->out, "Output GGUF")->required();
  cmd->add_option("--arch", o->arch, "Architecture")->check(CLI::IsMember({"qwen2", "llama", "qwen3"}))->capture_default_str();
  cmd->add_option("--preset", o->preset, "Shape preset; the size flags below override it")
      ->check(CLI::IsMember({"tiny", "r1-distill-qwen-1.5b"}))->capture_default_str();
  auto positive = CLI::Range(1u, 1u << 24);
  cmd->add_option("--n-embd", o->n_embd, "Hidden size")->check(positive);
  cmd->add_option("--n-layer", o->n_layer, "Blocks")->check(CLI::Range(1u, 1024u));
  cmd->add_option("--n-head", o->n_head, "Attention heads")->check(CLI::Range(1u, 1024u));
  cmd->add_option("--n-head-kv", o->n_head_kv, "KV heads")->check(CLI::Range(1u, 1024u));
  cmd->add_option("--head-dim", o->head_dim, "Head size (default n_embd / n_head)")->check(CLI::Range(1u, 4096u));
  cmd->add_option("--n-ff", o->n_ff, "Feed-forward size")->check(positive);
  cmd->add_option("--n-vocab", o->n_vocab, "Vocabulary size (default: the --vocab-from file's)")->check(positive);
  cmd->add_option("--n-ctx", o->n_ctx, "Training context length")->check(positive);
  cmd->add_option("--rope-base", o->rope_base, "RoPE frequency base")->check(CLI::PositiveNumber);
  cmd->add_option("--type", o->type, "Weight type (F32, F16, Q8_0, Q4_K_M, Q5_K_M, ...)")->capture_default_str();
  cmd->add_option("--vocab-from", o->vocab_from, "Take the tokenizer (and chat template) from this GGUF");
  cmd->add_option("--seed", o->seed, "Random seed")->capture_default_str();
  cmd->add_flag("--tie-embeddings", o->tie_embeddings, "No output.weight: the output head reuses token_embd");
  cmd->add_flag("--rope-freqs", o->rope_freqs, "llama: write a rope_freqs tensor (llama3 scaling)");
  cmd->add_option("--name", o->name, "general.name");
  cmd->add_option("--threads", o->threads, "Threads (0: all)")->check(CLI::Range(0, 1024));
  cmd->callback([o] { make_model(*o); });
}

}  // namespace penser::cli

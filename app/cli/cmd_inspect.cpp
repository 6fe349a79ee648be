// penser-cli inspect MODEL [--json]: what a GGUF file holds and what running it needs.
// Works from the file's metadata and tensor table, so a vocabulary-only file is inspected too.
#include "app/cli/commands.h"
#include "app/cli/common.h"
#include "inference/cpu/cpu.h"
#include "inference/gguf/gguf.h"
#include "inference/model/model.h"
#include "inference/model/requantize.h"
#include "inference/tokenizer/tokenizer.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>

namespace penser::cli {
namespace {

using nlohmann::json;

struct InspectOptions {
  std::string model;
  bool json = false;
};

// Hyper-parameter keys shown, as suffixes of "<arch>.".
constexpr const char* kHParamKeys[] = {
    "context_length",         "embedding_length",   "block_count",     "feed_forward_length",
    "attention.head_count",   "attention.head_count_kv", "attention.key_length", "attention.value_length",
    "attention.layer_norm_rms_epsilon", "rope.freq_base", "rope.dimension_count", "vocab_size",
};

json value_to_json(const gguf::Value& v) {
  if (auto s = v.as_string()) return *s;
  if (v.type() == gguf::ValueType::BOOL) return *v.as_bool();
  // A float32 shown by its shortest decimal form (1e-06, not 9.99999997e-07).
  if (auto f = std::get_if<float>(&v.v)) return std::stod(fmt::format("{}", *f));
  if (v.type() == gguf::ValueType::FLOAT64) return *v.as_float();
  if (auto i = v.as_int()) return *i;
  if (auto u = v.as_uint()) return *u;
  if (auto a = v.as_array()) return fmt::format("[{} x {}]", a->items.size(), gguf::value_type_name(a->element_type));
  return nullptr;
}

std::string first_line(const std::string& s, size_t max_len) {
  std::string line = s.substr(0, s.find('\n'));
  if (line.size() > max_len) {
    line.resize(max_len);
    while (!line.empty() && (static_cast<unsigned char>(line.back()) & 0xC0) == 0x80) line.pop_back();  // whole UTF-8
    if (!line.empty() && static_cast<unsigned char>(line.back()) >= 0xC0) line.pop_back();
    line += "...";
  }
  return line;
}

void inspect(const InspectOptions& o) {
  std::error_code ec;
  if (!std::filesystem::exists(o.model, ec)) fail(fmt::format("{}: no such file", o.model));
  auto file = take(gguf::File::open(o.model));
  json j;
  j["file"] = o.model;
  j["file_size"] = file->file_size();
  j["gguf_version"] = file->version();
  const std::string* name = file->get_string("general.name");
  j["name"] = name ? *name : std::filesystem::path(o.model).filename().string();
  const std::string* arch_p = file->get_string("general.architecture");
  std::string arch = arch_p ? *arch_p : "";
  j["architecture"] = arch;
  if (auto ft = file->get_uint("general.file_type")) {
    j["file_type"] = *ft;
    j["file_type_name"] = std::string(model::file_type_name(*ft));  // "" for a value llama.cpp does not name
  }

  // Hyper-parameters as the file states them.
  json hp = json::object();
  if (!arch.empty()) {
    for (const char* key : kHParamKeys) {
      if (const gguf::Value* v = file->find(arch + "." + key)) hp[key] = value_to_json(*v);
    }
  }
  j["hparams"] = hp;

  // Tensors: count, quant mix, parameters, bytes.
  std::map<std::string, std::pair<uint64_t, uint64_t>> mix;  // type -> (count, bytes)
  uint64_t n_params = 0, weight_bytes = 0;
  for (const auto& t : file->tensors()) {
    auto& m = mix[quant::type_name(t.type)];
    m.first += 1;
    m.second += t.n_bytes;
    n_params += t.n_elements();
    weight_bytes += t.n_bytes;
  }
  j["n_tensors"] = file->tensors().size();
  j["has_weights"] = !file->tensors().empty();
  json jmix = json::array();
  for (const auto& [type, cb] : mix) jmix.push_back({{"type", type}, {"count", cb.first}, {"bytes", cb.second}});
  j["quant_mix"] = jmix;
  j["n_params"] = n_params;
  j["weight_bytes"] = weight_bytes;

  // Tokenizer.
  json tok;
  const std::string* tmodel = file->get_string("tokenizer.ggml.model");
  const std::string* tpre = file->get_string("tokenizer.ggml.pre");
  tok["model"] = tmodel ? *tmodel : "";
  tok["pre"] = tpre ? *tpre : "";
  const gguf::Array* tokens = file->get_array("tokenizer.ggml.tokens");
  tok["n_tokens"] = tokens ? tokens->items.size() : 0;
  auto vocab = tokenizer::Vocab::from_gguf(*file);
  if (vocab) {
    const auto& v = **vocab;
    tok["bos"] = v.bos();
    tok["eos"] = v.eos();
    tok["bos_text"] = v.bos() >= 0 ? v.token_text(v.bos()) : "";
    tok["eos_text"] = v.eos() >= 0 ? v.token_text(v.eos()) : "";
    tok["add_bos"] = v.add_bos();
    tok["eog"] = v.eog_tokens();
  } else {
    if (auto b = file->get_uint("tokenizer.ggml.bos_token_id")) tok["bos"] = *b;
    if (auto e = file->get_uint("tokenizer.ggml.eos_token_id")) tok["eos"] = *e;
    tok["error"] = vocab.error().message;
  }
  j["tokenizer"] = tok;

  // Chat template.
  const std::string* tmpl = file->get_string("tokenizer.chat_template");
  j["chat_template"] = {{"present", tmpl != nullptr},
                        {"length", tmpl ? tmpl->size() : 0},
                        {"first_line", tmpl ? first_line(*tmpl, 100) : ""}};

  // Memory need: the weights (mapped) plus an f16 KV cache (K and V, every layer) for a context.
  uint64_t n_ctx_train = arch.empty() ? 0 : file->get_uint(arch + ".context_length").value_or(0);
  uint64_t n_layer = arch.empty() ? 0 : file->get_uint(arch + ".block_count").value_or(0);
  uint64_t n_embd = arch.empty() ? 0 : file->get_uint(arch + ".embedding_length").value_or(0);
  uint64_t n_head = arch.empty() ? 0 : file->get_uint(arch + ".attention.head_count").value_or(0);
  uint64_t n_head_kv = arch.empty() ? 0 : file->get_uint(arch + ".attention.head_count_kv").value_or(n_head);
  uint64_t head_dim = arch.empty() ? 0 : file->get_uint(arch + ".attention.key_length").value_or(n_head ? n_embd / n_head : 0);
  auto kv_bytes = [&](uint64_t n_ctx) { return 2ull * n_layer * n_ctx * n_head_kv * head_dim * 2ull; };
  uint64_t default_ctx = cpu::Options{}.n_ctx;
  if (n_ctx_train > 0) default_ctx = std::min<uint64_t>(default_ctx, n_ctx_train);
  json mem;
  mem["weights_bytes"] = weight_bytes;
  mem["kv_cache_type"] = "f16";
  mem["default_ctx"] = default_ctx;
  mem["kv_bytes_default_ctx"] = kv_bytes(default_ctx);
  mem["total_default_ctx"] = weight_bytes + kv_bytes(default_ctx);
  mem["n_ctx_train"] = n_ctx_train;
  mem["kv_bytes_train_ctx"] = kv_bytes(n_ctx_train);
  mem["total_train_ctx"] = weight_bytes + kv_bytes(n_ctx_train);
  j["memory"] = mem;

  // Can the engine run it? Only asked for files with weights.
  if (!file->tensors().empty()) {
    // The file stays mapped for the text below; mapping it twice costs address space, not memory.
    auto m = model::Model::load(o.model);
    j["loadable"] = m.has_value();
    if (!m) j["load_error"] = m.error().message;
  } else {
    j["loadable"] = false;
    j["load_error"] = "the file has no weights (vocabulary only)";
  }

  if (o.json) {
    std::printf("%s\n", j.dump(2, ' ', false, json::error_handler_t::replace).c_str());
    return;
  }

  auto str = [](const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
  fmt::print("file:          {} ({}, GGUF v{})\n", o.model, format_bytes(j["file_size"].get<uint64_t>()),
             j["gguf_version"].get<uint32_t>());
  fmt::print("name:          {}\n", str(j["name"]));
  fmt::print("architecture:  {}\n", arch.empty() ? "(none)" : arch);
  if (j.contains("file_type")) {
    const std::string ft_name = j["file_type_name"].get<std::string>();
    fmt::print("file type:     {} (general.file_type {})\n", ft_name.empty() ? "unknown" : ft_name,
               j["file_type"].get<uint64_t>());
  }
  if (!hp.empty()) {
    fmt::print("hyper-parameters:\n");
    for (const auto& [k, v] : hp.items()) fmt::print("  {:<34} {}\n", k, str(v));
  }
  if (mix.empty()) {
    fmt::print("tensors:       0 (no weights: vocabulary-only file)\n");
  } else {
    fmt::print("tensors:       {}\n", j["n_tensors"].get<uint64_t>());
    const double np = static_cast<double>(n_params);
    fmt::print("parameters:    {} ({})\n", n_params,
               np >= 1e9 ? fmt::format("{:.2f} B", np / 1e9) : np >= 1e6 ? fmt::format("{:.2f} M", np / 1e6)
                                                                   : fmt::format("{:.1f} K", np / 1e3));
    fmt::print("weights:       {} ({:.2f} bits per parameter)\n", format_bytes(weight_bytes),
               n_params ? 8.0 * static_cast<double>(weight_bytes) / static_cast<double>(n_params) : 0.0);
    fmt::print("quant mix:\n");
    for (const auto& [type, cb] : mix) fmt::print("  {:<8} {:>5} tensors  {:>12}\n", type, cb.first, format_bytes(cb.second));
  }
  fmt::print("tokenizer:     model {}, pre {}, {} tokens\n", str(tok["model"]), str(tok["pre"]), str(tok["n_tokens"]));
  if (tok.contains("bos_text")) {
    fmt::print("  BOS {} {}, EOS {} {}, add_bos {}\n", str(tok["bos"]), str(tok["bos_text"]), str(tok["eos"]),
               str(tok["eos_text"]), str(tok["add_bos"]));
  } else if (tok.contains("error")) {
    fmt::print("  not usable: {}\n", str(tok["error"]));
  }
  if (tmpl) {
    fmt::print("chat template: present, {} bytes, first line: {}\n", tmpl->size(), first_line(*tmpl, 100));
  } else {
    fmt::print("chat template: none\n");
  }
  fmt::print("memory need (weights + f16 KV cache):\n");
  fmt::print("  at n_ctx {:<8} {} (KV {})\n", default_ctx, format_bytes(weight_bytes + kv_bytes(default_ctx)),
             format_bytes(kv_bytes(default_ctx)));
  fmt::print("  at n_ctx {:<8} {} (KV {}, the training context)\n", n_ctx_train,
             format_bytes(weight_bytes + kv_bytes(n_ctx_train)), format_bytes(kv_bytes(n_ctx_train)));
  if (j["loadable"].get<bool>()) {
    fmt::print("loadable:      yes\n");
  } else {
    fmt::print("loadable:      no: {}\n", str(j["load_error"]));
  }
}

}  // namespace

void add_inspect_command(CLI::App& app) {
  auto o = std::make_shared<InspectOptions>();
  CLI::App* cmd = app.add_subcommand("inspect", "Show what a GGUF model holds: hyper-parameters, quant mix, tokenizer, memory need");
  cmd->add_option("MODEL", o->model, "GGUF file")->required();
  cmd->add_flag("--json", o->json, "Print JSON");
  cmd->callback([o] { inspect(*o); });
}

}  // namespace penser::cli

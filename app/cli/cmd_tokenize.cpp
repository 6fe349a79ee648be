// penser-cli tokenize MODEL --text TEXT [--add-bos] [--no-parse-special] [--json]
#include "app/cli/commands.h"
#include "app/cli/common.h"
#include "inference/gguf/gguf.h"
#include "inference/tokenizer/tokenizer.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>

namespace penser::cli {
namespace {

struct TokenizeOptions {
  std::string model;
  std::string text;
  bool add_bos = false;
  bool no_parse_special = false;
  bool json = false;
};

// A piece shown between quotes: control characters escaped so one token stays on one line.
std::string printable(const std::string& bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else if (c == '\\') out += "\\\\";
    else if (c < 0x20 || c == 0x7F) out += fmt::format("\\x{:02x}", c);
    else out += static_cast<char>(c);
  }
  return out;
}

void tokenize(const TokenizeOptions& o) {
  std::error_code ec;
  if (!std::filesystem::exists(o.model, ec)) fail(fmt::format("{}: no such file", o.model));
  auto file = take(gguf::File::open(o.model));
  auto vocab = take(tokenizer::Vocab::from_gguf(*file));
  std::vector<tokenizer::Token> ids = vocab->encode(o.text, o.add_bos, !o.no_parse_special);
  if (o.json) {
    std::printf("%s\n", nlohmann::json(ids).dump().c_str());
    return;
  }
  for (tokenizer::Token id : ids) {
    // The piece's bytes may be part of a UTF-8 character: shown as they are, one token per line.
    fmt::print("{:>7}  '{}'\n", id, printable(vocab->token_to_bytes(id)));
  }
  fmt::print("{} tokens\n", ids.size());
}

}  // namespace

void add_tokenize_command(CLI::App& app) {
  auto o = std::make_shared<TokenizeOptions>();
  CLI::App* cmd = app.add_subcommand("tokenize", "Turn text into token ids with a model's tokenizer");
  cmd->add_option("MODEL", o->model, "GGUF file (a vocabulary-only file is enough)")->required();
  cmd->add_option("--text", o->text, "Text to tokenize")->required();
  cmd->add_flag("--add-bos", o->add_bos, "Prepend the BOS token");
  cmd->add_flag("--no-parse-special", o->no_parse_special,
                "Treat the text of special tokens (<｜User｜>, <think>) as ordinary text");
  cmd->add_flag("--json", o->json, "Print a JSON array of ids");
  cmd->callback([o] { tokenize(*o); });
}

}  // namespace penser::cli

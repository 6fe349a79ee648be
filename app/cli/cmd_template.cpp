// penser-cli template MODEL --messages conv.json [--json]
// Prints the prompt a conversation becomes with the model's chat template, so anyone can check it.
#include "app/cli/commands.h"
#include "app/cli/common.h"
#include "inference/chat/template.h"
#include "inference/gguf/gguf.h"
#include "inference/tokenizer/tokenizer.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace penser::cli {

// Conversation files, shared with `penser-cli chat` (declared there): a JSON list of {"role", "content"}
// objects, or an object with such a list under "messages" (as OpenAI-style request bodies have it).

Result<std::vector<chat::Message>> parse_conversation(const std::string& json_text, const std::string& source) {
  nlohmann::json j = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return make_error("{}: not valid JSON", source);
  if (j.is_object() && j.contains("messages")) j = j["messages"];
  if (!j.is_array()) return make_error("{}: expected a list of {{\"role\", \"content\"}} objects", source);
  std::vector<chat::Message> out;
  for (size_t i = 0; i < j.size(); ++i) {
    const nlohmann::json& m = j[i];
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string())
      return make_error("{}: message {} has no \"role\" string", source, i + 1);
    chat::Message msg;
    msg.role = m["role"].get<std::string>();
    if (m.contains("content") && !m["content"].is_null()) {
      if (!m["content"].is_string()) return make_error("{}: message {}: \"content\" must be a string", source, i + 1);
      msg.content = m["content"].get<std::string>();
    }
    out.push_back(std::move(msg));
  }
  return out;
}

Result<std::vector<chat::Message>> read_conversation(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return make_error("{}: cannot open the file", path);
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_conversation(ss.str(), path);
}


namespace {

struct TemplateOptions {
  std::string model;
  std::string messages;
  bool json = false;
  bool no_generation_prompt = false;
};

void render_template(const TemplateOptions& o) {
  std::error_code ec;
  if (!std::filesystem::exists(o.model, ec)) fail(fmt::format("{}: no such file", o.model));
  std::vector<chat::Message> messages = take(read_conversation(o.messages));
  auto file = take(gguf::File::open(o.model));
  auto vocab = take(tokenizer::Vocab::from_gguf(*file));
  chat::ChatTemplate t = chat::ChatTemplate::detect(file->get_string("tokenizer.chat_template"));
  std::string prompt = take(t.render(messages, chat::render_options_for(*vocab, !o.no_generation_prompt)));
  if (o.json) {
    nlohmann::json j;
    j["family"] = chat::family_name(t.family());
    j["exact"] = t.exact();
    j["warning"] = t.warning();
    j["prompt"] = prompt;
    j["tokens"] = vocab->encode(prompt, false, true);
    std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return;
  }
  if (!t.warning().empty()) std::fprintf(stderr, "penser-cli: warning: %s\n", t.warning().c_str());
  // The prompt exactly, with nothing added: `penser-cli template ... > prompt.txt` is comparable byte for byte.
  std::fwrite(prompt.data(), 1, prompt.size(), stdout);
}

}  // namespace

void add_template_command(CLI::App& app) {
  auto o = std::make_shared<TemplateOptions>();
  CLI::App* cmd = app.add_subcommand("template", "Print the prompt a conversation becomes with the model's chat template");
  cmd->add_option("MODEL", o->model, "GGUF file (a vocabulary-only file is enough)")->required();
  cmd->add_option("--messages", o->messages, "JSON file: a list of {\"role\", \"content\"} objects")->required();
  cmd->add_flag("--no-generation-prompt", o->no_generation_prompt, "Leave out the assistant's opening");
  cmd->add_flag("--json", o->json, "Print {family, exact, warning, prompt, tokens} as JSON");
  cmd->callback([o] { render_template(*o); });
}

}  // namespace penser::cli

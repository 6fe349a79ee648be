// Chat templates: a conversation rendered into the prompt text a model was trained on.
//
// Penser does not interpret Jinja. It recognises the template families of the models it runs
// (DeepSeek-R1-Distill-Qwen/Llama, DeepSeek-R1-0528-Qwen3, plain Qwen3) from the GGUF's
// tokenizer.chat_template and renders them with hand-written code whose output is tested byte for byte
// against Python's jinja2 running the real template (tests/chat/). Why and how: docs/chat.md.
#pragma once

#include "inference/common/result.h"

#include <string>
#include <string_view>
#include <vector>

namespace penser::tokenizer { class Vocab; }

namespace penser::chat {

// One message of a conversation. role: "system", "user" or "assistant". An assistant message may hold its
// thinking (`...</think>answer`); every supported template drops it from earlier turns.
struct Message {
  std::string role;
  std::string content;
};

enum class TemplateFamily {
  R1Distill,  // DeepSeek-R1-Distill-Qwen / -Llama: <｜User｜>…<｜Assistant｜>…<｜end▁of▁sentence｜>
  R1_0528,    // DeepSeek-R1-0528 (and its Qwen3-8B distill): the same markers, <｜Assistant｜> after each user turn
  Qwen3,      // Qwen3: <|im_start|>role\n…<|im_end|>\n
  Generic,    // no template or an unknown one: the R1-Distill format (documented in docs/chat.md)
};
const char* family_name(TemplateFamily family);

struct RenderOptions {
  std::string bos_token;   // the vocabulary's BOS text ("" when it has none)
  std::string eos_token;   // the vocabulary's EOS text
  bool add_generation_prompt = true;
};

class ChatTemplate {
 public:
  // Recognises a GGUF tokenizer.chat_template (nullptr: the file has none).
  static ChatTemplate detect(const std::string* template_text);
  static ChatTemplate of_family(TemplateFamily family);

  TemplateFamily family() const { return family_; }
  // True when the text is one of the published templates Penser was tested against, byte for byte.
  bool exact() const { return exact_; }
  // A sentence the UI can show when the prompt format is a guess; empty when the template is known.
  const std::string& warning() const { return warning_; }

  // Renders the conversation as the model's own template would. Fails on a role the template family does
  // not render (only system, user and assistant are accepted).
  Result<std::string> render(const std::vector<Message>& messages, const RenderOptions& options) const;

  // The text after which the model is thinking when the prompt ends with it ("<think>\n"), and whether the
  // family's models expect it. R1 models are started inside their thought (DeepSeek's advice); a template
  // that does not write it (R1-0528) gets it appended by the session. Qwen3 opens its thought itself.
  bool starts_thinking() const { return family_ != TemplateFamily::Qwen3; }

  // The prompt a model generates from: render(), then "<think>\n" appended when the family starts thinking,
  // the generation prompt is asked for and the template did not already write it (what a chat session and
  // `penser-cli run` feed the model).
  Result<std::string> render_for_generation(const std::vector<Message>& messages, const RenderOptions& options) const;

 private:
  TemplateFamily family_ = TemplateFamily::Generic;
  bool exact_ = false;
  std::string warning_;
};

// FNV-1a 64 of the template text without one trailing newline (Jinja drops it too): how known templates
// are recognised exactly.
uint64_t template_fingerprint(std::string_view text);

// The BOS/EOS texts of a vocabulary, for RenderOptions.
RenderOptions render_options_for(const tokenizer::Vocab& vocab, bool add_generation_prompt = true);

}  // namespace penser::chat

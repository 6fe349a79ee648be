// Hand-written renderers for the chat templates of the R1 family and Qwen3. Each function mirrors one
// published Jinja template (tests/data/templates/, provenance in docs/chat.md) for the roles Penser sends;
// tests/chat/test_chat_template compares the bytes with jinja2 running the template itself.
#include "inference/chat/template.h"

#include "inference/tokenizer/tokenizer.h"

#include <array>

namespace penser::chat {
namespace {

constexpr std::string_view kUser = "<｜User｜>";
constexpr std::string_view kAssistant = "<｜Assistant｜>";
constexpr std::string_view kEndOfSentence = "<｜end▁of▁sentence｜>";  // written literally by the templates
constexpr std::string_view kThinkOpen = "<think>";
constexpr std::string_view kThinkClose = "</think>";

struct Known {
  uint64_t fingerprint;
  TemplateFamily family;
  const char* name;
};
// Fingerprints of the published templates in tests/data/templates/ (the test checks them).
constexpr std::array<Known, 3> kKnown = {{
    {0x845fdf813c637ee2ull, TemplateFamily::R1Distill, "DeepSeek-R1-Distill-Qwen/Llama"},
    {0x7ff5dc8544430267ull, TemplateFamily::R1_0528, "DeepSeek-R1-0528-Qwen3"},
    {0x2bfdb7aa9754484eull, TemplateFamily::Qwen3, "Qwen3"},
}};

bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

// Python's str.split(sep)[-1] and [0].
std::string_view after_last(std::string_view s, std::string_view sep) {
  size_t at = s.rfind(sep);
  return at == std::string_view::npos ? s : s.substr(at + sep.size());
}
std::string_view before_first(std::string_view s, std::string_view sep) {
  size_t at = s.find(sep);
  return at == std::string_view::npos ? s : s.substr(0, at);
}
// Python's str.lstrip('\n'), rstrip('\n'), strip('\n').
std::string_view lstrip_nl(std::string_view s) {
  while (!s.empty() && s.front() == '\n') s.remove_prefix(1);
  return s;
}
std::string_view rstrip_nl(std::string_view s) {
  while (!s.empty() && s.back() == '\n') s.remove_suffix(1);
  return s;
}
std::string_view strip_nl(std::string_view s) { return rstrip_nl(lstrip_nl(s)); }

// DeepSeek-R1-Distill-Qwen/-Llama (the template with `<｜Assistant｜><think>\n` as generation prompt):
// the LAST system message is the system text; assistant turns keep only what follows their last </think>.
std::string render_r1_distill(const std::vector<Message>& messages, const RenderOptions& o) {
  std::string system;
  for (const Message& m : messages)
    if (m.role == "system") system = m.content;
  std::string out = o.bos_token + system;
  for (const Message& m : messages) {
    if (m.role == "user") {
      out.append(kUser).append(m.content);
    } else if (m.role == "assistant") {
      out.append(kAssistant).append(after_last(m.content, kThinkClose)).append(kEndOfSentence);
    }
  }
  if (o.add_generation_prompt) out.append(kAssistant).append(kThinkOpen).append("\n");
  return out;
}

// DeepSeek-R1-0528: every system message joined by a blank line; `<｜Assistant｜>` follows each user turn,
// and the generation prompt adds one only when the conversation does not end with a user turn.
std::string render_r1_0528(const std::vector<Message>& messages, const RenderOptions& o) {
  std::string system;
  bool first_system = true;
  for (const Message& m : messages) {
    if (m.role != "system") continue;
    if (!first_system) system += "\n\n";
    system += m.content;
    first_system = false;
  }
  std::string out = o.bos_token + system;
  bool last_is_user = false;
  for (const Message& m : messages) {
    if (m.role == "user") {
      out.append(kUser).append(m.content).append(kAssistant);
      last_is_user = true;
    } else if (m.role == "assistant") {
      out.append(after_last(m.content, kThinkClose)).append(kEndOfSentence);
      last_is_user = false;
    }
  }
  if (o.add_generation_prompt && !last_is_user) out.append(kAssistant);
  return out;
}

// Qwen3: ChatML. A leading system message opens the prompt; assistant turns after the last user query keep
// their thinking (re-wrapped), earlier ones lose it.
Result<std::string> render_qwen3(const std::vector<Message>& messages, const RenderOptions& o) {
  // The template reads messages[0].role, which Jinja refuses on an empty list.
  if (messages.empty()) return make_error("the conversation has no messages");
  std::string out;
  if (messages[0].role == "system") out += "<|im_start|>system\n" + messages[0].content + "<|im_end|>\n";
  // The last user message that is not a wrapped tool response.
  size_t last_query = messages.size() - 1;
  for (size_t i = messages.size(); i-- > 0;) {
    const std::string& c = messages[i].content;
    bool tool_response = c.starts_with("<tool_response>") && c.ends_with("</tool_response>");
    if (messages[i].role == "user" && !tool_response) {
      last_query = i;
      break;
    }
  }
  for (size_t i = 0; i < messages.size(); ++i) {
    const Message& m = messages[i];
    if (m.role == "user" || (m.role == "system" && i != 0)) {
      out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
    } else if (m.role == "assistant") {
      std::string_view content = m.content;
      std::string_view reasoning;
      if (contains(m.content, kThinkClose)) {
        content = lstrip_nl(after_last(m.content, kThinkClose));
        reasoning = lstrip_nl(after_last(rstrip_nl(before_first(m.content, kThinkClose)), kThinkOpen));
      }
      bool last = i + 1 == messages.size();
      out += "<|im_start|>assistant\n";
      if (i > last_query && (last || !reasoning.empty())) {
        out.append("<think>\n").append(strip_nl(reasoning)).append("\n</think>\n\n").append(lstrip_nl(content));
      } else {
        out.append(content);
      }
      out += "<|im_end|>\n";
    }
  }
  if (o.add_generation_prompt) out += "<|im_start|>assistant\n";
  return out;
}

}  // namespace

const char* family_name(TemplateFamily family) {
  switch (family) {
    case TemplateFamily::R1Distill: return "deepseek-r1-distill";
    case TemplateFamily::R1_0528: return "deepseek-r1-0528";
    case TemplateFamily::Qwen3: return "qwen3";
    case TemplateFamily::Generic: return "generic";
  }
  return "generic";
}

uint64_t template_fingerprint(std::string_view text) {
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

ChatTemplate ChatTemplate::of_family(TemplateFamily family) {
  ChatTemplate t;
  t.family_ = family;
  t.exact_ = family != TemplateFamily::Generic;
  return t;
}

ChatTemplate ChatTemplate::detect(const std::string* text) {
  ChatTemplate t;
  if (text == nullptr || text->empty()) {
    t.warning_ = "This model file has no chat template. Penser writes the prompt in the DeepSeek R1 format, "
                 "which may not suit this model.";
    return t;
  }
  uint64_t fp = template_fingerprint(*text);
  for (const Known& k : kKnown) {
    if (k.fingerprint == fp) {
      t.family_ = k.family;
      t.exact_ = true;
      return t;
    }
  }
  // Not a published text Penser was tested against: guess the family from its markers.
  if (contains(*text, kUser) && contains(*text, kAssistant)) {
    t.family_ = contains(*text, "is_last_user") ? TemplateFamily::R1_0528 : TemplateFamily::R1Distill;
  } else if (contains(*text, "<|im_start|>") && contains(*text, kThinkClose)) {
    t.family_ = TemplateFamily::Qwen3;
  }
  if (t.family_ == TemplateFamily::Generic) {
    t.warning_ = "This model's chat template is not one Penser knows. Penser writes the prompt in the DeepSeek "
                 "R1 format, which may not suit this model.";
  } else {
    t.warning_ = fmt::format("This model's chat template differs from the published {0} template that Penser "
                             "was tested with; the prompt is written in the {0} format and may differ slightly "
                             "from what the model expects.", family_name(t.family_));
  }
  return t;
}

Result<std::string> ChatTemplate::render(const std::vector<Message>& messages, const RenderOptions& options) const {
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string& r = messages[i].role;
    if (r != "system" && r != "user" && r != "assistant") {
      return make_error("message {} has role \"{}\"; only system, user and assistant messages are supported",
                        i + 1, r);
    }
  }
  switch (family_) {
    case TemplateFamily::R1_0528: return render_r1_0528(messages, options);
    case TemplateFamily::Qwen3: return render_qwen3(messages, options);
    case TemplateFamily::R1Distill:
    case TemplateFamily::Generic: return render_r1_distill(messages, options);
  }
  return render_r1_distill(messages, options);
}

Result<std::string> ChatTemplate::render_for_generation(const std::vector<Message>& messages,
                                                        const RenderOptions& options) const {
  PENSER_ASSIGN_OR_RETURN(std::string text, render(messages, options));
  constexpr std::string_view kThinkOpen = "<think>\n";
  if (options.add_generation_prompt && starts_thinking() && !text.ends_with(kThinkOpen)) text += kThinkOpen;
  return text;
}

RenderOptions render_options_for(const tokenizer::Vocab& vocab, bool add_generation_prompt) {
  RenderOptions o;
  if (vocab.bos() >= 0) o.bos_token = vocab.token_to_bytes(vocab.bos());
  if (vocab.eos() >= 0) o.eos_token = vocab.token_to_bytes(vocab.eos());
  o.add_generation_prompt = add_generation_prompt;
  return o;
}

}  // namespace penser::chat

// Loading and validating a byte-level BPE vocabulary.
#include "inference/gguf/gguf.h"
#include "inference/tokenizer/tokenizer.h"
#include "inference/tokenizer/unicode.h"
#include "inference/tokenizer/vocab_impl.h"

#include <algorithm>
#include <limits>

namespace penser::tokenizer {

// ---- MergeTable ----

void MergeTable::reserve(size_t n) {
  size_t cap = 16;
  while (cap < 2 * n) cap *= 2;  // load factor <= 1/2
  slots_.assign(cap, Entry{});
  mask_ = cap - 1;
  size_ = 0;
}

bool MergeTable::insert(Token left, Token right, int32_t rank, Token result) {
  PENSER_ASSERT(2 * (size_ + 1) <= slots_.size());
  const uint64_t key = make_key(left, right);
  for (uint64_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
    Entry& e = slots_[i];
    if (e.key == key) return false;
    if (e.key == kEmpty) {
      e = Entry{key, rank, result};
      ++size_;
      return true;
    }
  }
}

// ---- TextIndex ----

void TextIndex::build(const std::vector<std::string>& texts) {
  texts_ = &texts;
  size_t cap = 16;
  while (cap < 2 * texts.size()) cap *= 2;
  slots_.assign(cap, Slot{});
  mask_ = cap - 1;
  for (size_t id = 0; id < texts.size(); ++id) {
    const uint64_t h = hash(texts[id]);
    for (uint64_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.id < 0) {
        s = Slot{uint32_t(h), Token(id)};
        break;
      }
      if (s.hash == uint32_t(h) && texts[size_t(s.id)] == texts[id]) break;
    }
  }
}

// ---- names ----

const char* pre_tokenizer_name(PreTokenizer p) {
  switch (p) {
    case PreTokenizer::Qwen2: return "qwen2";
    case PreTokenizer::Llama3: return "llama3";
  }
  return "?";
}

namespace {

constexpr const char* kSupportedPre = "'deepseek-r1-qwen' or 'qwen2' (Qwen2), 'llama-bpe' or 'llama3' (Llama 3)";

// Control tokens that end a turn or a text in the model families Penser meets. Matched by text because files
// give only EOS (and sometimes EOT) an id of its own.
constexpr std::string_view kEndMarkers[] = {
    "<｜end▁of▁sentence｜>",  // DeepSeek (U+FF5C bars, U+2581)
    "<|EOT|>",                // DeepSeek
    "<|endoftext|>",          // GPT-2, Qwen
    "<|im_end|>",             // Qwen ChatML
    "<|eot_id|>",             // Llama 3
    "<|eom_id|>",             // Llama 3.1
    "<|end_of_text|>",        // Llama 3
    "<|end|>",                // Phi-3
    "<end_of_turn>",          // Gemma
    "<EOT>",
};

std::string quoted_list_of_types() { return "0..6 (UNDEFINED, NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE)"; }

// What a token decodes to: GPT-2 stand-in characters back to bytes. Text with a character that is no byte's
// stand-in is not byte-level text; it is kept as it is (what Hugging Face's ByteLevel decoder does).
std::string token_bytes(const std::string& text, TokenType type) {
  if (type == TokenType::CONTROL || type == TokenType::USER_DEFINED) return text;
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const unicode::Decoded d = unicode::decode_one(text, i);
    const int b = d.valid ? unicode::byte_from_cpt(d.cpt) : -1;
    if (b < 0) return text;
    out += static_cast<char>(b);
    i += d.len;
  }
  return out;
}

Result<int64_t> read_id(const gguf::File& file, const char* key) {
  const gguf::Value* v = file.find(key);
  if (!v) return int64_t{-1};
  const std::optional<int64_t> id = v->as_int();
  if (!id) return make_error("{}: {} has type {}, expected an integer token id", file.name(), key,
                             gguf::value_type_name(v->type()));
  return *id;
}

Result<const gguf::Array*> read_array(const gguf::File& file, const char* key, gguf::ValueType element, bool required) {
  const gguf::Value* v = file.find(key);
  if (!v) {
    if (required) return make_error("{}: the tokenizer key {} is missing", file.name(), key);
    return static_cast<const gguf::Array*>(nullptr);
  }
  const gguf::Array* a = v->as_array();
  if (!a) return make_error("{}: {} has type {}, expected an array", file.name(), key, gguf::value_type_name(v->type()));
  for (size_t i = 0; i < a->items.size(); ++i) {
    const gguf::ValueType t = a->items[i].type();
    const bool ok = element == gguf::ValueType::STRING ? t == gguf::ValueType::STRING
                                                        : a->items[i].as_int().has_value();
    if (!ok) return make_error("{}: {}[{}] has type {}, expected {}", file.name(), key, i, gguf::value_type_name(t),
                               element == gguf::ValueType::STRING ? "string" : "an integer type");
  }
  return a;
}

}  // namespace

// ---- loading ----

Result<std::shared_ptr<const Vocab>> Vocab::from_gguf(const gguf::File& file) {
  VocabData d;
  const std::string* model = file.get_string("tokenizer.ggml.model");
  if (!model) {
    if (file.find("tokenizer.ggml.model"))
      return make_error("{}: tokenizer.ggml.model should be a string", file.name());
    return make_error("{}: the file has no tokenizer (tokenizer.ggml.model is missing)", file.name());
  }
  d.model = *model;
  if (d.model != "gpt2")  // checked here too so that a SentencePiece file fails before its arrays are read
    return make_error("{}: unsupported tokenizer '{}' (tokenizer.ggml.model); Penser supports byte-level BPE ('gpt2')",
                      file.name(), d.model);
  if (const gguf::Value* pre = file.find("tokenizer.ggml.pre")) {
    if (!pre->as_string()) return make_error("{}: tokenizer.ggml.pre should be a string", file.name());
    d.pre = *pre->as_string();
  }

  PENSER_ASSIGN_OR_RETURN(const gguf::Array* tokens, read_array(file, "tokenizer.ggml.tokens", gguf::ValueType::STRING, true));
  PENSER_ASSIGN_OR_RETURN(const gguf::Array* types, read_array(file, "tokenizer.ggml.token_type", gguf::ValueType::INT32, false));
  PENSER_ASSIGN_OR_RETURN(const gguf::Array* merges, read_array(file, "tokenizer.ggml.merges", gguf::ValueType::STRING, true));
  d.tokens.reserve(tokens->items.size());
  for (const gguf::Value& v : tokens->items) d.tokens.push_back(*v.as_string());
  if (types) {
    d.token_types.reserve(types->items.size());
    for (const gguf::Value& v : types->items) {
      const int64_t t = *v.as_int();
      d.token_types.push_back(t < 0 || t > 6 ? -1 : static_cast<int32_t>(t));  // -1: rejected by from_data
    }
  }
  d.merges.reserve(merges->items.size());
  for (const gguf::Value& v : merges->items) d.merges.push_back(*v.as_string());

  PENSER_ASSIGN_OR_RETURN(d.bos, read_id(file, "tokenizer.ggml.bos_token_id"));
  PENSER_ASSIGN_OR_RETURN(d.eos, read_id(file, "tokenizer.ggml.eos_token_id"));
  PENSER_ASSIGN_OR_RETURN(d.eot, read_id(file, "tokenizer.ggml.eot_token_id"));
  PENSER_ASSIGN_OR_RETURN(d.pad, read_id(file, "tokenizer.ggml.padding_token_id"));
  if (const gguf::Value* v = file.find("tokenizer.ggml.add_bos_token")) {
    if (!v->as_bool()) return make_error("{}: tokenizer.ggml.add_bos_token should be a bool", file.name());
    d.add_bos = *v->as_bool();
  }
  return from_data(std::move(d), file.name());
}

Result<std::shared_ptr<const Vocab>> Vocab::from_data(VocabData d, std::string_view source) {
  if (d.model != "gpt2")
    return make_error("{}: unsupported tokenizer '{}' (tokenizer.ggml.model); Penser supports byte-level BPE ('gpt2')",
                      source, d.model);
  auto impl = std::make_unique<Impl>();
  if (d.pre == "deepseek-r1-qwen" || d.pre == "qwen2") {
    impl->pre = PreTokenizer::Qwen2;
    impl->normalize_nfc = true;
  } else if (d.pre == "llama-bpe" || d.pre == "llama3") {
    impl->pre = PreTokenizer::Llama3;
    impl->ignore_merges = true;
  } else if (d.pre.empty()) {
    return make_error("{}: tokenizer.ggml.pre is missing, so the pre-tokenizer is unknown; supported: {}", source,
                      kSupportedPre);
  } else {
    return make_error("{}: unsupported pre-tokenizer '{}' (tokenizer.ggml.pre); supported: {}", source, d.pre,
                      kSupportedPre);
  }

  const size_t n = d.tokens.size();
  if (n == 0) return make_error("{}: tokenizer.ggml.tokens is empty", source);
  if (n > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    return make_error("{}: tokenizer.ggml.tokens has {} entries, more than a token id can hold", source, n);
  if (!d.token_types.empty() && d.token_types.size() != n)
    return make_error("{}: tokenizer.ggml.token_type has {} entries but tokenizer.ggml.tokens has {}", source,
                      d.token_types.size(), n);

  impl->texts = std::move(d.tokens);
  impl->types.resize(n, TokenType::NORMAL);
  for (size_t i = 0; i < d.token_types.size(); ++i) {
    const int32_t t = d.token_types[i];
    if (t < 0 || t > 6)
      return make_error("{}: tokenizer.ggml.token_type[{}] is {}; valid types are {}", source, i, t,
                        quoted_list_of_types());
    impl->types[i] = static_cast<TokenType>(t);
  }

  const struct { int64_t v; Token* out; const char* key; } ids[] = {
      {d.bos, &impl->bos, "tokenizer.ggml.bos_token_id"},
      {d.eos, &impl->eos, "tokenizer.ggml.eos_token_id"},
      {d.eot, &impl->eot, "tokenizer.ggml.eot_token_id"},
      {d.pad, &impl->pad, "tokenizer.ggml.padding_token_id"},
  };
  for (const auto& id : ids) {
    // Some converters write -1 (or its u32 form) for "none".
    if (id.v == -1 || id.v == 0xFFFFFFFFLL) continue;
    if (id.v < 0 || id.v >= static_cast<int64_t>(n))
      return make_error("{}: {} is {}, outside the vocabulary of {} tokens", source, id.key, id.v, n);
    *id.out = static_cast<Token>(id.v);
  }
  impl->add_bos = d.add_bos;

  impl->by_text.build(impl->texts);
  impl->bytes.resize(n);
  for (size_t i = 0; i < n; ++i) impl->bytes[i] = token_bytes(impl->texts[i], impl->types[i]);

  std::string stand_in;
  for (int b = 0; b < 256; ++b) {
    stand_in.clear();
    unicode::append_utf8(stand_in, unicode::byte_to_cpt(static_cast<uint8_t>(b)));
    const Token id = impl->by_text.find(stand_in);
    if (id < 0)
      return make_error("{}: the vocabulary has no token for byte 0x{:02X} ('{}'), which byte-level BPE needs", source,
                        b, stand_in);
    impl->byte_tokens[b] = id;
  }

  // Merges, in rank order. A merge whose parts or result are not tokens can never apply to token
  // sequences; it is skipped, as is a repeated pair (the first rank wins).
  impl->merges.reserve(d.merges.size());
  std::string joined;
  for (size_t r = 0; r < d.merges.size(); ++r) {
    const std::string& m = d.merges[r];
    const size_t sp = m.find(' ', 1);
    if (sp == std::string::npos || sp + 1 >= m.size())
      return make_error("{}: tokenizer.ggml.merges[{}] is '{}', not two tokens separated by a space", source, r, m);
    const std::string_view left(m.data(), sp), right(m.data() + sp + 1, m.size() - sp - 1);
    joined.assign(left);
    joined.append(right);
    const Token l = impl->by_text.find(left), rt = impl->by_text.find(right), j = impl->by_text.find(joined);
    if (l < 0 || rt < 0 || j < 0) continue;
    impl->merges.insert(l, rt, static_cast<int32_t>(r), j);
  }

  // Special tokens, and end-of-generation tokens.
  impl->eog_flag.assign(n, 0);
  const auto mark_eog = [&](Token t) {
    if (t >= 0 && !impl->eog_flag[t]) {
      impl->eog_flag[t] = 1;
      impl->eog.push_back(t);
    }
  };
  mark_eog(impl->eos);
  mark_eog(impl->eot);
  for (size_t i = 0; i < n; ++i) {
    const TokenType t = impl->types[i];
    if ((t != TokenType::CONTROL && t != TokenType::USER_DEFINED) || impl->texts[i].empty()) continue;
    impl->specials.push_back(static_cast<Token>(i));
    if (t == TokenType::CONTROL &&
        std::find(std::begin(kEndMarkers), std::end(kEndMarkers), impl->texts[i]) != std::end(kEndMarkers))
      mark_eog(static_cast<Token>(i));
  }
  std::sort(impl->eog.begin(), impl->eog.end());
  for (Token t : impl->specials) impl->specials_by_byte[static_cast<uint8_t>(impl->texts[t][0])].push_back(t);
  for (auto& list : impl->specials_by_byte) {
    std::stable_sort(list.begin(), list.end(),
                     [&](Token a, Token b) { return impl->texts[a].size() > impl->texts[b].size(); });
  }

  std::shared_ptr<Vocab> vocab(new Vocab());
  vocab->impl_ = std::move(impl);
  return std::shared_ptr<const Vocab>(std::move(vocab));
}

// ---- accessors ----

Vocab::Vocab() = default;
Vocab::~Vocab() = default;

int32_t Vocab::n_tokens() const { return static_cast<int32_t>(impl_->texts.size()); }
int32_t Vocab::n_merges() const { return static_cast<int32_t>(impl_->merges.size()); }

const std::string& Vocab::token_text(Token id) const {
  PENSER_ASSERT(id >= 0 && id < n_tokens());
  return impl_->texts[id];
}

TokenType Vocab::token_type(Token id) const {
  PENSER_ASSERT(id >= 0 && id < n_tokens());
  return impl_->types[id];
}

Token Vocab::find(std::string_view text) const { return impl_->by_text.find(text); }

Token Vocab::bos() const { return impl_->bos; }
Token Vocab::eos() const { return impl_->eos; }
Token Vocab::eot() const { return impl_->eot; }
Token Vocab::pad() const { return impl_->pad; }
bool Vocab::add_bos() const { return impl_->add_bos; }
PreTokenizer Vocab::pre_tokenizer() const { return impl_->pre; }
const std::vector<Token>& Vocab::special_tokens() const { return impl_->specials; }
bool Vocab::is_eog(Token id) const { return id >= 0 && id < n_tokens() && impl_->eog_flag[id]; }
const std::vector<Token>& Vocab::eog_tokens() const { return impl_->eog; }

}  // namespace penser::tokenizer

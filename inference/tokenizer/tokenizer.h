// Byte-level BPE (tokenizer.ggml.model = "gpt2") as the R1 distilled models use it, read from a GGUF.
//
// A Vocab is immutable after loading and shared between threads; encode() keeps its scratch per call,
// so any number of threads may encode with one Vocab at once.
#pragma once

#include "inference/common/result.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace penser::gguf { class File; }

namespace penser::tokenizer {

using Token = int32_t;

// tokenizer.ggml.token_type values, as llama.cpp's converter writes them.
enum class TokenType : int32_t { UNDEFINED = 0, NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6 };

enum class PreTokenizer { Qwen2, Llama3 };
const char* pre_tokenizer_name(PreTokenizer p);

// The tokenizer.ggml.* content of a file, before validation. from_gguf() fills one from the file; tests and
// tools may build one directly. Ids are -1 when the file has none.
struct VocabData {
  std::string model;  // tokenizer.ggml.model; only "gpt2" is supported
  std::string pre;    // tokenizer.ggml.pre
  std::vector<std::string> tokens;
  std::vector<int32_t> token_types;  // TokenType values; may be empty (all NORMAL)
  std::vector<std::string> merges;   // "left right", in rank order
  int64_t bos = -1, eos = -1, eot = -1, pad = -1;
  bool add_bos = false;
};

class Vocab {
 public:
  // Reads tokens, types, merges, BOS/EOS/EOT/PAD, add_bos and the pre-tokenizer from the file's
  // tokenizer.ggml.* keys. Errors name the key and the problem (unsupported model or pre-tokenizer too).
  static Result<std::shared_ptr<const Vocab>> from_gguf(const gguf::File& file);
  // Validates and builds (lengths, ids in range, merges made of known tokens, the 256 byte tokens present).
  // `source` names the origin in error messages.
  static Result<std::shared_ptr<const Vocab>> from_data(VocabData data, std::string_view source = "vocabulary");

  // Text to ids. add_bos prepends BOS (when the vocabulary has one). parse_special matches the text of
  // CONTROL and USER_DEFINED tokens written in the text (`<｜User｜>`, `<think>`) as single tokens;
  // without it they are ordinary text. Qwen2-family vocabularies NFC-normalize first; Llama 3 does not.
  // Invalid UTF-8 in `text` is read as U+FFFD (see below). `text` must be shorter than 4 GiB.
  std::vector<Token> encode(std::string_view text, bool add_bos, bool parse_special) const;

  // The bytes a token stands for (the GPT-2 byte mapping undone); control tokens give their text.
  // An id outside [0, n_tokens()) gives nothing (here, in decode() and in the Detokenizer).
  std::string token_to_bytes(Token id) const;
  std::string decode(const std::vector<Token>& ids) const;  // may end in an incomplete UTF-8 sequence

  int32_t n_tokens() const;
  const std::string& token_text(Token id) const;  // as stored in the file (GPT-2 byte-level form); id in range
  TokenType token_type(Token id) const;           // id in range
  Token find(std::string_view token_text) const;  // -1 when absent
  Token bos() const;                              // -1 when absent
  Token eos() const;
  Token eot() const;                              // -1 when absent
  Token pad() const;                              // -1 when absent
  int32_t n_merges() const;
  bool add_bos() const;
  PreTokenizer pre_tokenizer() const;
  // CONTROL and USER_DEFINED tokens: the ones encode(..., parse_special = true) matches in text.
  const std::vector<Token>& special_tokens() const;
  // End-of-generation tokens: EOS, EOT and the file's other end markers (e.g. <|eot_id|>, <|endoftext|>).
  bool is_eog(Token id) const;
  const std::vector<Token>& eog_tokens() const;

  ~Vocab();

 private:
  Vocab();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Invalid UTF-8 given to encode() is read as U+FFFD, one per maximal ill-formed subsequence (the Unicode
// "substitution of maximal subparts" practice, as Python's errors="replace" and WHATWG do).

// Turns a stream of ids into text pieces that are always whole UTF-8: bytes of a character split
// across tokens are held back until the character is complete. flush() returns what is left
// (invalid trailing bytes become U+FFFD).
class Detokenizer {
 public:
  explicit Detokenizer(const Vocab& vocab) : vocab_(&vocab) {}
  std::string push(Token id);
  std::string flush();

 private:
  const Vocab* vocab_;
  std::string pending_;
};

}  // namespace penser::tokenizer

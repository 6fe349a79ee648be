// Pre-tokenizers (internal): split text into the pieces BPE runs on, as the model's Hugging Face
// tokenizer.json regex does. Written as hand-made matchers over code points; the regexes are in
// pretokenizer.cpp beside the code.
#pragma once

#include "inference/tokenizer/tokenizer.h"

#include <cstdint>
#include <string_view>
#include <vector>

namespace penser::tokenizer {

struct Piece {
  uint32_t begin;  // byte offsets into the text
  uint32_t end;
};

// Scratch reused between calls by one thread.
struct PreTokenizeScratch {
  std::vector<uint32_t> cpts;
  std::vector<uint32_t> offsets;  // byte offset of each code point, plus one past the end
  std::vector<uint8_t> classes;
};

// `text` must be valid UTF-8 (sanitize first). Appends the pieces, in order, covering all of text.
void pre_tokenize(PreTokenizer kind, std::string_view text, PreTokenizeScratch& scratch, std::vector<Piece>& out);

}  // namespace penser::tokenizer

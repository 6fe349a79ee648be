// Unicode helpers for the tokenizer (internal): UTF-8 decoding with replacement, the character classes the
// pre-tokenizer regexes use, NFC, and the GPT-2 byte <-> character mapping.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace penser::tokenizer::unicode {

constexpr uint32_t kReplacement = 0xFFFD;

// One step of UTF-8 decoding at s[pos]. `len` is the number of bytes consumed (>= 1). When the bytes at pos are
// ill-formed, cpt is U+FFFD and len covers the maximal subpart (a lead byte plus the continuation bytes that
// were still acceptable), as Unicode's "substitution of maximal subparts" says. `incomplete` is true when the
// ill-formed part runs into the end of the input and could still become a character with more bytes.
struct Decoded {
  uint32_t cpt;
  uint32_t len;
  bool valid;
  bool incomplete;
};
Decoded decode_one(std::string_view s, size_t pos);

// Replaces every ill-formed subsequence by U+FFFD. Returns the input unchanged (no copy) when it is valid.
bool is_valid_utf8(std::string_view s);
std::string sanitize_utf8(std::string_view s);

void append_utf8(std::string& out, uint32_t cpt);

// Character classes as Oniguruma (the regex engine of Hugging Face tokenizers) defines them:
//   \p{L}: general categories Lu Ll Lt Lm Lo;  \p{N}: Nd Nl No;
//   \s: U+0009..U+000D, U+0085 and the categories Zs Zl Zp.
// Categories come from utf8proc.
enum : uint8_t { kLetter = 1, kNumber = 2, kSpace = 4 };
uint8_t classify(uint32_t cpt);

// Canonical composition (NFC) of valid UTF-8.
std::string nfc(std::string_view valid_utf8);

// GPT-2 byte-level mapping: every byte has a printable stand-in character (space -> U+0120 'Ġ').
uint32_t byte_to_cpt(uint8_t b);
int byte_from_cpt(uint32_t cpt);  // -1 when cpt is no byte's stand-in

}  // namespace penser::tokenizer::unicode

#include "inference/tokenizer/pretokenizer.h"

#include "inference/common/result.h"
#include "inference/tokenizer/unicode.h"

#include <cstdint>

namespace penser::tokenizer {

namespace {

using unicode::kLetter;
using unicode::kNumber;
using unicode::kSpace;

bool is_cr_lf(uint32_t c) { return c == '\r' || c == '\n'; }

// Case folding for the contraction letters. Besides ASCII, U+017F LATIN SMALL LETTER LONG S folds to 's'
// (CaseFolding.txt), and the reference regex engines (Oniguruma, JavaScript's /iu) fold it; no other
// character folds to one of "strevmld".
uint32_t fold_contraction_letter(uint32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c == 0x017F) return 's';
  return c;
}

// Both pre-tokenizers share one regex but for the digit rule:
//
// Qwen2 (tokenizer.json of Qwen2 / DeepSeek-R1-Distill-Qwen):
//   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
// Llama 3 (tokenizer.json of Meta-Llama-3, also tiktoken's cl100k_base):
//   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// The splitter takes the leftmost alternative that matches at the current position (backtracking regex
// semantics), emits it, and continues after it. Every code point is a letter, a number, whitespace or
// "other", and each kind is matched by some alternative, so nothing is ever left unmatched.
class Matcher {
 public:
  Matcher(const std::vector<uint32_t>& cpts, const std::vector<uint8_t>& classes, uint32_t max_digits)
      : c_(cpts), k_(classes), n_(cpts.size()), max_digits_(max_digits) {}

  // Length in code points of the match at i (i < n).
  size_t match(size_t i) const {
    if (size_t m = contraction(i)) return m;
    if (size_t m = letters(i)) return m;
    if (is(i, kNumber)) {  // \p{N}  or  \p{N}{1,3}
      size_t j = i + 1;
      while (j < n_ && j - i < max_digits_ && is(j, kNumber)) ++j;
      return j - i;
    }
    if (size_t m = punctuation(i)) return m;
    return whitespace(i);
  }

 private:
  bool is(size_t i, uint8_t cls) const { return (k_[i] & cls) != 0; }
  // [^\s\p{L}\p{N}]
  bool is_other(size_t i) const { return k_[i] == 0; }

  // (?i:'s|'t|'re|'ve|'m|'ll|'d)
  size_t contraction(size_t i) const {
    if (c_[i] != '\'' || i + 1 >= n_) return 0;
    const uint32_t a = fold_contraction_letter(c_[i + 1]);
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
    if (i + 2 >= n_) return 0;
    const uint32_t b = fold_contraction_letter(c_[i + 2]);
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
    return 0;
  }

  // [^\r\n\p{L}\p{N}]?\p{L}+
  size_t letters(size_t i) const {
    size_t j = i;
    if (!is(j, kLetter)) {
      if (is_cr_lf(c_[j]) || is(j, kNumber) || j + 1 >= n_ || !is(j + 1, kLetter)) return 0;
      ++j;
    }
    while (j < n_ && is(j, kLetter)) ++j;
    return j - i;
  }

  //  ?[^\s\p{L}\p{N}]+[\r\n]*
  size_t punctuation(size_t i) const {
    size_t j = i;
    if (c_[j] == ' ' && j + 1 < n_ && is_other(j + 1)) ++j;
    if (!is_other(j)) return 0;
    while (j < n_ && is_other(j)) ++j;
    while (j < n_ && is_cr_lf(c_[j])) ++j;
    return j - i;
  }

  // \s*[\r\n]+|\s+(?!\S)|\s+  (only reached at whitespace: every other class matched above)
  size_t whitespace(size_t i) const {
    size_t end = i;  // end of the whitespace run
    size_t last_newline = SIZE_MAX;
    while (end < n_ && is(end, kSpace)) {
      if (is_cr_lf(c_[end])) last_newline = end;
      ++end;
    }
    // \s*[\r\n]+ : \s* backs off until [\r\n]+ can match; the match ends after the run's last newline.
    if (last_newline != SIZE_MAX) return last_newline + 1 - i;
    // \s+(?!\S) : the whole run at the end of the text, else all of it but the last character (which then
    // leads the next piece, e.g. the space of " word").
    if (end == n_) return end - i;
    if (end - i >= 2) return end - 1 - i;
    // \s+
    return end - i;
  }

  const std::vector<uint32_t>& c_;
  const std::vector<uint8_t>& k_;
  size_t n_;
  size_t max_digits_;
};

}  // namespace

void pre_tokenize(PreTokenizer kind, std::string_view text, PreTokenizeScratch& s, std::vector<Piece>& out) {
  PENSER_ASSERT(text.size() < UINT32_MAX);  // offsets are 32-bit (documented on Vocab::encode)
  s.cpts.clear();
  s.offsets.clear();
  s.classes.clear();
  size_t pos = 0;
  while (pos < text.size()) {
    const unicode::Decoded d = unicode::decode_one(text, pos);
    s.cpts.push_back(d.cpt);
    s.offsets.push_back(static_cast<uint32_t>(pos));
    s.classes.push_back(unicode::classify(d.cpt));
    pos += d.len;
  }
  s.offsets.push_back(static_cast<uint32_t>(text.size()));

  const Matcher m(s.cpts, s.classes, kind == PreTokenizer::Llama3 ? 3 : 1);
  size_t i = 0;
  while (i < s.cpts.size()) {
    const size_t len = m.match(i);
    PENSER_ASSERT(len > 0);
    out.push_back({s.offsets[i], s.offsets[i + len]});
    i += len;
  }
}

}  // namespace penser::tokenizer

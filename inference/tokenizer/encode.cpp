// Text to ids: special-token splitting, normalization, pre-tokenization and byte-level BPE merges.
#include "inference/tokenizer/pretokenizer.h"
#include "inference/tokenizer/tokenizer.h"
#include "inference/tokenizer/unicode.h"
#include "inference/tokenizer/vocab_impl.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstring>

namespace penser::tokenizer {

// Per-call scratch: the Vocab itself is never written after loading, so encode() is thread-safe.
struct EncodeScratch {
  PreTokenizeScratch pre;
  std::vector<Piece> pieces;
  std::string mapped;  // a piece in GPT-2 stand-in characters (for the whole-word lookup)

  // Symbols of the word being merged, as a doubly linked list over positions.
  std::vector<Token> ids;  // -1 once merged into its left neighbour
  std::vector<int32_t> prev, next;
  struct Candidate {
    int32_t rank;
    int32_t pos;  // left symbol
    Token left, right, result;
  };
  std::vector<Candidate> heap;
};

namespace {

// Lowest rank first; among equal ranks (the same pair at several places) the leftmost first.
struct CandidateAfter {
  bool operator()(const EncodeScratch::Candidate& a, const EncodeScratch::Candidate& b) const {
    return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
  }
};

}  // namespace

namespace {

constexpr size_t kShortWord = 16;
constexpr int32_t kNoMerge = INT32_MAX;

}  // namespace

// Byte-level BPE on one piece: start from one symbol per byte and repeatedly apply the lowest-ranked merge
// among adjacent pairs, leftmost first, until no pair has a merge. Short pieces (most words) keep the
// symbols in a small array with the rank of each adjacent pair and rescan it; longer ones use a linked
// list and a heap of candidates, O(n log n), skipping stale candidates (a side already merged away).
void Vocab::Impl::bpe(std::string_view piece, EncodeScratch& s, std::vector<Token>& out) const {
  const size_t n = piece.size();
  if (n == 0) return;
  if (n == 1) {
    out.push_back(byte_tokens[static_cast<uint8_t>(piece[0])]);
    return;
  }
  if (ignore_merges) {
    s.mapped.clear();
    for (char c : piece) unicode::append_utf8(s.mapped, unicode::byte_to_cpt(static_cast<uint8_t>(c)));
    const Token whole = by_text.find(s.mapped);
    if (whole >= 0) {
      out.push_back(whole);
      return;
    }
  }

  if (n <= kShortWord) {
    Token ids[kShortWord];
    int32_t rank[kShortWord];  // rank[i]: merge of ids[i] and ids[i + 1]
    Token result[kShortWord];
    size_t m = n;
    const auto look = [&](size_t i) {
      const MergeTable::Entry* e = merges.find(ids[i], ids[i + 1]);
      rank[i] = e ? e->rank : kNoMerge;
      result[i] = e ? e->result : -1;
    };
    for (size_t i = 0; i < n; ++i) ids[i] = byte_tokens[static_cast<uint8_t>(piece[i])];
    for (size_t i = 0; i + 1 < n; ++i) look(i);
    while (m > 1) {
      size_t best = 0;
      for (size_t i = 1; i + 1 < m; ++i)
        if (rank[i] < rank[best]) best = i;  // strict: the leftmost of equal ranks
      if (rank[best] == kNoMerge) break;
      ids[best] = result[best];
      for (size_t i = best + 1; i + 1 < m; ++i) {
        ids[i] = ids[i + 1];
        rank[i] = rank[i + 1];
        result[i] = result[i + 1];
      }
      --m;
      if (best > 0) look(best - 1);
      if (best + 1 < m) look(best);
    }
    out.insert(out.end(), ids, ids + m);
    return;
  }

  s.ids.resize(n);
  s.prev.resize(n);
  s.next.resize(n);
  for (size_t i = 0; i < n; ++i) {
    s.ids[i] = byte_tokens[static_cast<uint8_t>(piece[i])];
    s.prev[i] = static_cast<int32_t>(i) - 1;
    s.next[i] = i + 1 < n ? static_cast<int32_t>(i + 1) : -1;
  }
  s.heap.clear();
  const auto consider = [&](int32_t pos) {
    if (pos < 0) return;
    const int32_t r = s.next[pos];
    if (r < 0) return;
    if (const MergeTable::Entry* e = merges.find(s.ids[pos], s.ids[r])) {
      s.heap.push_back({e->rank, pos, s.ids[pos], s.ids[r], e->result});
      std::push_heap(s.heap.begin(), s.heap.end(), CandidateAfter{});
    }
  };
  for (size_t i = 0; i + 1 < n; ++i) consider(static_cast<int32_t>(i));

  while (!s.heap.empty()) {
    std::pop_heap(s.heap.begin(), s.heap.end(), CandidateAfter{});
    const EncodeScratch::Candidate c = s.heap.back();
    s.heap.pop_back();
    const int32_t r = s.next[c.pos];
    if (s.ids[c.pos] != c.left || r < 0 || s.ids[r] != c.right) continue;  // stale
    s.ids[c.pos] = c.result;
    s.ids[r] = -1;
    s.next[c.pos] = s.next[r];
    if (s.next[r] >= 0) s.prev[s.next[r]] = c.pos;
    consider(s.prev[c.pos]);
    consider(c.pos);
  }
  for (int32_t i = 0; i >= 0; i = s.next[i]) out.push_back(s.ids[i]);
}

void Vocab::Impl::encode_text(std::string_view text, EncodeScratch& s, std::vector<Token>& out) const {
  if (text.empty()) return;
  std::string normalized;
  if (normalize_nfc) {
    normalized = unicode::nfc(text);
    text = normalized;
  }
  s.pieces.clear();
  pre_tokenize(pre, text, s.pre, s.pieces);
  for (const Piece& p : s.pieces) bpe(text.substr(p.begin, p.end - p.begin), s, out);
}

std::vector<Token> Vocab::encode(std::string_view text, bool add_bos, bool parse_special) const {
  std::vector<Token> out;
  out.reserve(text.size() / 3 + 2);
  if (add_bos && impl_->bos >= 0) out.push_back(impl_->bos);

  std::string sanitized;
  if (!unicode::is_valid_utf8(text)) {
    sanitized = unicode::sanitize_utf8(text);
    text = sanitized;
  }

  EncodeScratch scratch;
  if (!parse_special) {
    impl_->encode_text(text, scratch, out);
    return out;
  }
  // Split on special-token texts, leftmost-longest (the added-token matching of Hugging Face tokenizers).
  // Special tokens are matched in the raw text, before normalization, and never pass through BPE.
  size_t start = 0, pos = 0;
  while (pos < text.size()) {
    Token hit = -1;
    for (Token t : impl_->specials_by_byte[static_cast<uint8_t>(text[pos])]) {
      const std::string& st = impl_->texts[t];
      if (st.size() <= text.size() - pos && std::memcmp(text.data() + pos, st.data(), st.size()) == 0) {
        hit = t;
        break;
      }
    }
    if (hit < 0) {
      ++pos;
      continue;
    }
    impl_->encode_text(text.substr(start, pos - start), scratch, out);
    out.push_back(hit);
    pos += impl_->texts[hit].size();
    start = pos;
  }
  impl_->encode_text(text.substr(start), scratch, out);
  return out;
}

}  // namespace penser::tokenizer

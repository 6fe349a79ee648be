// The Vocab's private state (internal), shared by vocab.cpp, encode.cpp and decode.cpp.
#pragma once

#include "inference/tokenizer/tokenizer.h"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace penser::tokenizer {

// (left id, right id) -> (rank, merged id), open addressing. Built once, then only read.
class MergeTable {
 public:
  struct Entry {
    uint64_t key = kEmpty;
    int32_t rank = 0;
    Token result = -1;
  };
  static constexpr uint64_t kEmpty = ~uint64_t{0};

  void reserve(size_t n);
  // Returns false (and keeps the first entry) when the pair is already present.
  bool insert(Token left, Token right, int32_t rank, Token result);
  const Entry* find(Token left, Token right) const {
    const uint64_t key = make_key(left, right);
    for (uint64_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
      const Entry& e = slots_[i];
      if (e.key == key) return &e;
      if (e.key == kEmpty) return nullptr;
    }
  }
  size_t size() const { return size_; }

 private:
  static uint64_t make_key(Token a, Token b) { return (uint64_t(uint32_t(a)) << 32) | uint32_t(b); }
  static uint64_t hash(uint64_t x) {  // splitmix64 finalizer
    x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27; x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  }
  std::vector<Entry> slots_{1};
  uint64_t mask_ = 0;
  size_t size_ = 0;
};

// Token text -> id, open addressing over the Vocab's texts (no allocation per entry: loading inserts
// ~150k texts and looks up three per merge, so this dominates load time with a node-based map).
class TextIndex {
 public:
  void build(const std::vector<std::string>& texts);  // the first of duplicate texts wins
  Token find(std::string_view text) const {
    const uint64_t h = hash(text);
    for (uint64_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.id < 0) return -1;
      if (s.hash == uint32_t(h) && (*texts_)[size_t(s.id)] == text) return s.id;
    }
  }

 private:
  struct Slot {
    uint32_t hash = 0;
    Token id = -1;
  };
  static uint64_t hash(std::string_view s) {  // FNV-1a, then a finalizer so the low bits mix
    uint64_t h = 0xcbf29ce484222325ULL;
    for (char c : s) h = (h ^ uint8_t(c)) * 0x100000001b3ULL;
    return h ^ (h >> 29);
  }
  const std::vector<std::string>* texts_ = nullptr;
  std::vector<Slot> slots_{1};
  uint64_t mask_ = 0;
};

struct EncodeScratch;  // encode.cpp

struct Vocab::Impl {
  PreTokenizer pre = PreTokenizer::Qwen2;
  bool normalize_nfc = false;  // Qwen2-family tokenizer.json: "normalizer": {"type": "NFC"}
  bool ignore_merges = false;  // Llama 3 tokenizer.json: "ignore_merges": true (a whole-word vocab hit wins)

  std::vector<std::string> texts;   // as stored in the file
  std::vector<TokenType> types;
  std::vector<std::string> bytes;   // what each token decodes to
  TextIndex by_text;
  MergeTable merges;
  std::array<Token, 256> byte_tokens{};  // the token of each single byte's stand-in character

  Token bos = -1, eos = -1, eot = -1, pad = -1;
  bool add_bos = false;

  std::vector<Token> specials;                          // CONTROL + USER_DEFINED
  std::array<std::vector<Token>, 256> specials_by_byte;  // by first byte, longest text first
  std::vector<Token> eog;
  std::vector<uint8_t> eog_flag;                        // per token

  // Appends the ids of one pre-tokenized piece.
  void bpe(std::string_view piece, EncodeScratch& s, std::vector<Token>& out) const;
  void encode_text(std::string_view valid_utf8, EncodeScratch& s, std::vector<Token>& out) const;
};

}  // namespace penser::tokenizer

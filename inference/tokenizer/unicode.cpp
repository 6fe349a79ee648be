#include "inference/tokenizer/unicode.h"

#include "inference/common/result.h"

#include <utf8proc.h>

#include <array>
#include <cstdlib>
#include <memory>

namespace penser::tokenizer::unicode {

Decoded decode_one(std::string_view s, size_t pos) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  const uint8_t b0 = byte(pos);
  if (b0 < 0x80) return {b0, 1, true, false};
  // Table 3-7 of the Unicode standard (well-formed byte sequences): the length and the range allowed for
  // the second byte depend on the lead byte.
  uint32_t need = 0, cpt = 0;
  uint8_t lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1; cpt = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2; cpt = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;   // no overlong forms
    if (b0 == 0xED) hi = 0x9F;   // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3; cpt = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;   // no overlong forms
    if (b0 == 0xF4) hi = 0x8F;   // nothing above U+10FFFF
  } else {
    return {kReplacement, 1, false, false};  // continuation byte or C0, C1, F5..FF
  }
  uint32_t len = 1;
  for (uint32_t k = 0; k < need; ++k) {
    if (pos + len >= s.size()) return {kReplacement, len, false, true};
    const uint8_t b = byte(pos + len);
    const uint8_t l = k == 0 ? lo : 0x80, h = k == 0 ? hi : 0xBF;
    if (b < l || b > h) return {kReplacement, len, false, false};
    cpt = (cpt << 6) | (b & 0x3F);
    ++len;
  }
  return {cpt, len, true, false};
}

bool is_valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (static_cast<uint8_t>(s[i]) < 0x80) { ++i; continue; }
    const Decoded d = decode_one(s, i);
    if (!d.valid) return false;
    i += d.len;
  }
  return true;
}

std::string sanitize_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  size_t i = 0;
  while (i < s.size()) {
    const Decoded d = decode_one(s, i);
    if (d.valid) out.append(s.substr(i, d.len));
    else append_utf8(out, kReplacement);
    i += d.len;
  }
  return out;
}

void append_utf8(std::string& out, uint32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

namespace {

uint8_t classify_slow(uint32_t c) {
  if ((c >= 0x09 && c <= 0x0D) || c == 0x85) return kSpace;  // the Cc characters Oniguruma's \s includes
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
      return kLetter;
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
      return kNumber;
    case UTF8PROC_CATEGORY_ZS: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP:
      return kSpace;
    default:
      return 0;
  }
}

// Latin-1 is most of what the tokenizer sees; look it up in a table built once from utf8proc.
const std::array<uint8_t, 256>& latin1_classes() {
  static const std::array<uint8_t, 256> table = [] {
    std::array<uint8_t, 256> t{};
    for (uint32_t c = 0; c < 256; ++c) t[c] = classify_slow(c);
    return t;
  }();
  return table;
}

struct ByteMap {
  std::array<uint32_t, 256> to_cpt{};
  std::array<int16_t, 324> from_cpt{};  // every stand-in is below U+0144
};

// GPT-2's bytes_to_unicode(): printable Latin-1 bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for themselves;
// the other 68 bytes take U+0100, U+0101, ... in byte order.
const ByteMap& byte_map() {
  static const ByteMap map = [] {
    ByteMap m;
    m.from_cpt.fill(-1);
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      const uint32_t c = printable ? b : next++;
      m.to_cpt[b] = c;
      m.from_cpt[c] = static_cast<int16_t>(b);
    }
    return m;
  }();
  return map;
}

}  // namespace

uint8_t classify(uint32_t c) {
  if (c < 256) return latin1_classes()[c];
  return classify_slow(c);
}

std::string nfc(std::string_view s) {
  // Nothing below U+0300 changes under NFC (the first NFC_Quick_Check=No/Maybe code point is U+0300),
  // so text made only of such characters is returned as is without calling utf8proc.
  bool simple = true;
  for (size_t i = 0; i < s.size() && simple; ++i) {
    const auto b = static_cast<uint8_t>(s[i]);
    if (b >= 0xCC) simple = false;  // lead bytes of U+0300 and above
  }
  if (simple) return std::string(s);
  utf8proc_uint8_t* out = nullptr;
  const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                                          static_cast<utf8proc_ssize_t>(s.size()), &out,
                                          static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0) {
    // Only on out-of-memory or invalid input; the input was sanitized, so keep the text as it was.
    std::free(out);
    return std::string(s);
  }
  std::string result(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
  std::free(out);
  return result;
}

uint32_t byte_to_cpt(uint8_t b) { return byte_map().to_cpt[b]; }

int byte_from_cpt(uint32_t c) {
  if (c >= byte_map().from_cpt.size()) return -1;
  return byte_map().from_cpt[c];
}

}  // namespace penser::tokenizer::unicode

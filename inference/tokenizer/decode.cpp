// Ids to text: token bytes, whole-sequence decoding and the incremental UTF-8-safe detokenizer.
#include "inference/tokenizer/tokenizer.h"
#include "inference/tokenizer/unicode.h"
#include "inference/tokenizer/vocab_impl.h"

namespace penser::tokenizer {

std::string Vocab::token_to_bytes(Token id) const {
  if (id < 0 || id >= n_tokens()) return {};
  return impl_->bytes[id];
}

std::string Vocab::decode(const std::vector<Token>& ids) const {
  std::string out;
  for (Token id : ids) {
    if (id >= 0 && id < n_tokens()) out += impl_->bytes[id];
  }
  return out;
}

namespace {

// Moves the complete characters at the front of `pending` to the result. An ill-formed sequence becomes
// U+FFFD at once; a sequence cut off by the end of `pending` waits for more bytes unless `final`.
std::string take_complete(std::string& pending, bool final) {
  std::string out;
  size_t i = 0;
  while (i < pending.size()) {
    const unicode::Decoded d = unicode::decode_one(pending, i);
    if (d.valid) {
      out.append(pending, i, d.len);
    } else if (d.incomplete && !final) {
      break;
    } else {
      unicode::append_utf8(out, unicode::kReplacement);
    }
    i += d.len;
  }
  pending.erase(0, i);
  return out;
}

}  // namespace

std::string Detokenizer::push(Token id) {
  pending_ += vocab_->token_to_bytes(id);
  return take_complete(pending_, false);
}

std::string Detokenizer::flush() { return take_complete(pending_, true); }

}  // namespace penser::tokenizer

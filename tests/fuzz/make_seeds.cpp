// Writes the seed corpus for gguf_fuzzer (tests/fuzz/corpus/): small valid files that reach every part of
// the parser. Run once after changing it: make_seeds tests/fuzz/corpus tests/data/tokenizer/r1-distill-qwen.vocab.gguf
#include "inference/gguf/gguf.h"
#include "../gguf/sample.h"

#include <cstdio>

using namespace penser;
using namespace penser::gguf;

static void save(const std::filesystem::path& dir, const char* name, const Writer& w) {
  Status s = w.write(dir / name);
  if (!s) {
    std::fprintf(stderr, "%s\n", s.error().message.c_str());
    std::exit(1);
  }
}

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: make_seeds OUT_DIR VOCAB.gguf\n");
    return 2;
  }
  std::filesystem::path dir = argv[1];

  save(dir, "every-value-type-and-3-tensors.gguf", testing::sample_writer());

  // Version 2 has the same layout as version 3.
  std::vector<uint8_t> v2 = testing::sample_writer().to_bytes();
  v2[4] = 2;
  if (std::FILE* f = std::fopen((dir / "version-2.gguf").string().c_str(), "wb")) {
    std::fwrite(v2.data(), 1, v2.size(), f);
    std::fclose(f);
  }

  Writer empty;
  save(dir, "empty.gguf", empty);

  Writer aligned;
  aligned.set("general.alignment", Value{uint32_t(64)});
  aligned.set_string("general.architecture", "qwen2");
  aligned.add_tensor_copy("token_embd.weight", {32, 2}, quant::Type::Q4_0, testing::random_bytes(36, 1));
  aligned.add_tensor_copy("output_norm.weight", {4}, quant::Type::F16, testing::random_bytes(8, 2));
  save(dir, "aligned-64.gguf", aligned);

  // A slice of a real vocabulary: the keys a tokenizer reads, with the first 40 tokens and merges.
  auto vocab = File::open(argv[2]);
  if (!vocab) {
    std::fprintf(stderr, "%s\n", vocab.error().message.c_str());
    return 1;
  }
  Writer tok;
  for (const auto& [key, value] : (*vocab)->metadata()) {
    if (key == "tokenizer.chat_template") continue;
    if (const Array* a = value.as_array()) {
      Array cut{a->element_type, {a->items.begin(), a->items.begin() + std::min<size_t>(40, a->items.size())}};
      tok.set(key, Value{std::move(cut)});
    } else {
      tok.set(key, value);
    }
  }
  save(dir, "vocab-slice.gguf", tok);
  return 0;
}

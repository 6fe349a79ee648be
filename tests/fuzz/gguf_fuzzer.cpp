// libFuzzer entry point for the GGUF parser. Any input must give either an Error with a message or a File
// whose every value and tensor byte can be touched safely (ASan/UBSan watch), and what was accepted must
// survive a trip through the writer: the writer's image of it parses again to the same content.
#include "inference/gguf/gguf.h"

#include <cstdint>
#include <cstring>

using namespace penser;
using namespace penser::gguf;

namespace {

// Calls every accessor on a value, recursively; returns something that depends on all of it.
uint64_t touch(const Value& v) {
  uint64_t h = uint64_t(v.type());
  if (auto u = v.as_uint()) h += *u;
  if (auto i = v.as_int()) h += uint64_t(*i);
  if (auto f = v.as_float()) h += *f == *f ? 1 : 2;
  if (auto b = v.as_bool()) h += *b;
  if (const std::string* s = v.as_string()) {
    for (char c : *s) h = h * 31 + uint8_t(c);
  }
  if (const Array* a = v.as_array()) {
    for (const Value& item : a->items) {
      PENSER_ASSERT(item.type() == a->element_type);
      h += touch(item);
    }
  }
  PENSER_ASSERT(value_type_name(v.type()) != nullptr);
  return h;
}

bool same(const Value& a, const Value& b) {
  if (a.type() != b.type()) return false;
  if (const Array* x = a.as_array()) {
    const Array* y = b.as_array();
    if (x->element_type != y->element_type || x->items.size() != y->items.size()) return false;
    for (size_t i = 0; i < x->items.size(); ++i)
      if (!same(x->items[i], y->items[i])) return false;
    return true;
  }
  if (const std::string* s = a.as_string()) return *s == *b.as_string();
  // Scalars: compare the stored bits (NaN != NaN otherwise).
  return std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_trivially_copyable_v<T>) {
          const T& y = std::get<T>(b.v);
          return std::memcmp(&x, &y, sizeof(T)) == 0;
        } else {
          return true;
        }
      },
      a.v);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parsed = File::from_memory(std::span<const uint8_t>(data, size), "fuzz.gguf");
  if (!parsed) {
    const std::string& m = parsed.error().message;
    PENSER_ASSERT(m.rfind("fuzz.gguf: ", 0) == 0 && m.size() > 11);
    return 0;
  }
  const File& f = **parsed;
  PENSER_ASSERT(f.version() == 2 || f.version() == 3);
  PENSER_ASSERT(f.alignment() != 0 && (f.alignment() & (f.alignment() - 1)) == 0);
  PENSER_ASSERT(f.data_offset() <= f.file_size());

  volatile uint64_t sink = 0;
  for (const auto& [key, value] : f.metadata()) {
    PENSER_ASSERT(f.find(key) == &value);
    sink = sink + touch(value);
  }
  for (const TensorInfo& t : f.tensors()) {
    PENSER_ASSERT(f.tensor(t.name) == &t);
    PENSER_ASSERT(t.data >= data + f.data_offset() && t.data + t.n_bytes <= data + size);
    PENSER_ASSERT(t.n_rows() * t.shape[0] == t.n_elements());
    uint64_t sum = 0;
    for (uint64_t i = 0; i < t.n_bytes; ++i) sum += t.data[i];  // every byte, so ASan checks the bounds
    sink = sink + sum;
  }

  // What the reader accepted, the writer must reproduce as a file the reader accepts with the same content.
  if (f.alignment() > 4096) return 0;  // the writer pads with a 4 KiB block of zeros at most
  Writer w;
  w.copy_metadata(f);
  for (const TensorInfo& t : f.tensors()) {
    w.add_tensor(t.name, t.shape, t.type, std::span<const uint8_t>(t.data, size_t(t.n_bytes)));
  }
  std::vector<uint8_t> image = w.to_bytes();
  auto again = File::from_memory(image, "fuzz.gguf");
  if (!again) {
    std::fprintf(stderr, "the writer's image was refused: %s\n", again.error().message.c_str());
    PENSER_ASSERT(false);
  }
  const File& g = **again;
  PENSER_ASSERT(g.metadata().size() == f.metadata().size() && g.tensors().size() == f.tensors().size());
  for (size_t i = 0; i < f.metadata().size(); ++i) {
    PENSER_ASSERT(g.metadata()[i].first == f.metadata()[i].first);
    PENSER_ASSERT(same(g.metadata()[i].second, f.metadata()[i].second));
  }
  for (size_t i = 0; i < f.tensors().size(); ++i) {
    const TensorInfo& a = f.tensors()[i];
    const TensorInfo& b = g.tensors()[i];
    PENSER_ASSERT(a.name == b.name && a.shape == b.shape && a.type == b.type && a.n_bytes == b.n_bytes);
    PENSER_ASSERT(std::memcmp(a.data, b.data, size_t(a.n_bytes)) == 0);
  }
  return 0;
}

// The corrupt-file corpus: a valid image from Writer::to_bytes(), damaged in every way the reader must
// refuse. Each damaged file must give an Error (never a crash, a hang or a huge allocation) whose message
// names the file and contains the words a user needs to understand the problem.
#include "inference/gguf/gguf.h"
#include "sample.h"

#include <QtTest>

#include <cstring>

using namespace penser;
using namespace penser::gguf;

Q_DECLARE_METATYPE(std::vector<uint8_t>)

namespace {

using Bytes = std::vector<uint8_t>;

const char* kName = "corrupt.gguf";

// Position of the first occurrence of a string in the image (names in the sample are unique).
size_t find(const Bytes& b, std::string_view s) {
  auto it = std::search(b.begin(), b.end(), s.begin(), s.end());
  PENSER_ASSERT(it != b.end());
  return size_t(it - b.begin());
}

template <typename T>
Bytes patched(Bytes b, size_t pos, T value) {
  PENSER_ASSERT(pos + sizeof(T) <= b.size());
  std::memcpy(b.data() + pos, &value, sizeof(T));
  return b;
}

// Field positions in a tensor info: name length (u64) + name, n_dims (u32), dims (u64 each), type (u32), offset (u64).
struct TensorFields {
  size_t name_len, name, n_dims, dims, type, offset;
};
TensorFields tensor_fields(const Bytes& b, std::string_view name, uint32_t n_dims) {
  TensorFields f{};
  // The tensor table comes after the metadata; the names do not appear in the metadata.
  f.name = find(b, name);
  f.name_len = f.name - 8;
  f.n_dims = f.name + name.size();
  f.dims = f.n_dims + 4;
  f.type = f.dims + 8 * n_dims;
  f.offset = f.type + 4;
  return f;
}

// Key fields: key length (u64) + key, value type (u32), value.
struct KeyFields {
  size_t key_len, key, type, value;
};
KeyFields key_fields(const Bytes& b, std::string_view key) {
  KeyFields f{};
  f.key = find(b, key);
  f.key_len = f.key - 8;
  f.type = f.key + key.size();
  f.value = f.type + 4;
  return f;
}

Bytes sample() { return testing::sample_writer().to_bytes(); }

uint64_t data_offset_of(const Bytes& b) {
  auto f = File::from_memory(b, "sample.gguf");
  PENSER_ASSERT(f.has_value());
  return (*f)->data_offset();
}

void add(const char* name, Bytes bytes, QStringList words) { QTest::newRow(name) << bytes << words; }

}  // namespace

class TestGgufCorrupt : public QObject {
  Q_OBJECT

 private slots:
  void sample_is_valid();
  void corrupt_data();
  void corrupt();
  void truncated_everywhere();
  void every_single_byte_flip_is_safe();
};

void TestGgufCorrupt::sample_is_valid() {
  Bytes b = sample();
  auto f = File::from_memory(b, kName);
  QVERIFY2(f, f ? "" : f.error().message.c_str());
  QCOMPARE((*f)->tensors().size(), size_t(3));
}

void TestGgufCorrupt::corrupt_data() {
  QTest::addColumn<Bytes>("bytes");
  QTest::addColumn<QStringList>("words");
  const Bytes s = sample();
  const uint64_t data = data_offset_of(s);
  auto with_tail = [](Bytes b, size_t n) { b.resize(b.size() + n, 0); return b; };

  // Header.
  add("empty", {}, {"truncated", "0 bytes"});
  add("three bytes", {'G', 'G', 'U'}, {"truncated", "3 bytes"});
  add("bad magic", patched(s, 0, uint32_t(0x58554747)), {"not a GGUF file", "47 47 55 58"});
  add("ggjt magic", patched(s, 0, uint32_t(0x67676a74)), {"old GGML/GGJT", "convert"});
  add("version 1", patched(s, 4, uint32_t(1)), {"GGUF version 1 is not supported"});
  add("version 99", patched(s, 4, uint32_t(99)), {"unsupported GGUF version 99", "versions 2 and 3"});
  add("version 0", patched(s, 4, uint32_t(0)), {"unsupported GGUF version 0"});
  add("big-endian", patched(s, 4, uint32_t(0x03000000)), {"big-endian"});
  add("tensor count 2^63", patched(s, 8, uint64_t(1) << 63), {"9223372036854775808 tensors", "corrupt"});
  add("tensor count 2^64-1", patched(s, 8, ~uint64_t(0)), {"18446744073709551615 tensors"});
  add("tensor count 2^20+1", patched(s, 8, (uint64_t(1) << 20) + 1),
      {"1048577 tensors", "no model has more than 1048576"});
  add("kv count 2^16+1", patched(s, 16, (uint64_t(1) << 16) + 1), {"65537 metadata entries", "no model has more than 65536"});
  add("tensor count 4", patched(s, 8, uint64_t(4)), {"tensor #3 has an empty name"});  // reads the padding
  add("kv count 2^63", patched(s, 16, uint64_t(1) << 63), {"9223372036854775808 metadata entries"});
  add("kv count 2^32", patched(s, 16, uint64_t(1) << 32), {"4294967296 metadata entries"});

  // Metadata keys.
  KeyFields arch = key_fields(s, "general.architecture");
  add("key length 2^40", patched(s, arch.key_len, uint64_t(1) << 40), {"metadata key #0", "1099511627776 bytes long", "at most 1024"});
  add("key length 2^64-1", patched(s, arch.key_len, ~uint64_t(0)), {"metadata key #0", "at most 1024"});
  add("key length 1025", patched(s, arch.key_len, uint64_t(1025)), {"metadata key #0", "1025 bytes long"});
  add("empty key", patched(s, arch.key_len, uint64_t(0)), {"metadata key #0 is empty"});
  add("key type 13", patched(s, arch.type, uint32_t(13)), {"'general.architecture'", "unknown value type 13"});
  add("key type 2^31", patched(s, arch.type, uint32_t(1) << 31), {"unknown value type 2147483648"});
  add("string length 2^40", patched(s, arch.value, uint64_t(1) << 40),
      {"'general.architecture'", "length of 1099511627776 bytes", "bytes are left"});
  add("string length past end", patched(s, arch.value, uint64_t(s.size())), {"'general.architecture'", "truncated"});
  {
    // Two keys of the same length: renaming one to the other makes a duplicate.
    Bytes b = s;
    size_t k = find(b, "test.i16");
    std::memcpy(b.data() + k, "test.u16", 8);
    add("duplicate key", b, {"metadata key 'test.u16' appears twice"});
  }
  {
    Bytes b = s;
    b[arch.key] = 0x01;
    add("control byte in key", b, {}); // accepted: keys are not validated beyond length
  }

  // Metadata values.
  KeyFields flag = key_fields(s, "test.bool");
  add("bool 2", patched(s, flag.value, uint8_t(2)), {"'test.bool'", "bool", "must be 0 or 1"});
  KeyFields arr = key_fields(s, "test.arr.u32");
  add("array element type 99", patched(s, arr.value, uint32_t(99)), {"'test.arr.u32'", "unknown value type 99"});
  add("array length 2^63", patched(s, arr.value + 4, uint64_t(1) << 63),
      {"'test.arr.u32'", "array of 9223372036854775808 uint32 values", "bytes are left"});
  add("array length 2^62 (n*4 overflows)", patched(s, arr.value + 4, uint64_t(1) << 62),
      {"'test.arr.u32'", "4611686018427387904 uint32"});
  KeyFields strs = key_fields(s, "test.arr.string");
  add("string array length 2^61", patched(s, strs.value + 4, uint64_t(1) << 61), {"'test.arr.string'", "string values"});
  add("string in array length 2^40", patched(s, strs.value + 12, uint64_t(1) << 40),
      {"a string in metadata key 'test.arr.string'", "1099511627776"});
  KeyFields nested = key_fields(s, "test.arr.nested");
  add("nested element type 77", patched(s, nested.value + 12, uint32_t(77)), {"'test.arr.nested'", "unknown value type 77"});
  add("nested length 2^50", patched(s, nested.value + 16, uint64_t(1) << 50), {"'test.arr.nested'", "array of 1125899906842624 string values"});
  {
    Writer w;
    Value v{uint8_t(1)};
    for (int i = 0; i < 9; ++i) v = testing::array_of(v.type(), {v});
    w.set("deep", v);
    add("arrays nested 9 deep", w.to_bytes(), {"'deep'", "nests arrays more than 8 levels deep"});
  }
  {
    // 9 Mi one-byte values: fits in the file, but more array items than any model has.
    Writer w;
    w.set("big", testing::array_of(ValueType::UINT8, {Value{uint8_t(0)}}));
    Bytes b = w.to_bytes();
    b = patched(b, key_fields(b, "big").value + 4, uint64_t(9) << 20);
    b.resize(b.size() + (9u << 20), 0);
    add("too many array values", b, {"more than 8388608 array values", "'big'"});
  }
  {
    Writer w;
    w.set("general.alignment", Value{uint32_t(32)});
    w.add_tensor_copy("t", {4}, quant::Type::F32, Bytes(16));
    Bytes b = w.to_bytes();
    KeyFields al = key_fields(b, "general.alignment");
    add("alignment 0", patched(b, al.value, uint32_t(0)), {"general.alignment is 0", "power of two"});
    add("alignment 48", patched(b, al.value, uint32_t(48)), {"general.alignment is 48", "power of two"});
    add("alignment as float", patched(b, al.type, uint32_t(ValueType::FLOAT32)), {"general.alignment has type float32", "unsigned integer"});
    add("alignment as int32 -32", patched(patched(b, al.type, uint32_t(ValueType::INT32)), al.value, int32_t(-32)),
        {"general.alignment has type int32 and value -32", "unsigned integer"});
    add("alignment 2^31 pushes data past the end", patched(b, al.value, uint32_t(1) << 31),
        {"tensor data should start", "truncated"});
  }

  // Tensor table.
  TensorFields ta = tensor_fields(s, "blk.0.a", 2);   // F32 [8, 2], offset 0
  TensorFields tb = tensor_fields(s, "blk.0.b", 2);   // Q8_0 [64, 2]
  TensorFields tc = tensor_fields(s, "blk.0.c", 2);   // Q4_K [256, 1]
  add("tensor name length 2^40", patched(s, ta.name_len, uint64_t(1) << 40), {"tensor name #0", "at most 1024"});
  add("tensor name empty", patched(s, ta.name_len, uint64_t(0)), {"tensor #0 has an empty name"});
  {
    Bytes b = s;
    std::memcpy(b.data() + tb.name, "blk.0.a", 7);
    add("duplicate tensor name", b, {"tensor name 'blk.0.a' appears twice"});
  }
  add("n_dims 5", patched(s, ta.n_dims, uint32_t(5)), {"'blk.0.a' has 5 dimensions", "1 to 4"});
  add("n_dims 0", patched(s, ta.n_dims, uint32_t(0)), {"'blk.0.a' has 0 dimensions"});
  add("n_dims 2^32-1", patched(s, ta.n_dims, ~uint32_t(0)), {"'blk.0.a' has 4294967295 dimensions"});
  add("dim 0", patched(s, ta.dims + 8, uint64_t(0)), {"'blk.0.a'", "[8, 0]", "size 0"});
  add("elements overflow u64", patched(patched(s, ta.dims, uint64_t(1) << 40), ta.dims + 8, uint64_t(1) << 40),
      {"'blk.0.a'", "element count is too large"});
  add("elements past int64", patched(patched(s, ta.dims, uint64_t(1) << 62), ta.dims + 8, uint64_t(2)),
      {"'blk.0.a'", "element count is too large"});
  add("bytes overflow", patched(patched(s, ta.dims, uint64_t(1) << 62), ta.dims + 8, uint64_t(1)),
      {"'blk.0.a'", "size in bytes is too large"});
  add("huge but representable tensor", patched(patched(s, ta.dims, uint64_t(1) << 40), ta.dims + 8, uint64_t(1)),
      {"truncated", "'blk.0.a' data ends at byte", "incomplete download"});
  add("type id 200", patched(s, ta.type, uint32_t(200)), {"'blk.0.a' has unknown type id 200"});
  add("type id 4 (removed Q4_2)", patched(s, ta.type, uint32_t(4)), {"unknown type id 4"});
  add("type id 2^32-1", patched(s, ta.type, ~uint32_t(0)), {"unknown type id 4294967295"});
  add("row not a multiple of the block", patched(s, tb.dims, uint64_t(33)),
      {"'blk.0.b' of type Q8_0", "rows of 33 elements", "block size 32"});
  add("Q4_K row of 128", patched(s, tc.dims, uint64_t(128)), {"'blk.0.c' of type Q4_K", "block size 256"});
  add("offset misaligned", patched(s, tb.offset, uint64_t(65)), {"'blk.0.b'", "offset 65", "alignment 32"});
  add("offset past the end", patched(s, tc.offset, uint64_t(1) << 40), {"'blk.0.c' data starts at byte", "truncated"});
  add("offset 2^64-32", patched(s, tc.offset, ~uint64_t(31)), {"'blk.0.c' data starts"});
  add("overlap", patched(s, tb.offset, uint64_t(0)), {"overlap", "'blk.0.a'", "'blk.0.b'"});
  add("overlap, partial", patched(s, tc.offset, uint64_t(64 + 96)), {"overlap", "'blk.0.b'", "'blk.0.c'"});

  // Tensor data.
  add("last tensor cut short", Bytes(s.begin(), s.end() - 10),
      {"file is truncated: tensor 'blk.0.c' data ends at byte", std::to_string(s.size()).c_str(), "incomplete download?"});
  add("only the header", Bytes(s.begin(), s.begin() + ptrdiff_t(data)), {"'blk.0.a' data starts at byte", "truncated"});
  add("trailing garbage is fine", with_tail(s, 7), {});

  // Names from the file are shown escaped and cut short in messages.
  {
    Writer w;
    w.set_uint32(std::string("x\x01yy"), 1);
    w.set_uint32(std::string("x\x01yz"), 2);
    Bytes b = w.to_bytes();
    b[find(b, "x\x01yz") + 3] = 'y';
    add("duplicate key with a control byte", b, {"metadata key 'x\\x01yy' appears twice"});
  }
  {
    Writer w;
    std::string long_a(200, 'a'), long_b = long_a;
    long_b.back() = 'b';
    w.add_tensor_copy(long_a, {4}, quant::Type::F32, Bytes(16));
    w.add_tensor_copy(long_b, {4}, quant::Type::F32, Bytes(16));
    Bytes b = w.to_bytes();
    b[find(b, long_b) + 199] = 'a';
    add("duplicate 200-byte tensor name", b,
        {QString("tensor name '%1...' (200 bytes) appears twice").arg(QString(80, 'a'))});
  }

  // Regressions found by the fuzzer (tests/fuzz/gguf_fuzzer.cpp) go here.
}

void TestGgufCorrupt::corrupt() {
  QFETCH(Bytes, bytes);
  QFETCH(QStringList, words);
  auto f = File::from_memory(bytes, kName);
  if (words.isEmpty()) {
    QVERIFY2(f, f ? "" : f.error().message.c_str());
    return;
  }
  QVERIFY2(!f, "a corrupt file was accepted");
  const QString msg = QString::fromStdString(f.error().message);
  QVERIFY2(msg.startsWith(QString(kName) + ": "), qPrintable(msg));
  for (const QString& w : words) QVERIFY2(msg.contains(w), qPrintable("missing '" + w + "' in: " + msg));
}

void TestGgufCorrupt::truncated_everywhere() {
  // Every prefix of the header (so every field boundary), and every 1/64 of the whole file.
  const Bytes s = sample();
  const size_t header = size_t(data_offset_of(s));
  std::vector<size_t> cuts;
  for (size_t n = 0; n <= header; ++n) cuts.push_back(n);
  for (size_t k = 1; k < 64; ++k) cuts.push_back(s.size() * k / 64);
  cuts.push_back(s.size() - 1);
  for (size_t n : cuts) {
    Bytes b(s.begin(), s.begin() + ptrdiff_t(n));
    auto f = File::from_memory(b, kName);
    QVERIFY2(!f, qPrintable(QString("a file cut to %1 bytes was accepted").arg(n)));
    const std::string& m = f.error().message;
    QVERIFY2(m.rfind(std::string(kName) + ": ", 0) == 0 && m.find("truncated") != std::string::npos,
             qPrintable(QString("cut at %1: %2").arg(n).arg(QString::fromStdString(m))));
  }
}

void TestGgufCorrupt::every_single_byte_flip_is_safe() {
  // Not every flip makes the file invalid (a flip in tensor data is harmless), but none may crash, and
  // whatever is accepted must still be self-consistent.
  const Bytes s = sample();
  const size_t header = size_t(data_offset_of(s));
  int refused = 0;
  for (size_t i = 0; i < header; ++i) {
    for (uint8_t mask : {uint8_t(0x01), uint8_t(0x80), uint8_t(0xff)}) {
      Bytes b = s;
      b[i] ^= mask;
      auto f = File::from_memory(b, kName);
      if (!f) {
        ++refused;
        QVERIFY(f.error().message.rfind(std::string(kName) + ": ", 0) == 0);
        continue;
      }
      for (const TensorInfo& t : (*f)->tensors()) {
        QVERIFY(t.data >= b.data() && t.data + t.n_bytes <= b.data() + b.size());
      }
    }
  }
  QVERIFY(refused > int(header));  // most header damage is caught
}

QTEST_APPLESS_MAIN(TestGgufCorrupt)
#include "test_gguf_corrupt.moc"

// GGUF reader and writer: round trips of every value type and tensor type, the real vocabulary files,
// the errors for files that cannot be opened, and the writer's behaviour when writing fails.
#include "inference/gguf/gguf.h"
#include "sample.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cstring>
#include <fstream>
#include <iterator>

#ifdef __linux__
#include <csignal>
#include <sys/resource.h>
#endif

using namespace penser;
using namespace penser::gguf;
using penser::gguf::testing::array_of;
using penser::gguf::testing::random_bytes;

namespace {

bool same_value(const Value& a, const Value& b) {
  if (a.type() != b.type()) return false;
  if (const Array* x = a.as_array()) {
    const Array* y = b.as_array();
    if (x->element_type != y->element_type || x->items.size() != y->items.size()) return false;
    for (size_t i = 0; i < x->items.size(); ++i)
      if (!same_value(x->items[i], y->items[i])) return false;
    return true;
  }
  return std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, Array>) {
          return false;
        } else if constexpr (std::is_floating_point_v<T>) {
          const T& y = std::get<T>(b.v);
          return std::memcmp(&x, &y, sizeof(T)) == 0;
        } else {
          return x == std::get<T>(b.v);
        }
      },
      a.v);
}

std::vector<uint8_t> read_all(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::string data_path(const char* rel) { return std::string(PENSER_TEST_DATA_DIR) + "/" + rel; }

}  // namespace

class TestGguf : public QObject {
  Q_OBJECT

 private slots:
  void value_accessors();
  void round_trip_every_value_type();
  void round_trip_every_tensor_type();
  void round_trip_custom_alignment();
  void set_replaces_in_place();
  void write_then_open();
  void write_into_missing_folder_fails();
  void write_failure_leaves_no_file();
  void stream_round_trip();
  void stream_producer_failure_leaves_no_file();
  void open_missing_file();
  void open_directory();
  void open_empty_file();
  void read_qwen_vocab();
  void read_llama3_vocab();
  void rewrite_vocab_is_byte_identical();
  void read_version2();
};

void TestGguf::value_accessors() {
  QCOMPARE(Value{uint8_t(7)}.as_uint(), std::optional<uint64_t>(7));
  QCOMPARE(Value{int32_t(-1)}.as_uint(), std::nullopt);
  QCOMPARE(Value{int64_t(5)}.as_uint(), std::optional<uint64_t>(5));
  QCOMPARE(Value{uint64_t(1) << 63}.as_int(), std::nullopt);
  QCOMPARE(Value{uint64_t(1) << 62}.as_int(), std::optional<int64_t>(int64_t(1) << 62));
  QCOMPARE(Value{int16_t(-3)}.as_int(), std::optional<int64_t>(-3));
  QCOMPARE(Value{true}.as_uint(), std::optional<uint64_t>(1));
  QCOMPARE(Value{1.5f}.as_uint(), std::nullopt);
  QCOMPARE(Value{1.5f}.as_float(), std::optional<double>(1.5));
  QCOMPARE(Value{uint32_t(3)}.as_float(), std::optional<double>(3.0));
  QCOMPARE(Value{true}.as_float(), std::nullopt);
  QCOMPARE(Value{true}.as_bool(), std::optional<bool>(true));
  QCOMPARE(Value{uint8_t(1)}.as_bool(), std::nullopt);
  QCOMPARE(Value{std::string("x")}.as_uint(), std::nullopt);
  QVERIFY(Value{std::string("x")}.as_string() != nullptr);
  QVERIFY(Value{uint8_t(1)}.as_string() == nullptr);
  QVERIFY(array_of(ValueType::UINT8, {}).as_array() != nullptr);
  QCOMPARE(Value{-2.0}.type(), ValueType::FLOAT64);
  QCOMPARE(std::string(value_type_name(ValueType::ARRAY)), std::string("array"));
  QCOMPARE(std::string(value_type_name(ValueType::UINT64)), std::string("uint64"));
}

void TestGguf::round_trip_every_value_type() {
  Writer w;
  testing::add_every_value_type(w);
  std::vector<uint8_t> image = w.to_bytes();
  auto file = File::from_memory(image, "values.gguf");
  QVERIFY2(file, file ? "" : file.error().message.c_str());
  const File& f = **file;
  QCOMPARE(f.version(), 3u);
  QCOMPARE(f.alignment(), 32u);
  QVERIFY(f.tensors().empty());

  Writer expected;
  testing::add_every_value_type(expected);
  auto again = File::from_memory(image, "again.gguf");
  QVERIFY(again);
  QCOMPARE(f.metadata().size(), size_t(28));
  for (size_t i = 0; i < f.metadata().size(); ++i) {
    const auto& [key, value] = f.metadata()[i];
    QVERIFY2(f.find(key) == &value, key.c_str());
  }
  // Values, spot checked through the typed getters, then all compared structurally.
  QCOMPARE(f.metadata()[0].first, std::string("general.architecture"));
  QCOMPARE(*f.get_string("general.architecture"), std::string("llama"));
  QCOMPARE(f.get_uint("test.u8"), std::optional<uint64_t>(250));
  QCOMPARE(f.find("test.i8")->as_int(), std::optional<int64_t>(-100));
  QCOMPARE(f.get_uint("test.u32"), std::optional<uint64_t>(4000000000u));
  QCOMPARE(f.get_uint("test.u64"), std::optional<uint64_t>(18000000000000000000ull));
  QCOMPARE(f.find("test.i64")->as_int(), std::optional<int64_t>(-9000000000000000000ll));
  QCOMPARE(f.get_float("test.f32"), std::optional<double>(1.5));
  QCOMPARE(f.get_float("test.f64"), std::optional<double>(-2.25e300));
  QCOMPARE(f.get_bool("test.bool"), std::optional<bool>(true));
  QCOMPARE(*f.get_string("test.string"), std::string("h\xc3\xa9llo \0 world", 14));
  QCOMPARE(*f.get_string("test.empty_string"), std::string());
  QCOMPARE(f.get_array("test.arr.string")->items.size(), size_t(3));
  QCOMPARE(*f.get_array("test.arr.string")->items[2].as_string(), std::string("\xe2\x96\x81x"));
  const Array* nested = f.get_array("test.arr.nested");
  QVERIFY(nested);
  QCOMPARE(nested->element_type, ValueType::ARRAY);
  QCOMPARE(*nested->items[1].as_array()->items[0].as_array()->items[0].as_int(), int64_t(3));
  QVERIFY(f.get_array("test.arr.empty")->items.empty());
  QCOMPARE(f.get_array("test.arr.empty")->element_type, ValueType::UINT32);
  QVERIFY(f.find("missing") == nullptr);
  QCOMPARE(f.get_uint("general.architecture"), std::nullopt);
  QVERIFY(f.get_string("test.u8") == nullptr);

  // Every value read back equals the one written, key order included.
  auto reread = File::from_memory(expected.to_bytes(), "expected.gguf");
  QVERIFY(reread);
  QCOMPARE((*reread)->metadata().size(), f.metadata().size());
  for (size_t i = 0; i < f.metadata().size(); ++i) {
    QCOMPARE(f.metadata()[i].first, (*reread)->metadata()[i].first);
    QVERIFY2(same_value(f.metadata()[i].second, (*reread)->metadata()[i].second), f.metadata()[i].first.c_str());
  }
  // And re-serializing what was read gives the same bytes.
  Writer copy;
  copy.copy_metadata(f);
  QVERIFY(copy.to_bytes() == image);
  Writer only_test;
  only_test.copy_metadata(f, "test.arr.");
  auto filtered = File::from_memory(only_test.to_bytes(), "filtered.gguf");
  QVERIFY(filtered);
  QCOMPARE((*filtered)->metadata().size(), size_t(14));
}

void TestGguf::round_trip_every_tensor_type() {
  Writer w;
  std::vector<const quant::TypeTraits*> types;
  for (uint32_t id = 0; id < 256; ++id) {
    if (const quant::TypeTraits* t = quant::traits(id)) types.push_back(t);
  }
  QVERIFY(types.size() >= 20);  // F32 .. TQ2_0: every id ggml uses today
  for (const quant::TypeTraits* t : types) {
    std::vector<uint64_t> shape{uint64_t(t->block_size) * 3, 2, 1, 2};
    size_t n_bytes = quant::row_size(t->type, int64_t(shape[0])) * 4;
    w.add_tensor_copy(std::string("t.") + t->name, shape, t->type, random_bytes(n_bytes, uint32_t(t->type)));
  }
  w.add_tensor_copy("one_dim", {5}, quant::Type::F32, random_bytes(20, 99));
  std::vector<uint8_t> image = w.to_bytes();
  auto file = File::from_memory(image, "tensors.gguf");
  QVERIFY2(file, file ? "" : file.error().message.c_str());
  const File& f = **file;
  QCOMPARE(f.tensors().size(), types.size() + 1);
  QCOMPARE(f.data_offset() % 32, 0u);
  for (size_t i = 0; i < types.size(); ++i) {
    const quant::TypeTraits* t = types[i];
    const TensorInfo* info = f.tensor(std::string("t.") + t->name);
    QVERIFY2(info, t->name);
    QCOMPARE(&f.tensors()[i], info);  // file order is insertion order
    QCOMPARE(info->type, t->type);
    QCOMPARE(info->shape, (std::vector<uint64_t>{uint64_t(t->block_size) * 3, 2, 1, 2}));
    QCOMPARE(info->n_elements(), uint64_t(t->block_size) * 12);
    QCOMPARE(info->n_rows(), 4u);
    QCOMPARE(info->n_bytes, uint64_t(quant::row_size(t->type, int64_t(info->shape[0])) * 4));
    QCOMPARE(info->offset % 32, 0u);
    QCOMPARE(info->data, image.data() + f.data_offset() + info->offset);
    std::vector<uint8_t> expect = random_bytes(size_t(info->n_bytes), uint32_t(t->type));
    QVERIFY2(std::memcmp(info->data, expect.data(), expect.size()) == 0, t->name);
  }
  const TensorInfo* one = f.tensor("one_dim");
  QVERIFY(one);
  QCOMPARE(one->n_rows(), 1u);
  QCOMPARE(one->data + one->n_bytes, image.data() + image.size());  // the last tensor is not padded
  QVERIFY(f.tensor("t.nothing") == nullptr);
}

void TestGguf::round_trip_custom_alignment() {
  for (uint64_t align : {1u, 8u, 64u, 4096u}) {
    Writer w;
    w.set("general.alignment", Value{uint32_t(align)});
    w.add_tensor_copy("a", {3}, quant::Type::F32, random_bytes(12, 1));
    w.add_tensor_copy("b", {32}, quant::Type::Q8_0, random_bytes(34, 2));
    w.add_tensor_copy("c", {7}, quant::Type::F16, random_bytes(14, 3));
    auto bytes = w.to_bytes();
    auto f = File::from_memory(bytes, "aligned.gguf");
    QVERIFY2(f, f ? "" : f.error().message.c_str());
    QCOMPARE((*f)->alignment(), align);
    QCOMPARE((*f)->data_offset() % align, 0u);
    for (const TensorInfo& t : (*f)->tensors()) QCOMPARE(t.offset % align, 0u);
    QCOMPARE((*f)->tensor("c")->offset, align == 1 ? 46u : align == 8 ? 56u : align == 64 ? 128u : 8192u);
  }
}

void TestGguf::set_replaces_in_place() {
  Writer w;
  w.set_uint32("a", 1);
  w.set_string("b", "x");
  w.set_float32("c", 2.0f);
  w.set_bool("d", false);
  w.set_string("a", "now a string");
  auto f = File::from_memory(w.to_bytes(), "set.gguf");
  QVERIFY(f);
  const auto& md = (*f)->metadata();
  QCOMPARE(md.size(), size_t(4));
  QCOMPARE(md[0].first, std::string("a"));
  QCOMPARE(*md[0].second.as_string(), std::string("now a string"));
  QCOMPARE(md[3].first, std::string("d"));
  QCOMPARE((*f)->get_bool("d"), std::optional<bool>(false));
}

void TestGguf::write_then_open() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  std::filesystem::path p = dir.filePath("model.gguf").toStdString();
  Writer w = testing::sample_writer();
  Status s = w.write(p);
  QVERIFY2(s, s ? "" : s.error().message.c_str());
  QVERIFY(read_all(p) == w.to_bytes());
  auto f = File::open(p);
  QVERIFY2(f, f ? "" : f.error().message.c_str());
  QCOMPARE((*f)->name(), p.string());
  QCOMPARE((*f)->file_size(), std::filesystem::file_size(p));
  QCOMPARE((*f)->tensors().size(), size_t(3));
  const TensorInfo* b = (*f)->tensor("blk.0.b");
  QVERIFY(b);
  std::vector<uint8_t> expect = random_bytes(136, 2);
  QVERIFY(std::memcmp(b->data, expect.data(), expect.size()) == 0);
  // Overwriting an existing file works, and no temporary file is left behind.
  Writer small;
  small.set_uint32("x", 1);
  QVERIFY(small.write(p));
  QVERIFY(read_all(p) == small.to_bytes());
  QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden).size(), 1);
}

void TestGguf::write_into_missing_folder_fails() {
  QTemporaryDir dir;
  std::filesystem::path p = dir.filePath("no/such/folder/model.gguf").toStdString();
  Status s = testing::sample_writer().write(p);
  QVERIFY(!s);
  QVERIFY2(s.error().message.find(p.string()) != std::string::npos, s.error().message.c_str());
  QVERIFY2(s.error().message.find("No such file") != std::string::npos, s.error().message.c_str());
}

void TestGguf::write_failure_leaves_no_file() {
#ifdef __linux__
  // A file-size limit makes write() fail part way, as a full disk would; the partial file must go away
  // and the final name must not appear.
  QTemporaryDir dir;
  std::filesystem::path p = dir.filePath("big.gguf").toStdString();
  Writer w;
  w.add_tensor_copy("big", {1 << 20}, quant::Type::F32, std::vector<uint8_t>(4u << 20, 1));
  rlimit old{};
  QCOMPARE(getrlimit(RLIMIT_FSIZE, &old), 0);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit lim = old;
  lim.rlim_cur = 1 << 20;
  QCOMPARE(setrlimit(RLIMIT_FSIZE, &lim), 0);
  Status s = w.write(p);
  setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  QVERIFY(!s);
  QVERIFY2(s.error().message.find("writing failed") != std::string::npos, s.error().message.c_str());
  QVERIFY(!std::filesystem::exists(p));
  QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden).size(), 0);
#else
  QSKIP("needs RLIMIT_FSIZE (Linux) to make a write fail part way");
#endif
}

// Streamed tensors give exactly the bytes of the same tensors added in memory, produced in order, in
// ranges of rows_per_call rows (the last one shorter).
void TestGguf::stream_round_trip() {
  struct Spec {
    const char* name;
    std::vector<uint64_t> shape;
    quant::Type type;
    uint64_t rows_per_call;  // 0: the default; ~0: in memory
  };
  const Spec specs[] = {{"a", {8, 5}, quant::Type::F32, 2},
                        {"b", {64, 3}, quant::Type::Q8_0, ~uint64_t(0)},
                        {"c", {256, 2, 3}, quant::Type::Q4_K, 0},
                        {"d", {32, 7}, quant::Type::F16, 4}};
  std::vector<std::vector<uint8_t>> data;
  Writer memory, streamed;
  memory.set_string("general.architecture", "llama");
  streamed.set_string("general.architecture", "llama");
  std::vector<std::pair<uint64_t, uint64_t>> calls_a;
  for (const Spec& sp : specs) {
    uint64_t rows = 1;
    for (size_t i = 1; i < sp.shape.size(); ++i) rows *= sp.shape[i];
    const size_t row_bytes = quant::row_size(sp.type, int64_t(sp.shape[0]));
    data.push_back(random_bytes(row_bytes * rows, uint32_t(data.size() + 10)));
    const std::span<const uint8_t> bytes = data.back();  // the buffer stays put when `data` grows
    memory.add_tensor(sp.name, sp.shape, sp.type, bytes);
    if (sp.rows_per_call == ~uint64_t(0)) {
      streamed.add_tensor(sp.name, sp.shape, sp.type, bytes);
      continue;
    }
    const bool record = std::string(sp.name) == "a";
    streamed.add_tensor_stream(
        sp.name, sp.shape, sp.type,
        [bytes, row_bytes, record, &calls_a](uint64_t r0, uint64_t r1, uint8_t* out) -> Status {
          if (record) calls_a.emplace_back(r0, r1);
          std::memcpy(out, bytes.data() + r0 * row_bytes, (r1 - r0) * row_bytes);
          return {};
        },
        sp.rows_per_call);
  }
  const std::vector<uint8_t> expected = memory.to_bytes();
  QVERIFY(streamed.to_bytes() == expected);
  const std::vector<std::pair<uint64_t, uint64_t>> want_calls = {{0, 2}, {2, 4}, {4, 5}};
  QVERIFY(calls_a == want_calls);

  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  std::filesystem::path p = dir.filePath("streamed.gguf").toStdString();
  std::filesystem::path q = dir.filePath("memory.gguf").toStdString();
  Status s = streamed.write(p);
  QVERIFY2(s, s ? "" : s.error().message.c_str());
  QVERIFY(memory.write(q));
  QVERIFY(read_all(p) == read_all(q));
  QVERIFY(read_all(p) == expected);
  auto f = File::open(p);
  QVERIFY2(f, f ? "" : f.error().message.c_str());
  const TensorInfo* c = (*f)->tensor("c");
  QVERIFY(c);
  QCOMPARE(c->n_bytes, uint64_t(data[2].size()));
  QVERIFY(std::memcmp(c->data, data[2].data(), data[2].size()) == 0);
}

// A producer error stops write(): the error names the file and the tensor, and no file is left behind
// (not even the temporary one); an existing file under the name is kept as it was.
void TestGguf::stream_producer_failure_leaves_no_file() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  std::filesystem::path p = dir.filePath("failed.gguf").toStdString();
  int calls = 0;
  auto failing = [&calls](uint64_t r0, uint64_t r1, uint8_t* out) -> Status {
    ++calls;
    if (r0 >= 6) return make_error("the generator ran out at row {}", r0);
    std::memset(out, 0x5a, (r1 - r0) * 16);
    return {};
  };
  Writer w;
  w.add_tensor_copy("first", {4, 2}, quant::Type::F32, std::vector<uint8_t>(32, 1));
  w.add_tensor_stream("blk.3.broken", {4, 10}, quant::Type::F32, failing, 3);
  Status s = w.write(p);
  QVERIFY(!s);
  QCOMPARE(calls, 3);  // rows [0,3), [3,6), then the failure at [6,9): nothing after it
  const std::string& msg = s.error().message;
  QVERIFY2(msg.find(p.string()) != std::string::npos, msg.c_str());
  QVERIFY2(msg.find("blk.3.broken: the generator ran out at row 6") != std::string::npos, msg.c_str());
  QVERIFY(!std::filesystem::exists(p));
  QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden).size(), 0);

  // Over an existing file: the old file stays, nothing else appears.
  Writer small;
  small.set_uint32("x", 1);
  QVERIFY(small.write(p));
  QVERIFY(!w.write(p));
  QVERIFY(read_all(p) == small.to_bytes());
  QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden).size(), 1);
}

void TestGguf::open_missing_file() {
  QTemporaryDir dir;
  std::string p = dir.filePath("absent.gguf").toStdString();
  auto f = File::open(p);
  QVERIFY(!f);
  QCOMPARE(f.error().message, p + ": no such file");
}

void TestGguf::open_directory() {
  QTemporaryDir dir;
  auto f = File::open(dir.path().toStdString());
  QVERIFY(!f);
  QCOMPARE(f.error().message, dir.path().toStdString() + ": is a folder, not a GGUF model file");
}

void TestGguf::open_empty_file() {
  QTemporaryDir dir;
  std::string p = dir.filePath("empty.gguf").toStdString();
  { std::ofstream(p, std::ios::binary); }
  auto f = File::open(p);
  QVERIFY(!f);
  QVERIFY2(f.error().message.find(p + ": the file is empty (0 bytes)") == 0, f.error().message.c_str());
  // A non-GGUF file gets told apart from a truncated one.
  { std::ofstream(p, std::ios::binary) << "hello world, not a model"; }
  auto g = File::open(p);
  QVERIFY(!g);
  QCOMPARE(g.error().message, p + ": not a GGUF file: it starts with the bytes 68 65 6c 6c instead of 'GGUF'");
}

void TestGguf::read_qwen_vocab() {
  auto file = File::open(data_path("tokenizer/r1-distill-qwen.vocab.gguf"));
  QVERIFY2(file, file ? "" : file.error().message.c_str());
  const File& f = **file;
  QCOMPARE(f.version(), 3u);
  QCOMPARE(f.file_size(), 5930757u);
  QVERIFY(f.tensors().empty());
  QCOMPARE(*f.get_string("general.architecture"), std::string("qwen2"));
  QCOMPARE(*f.get_string("general.name"), std::string("DeepSeek-R1-Distill-Qwen (vocabulary only)"));
  QCOMPARE(f.get_uint("qwen2.context_length"), std::optional<uint64_t>(131072));
  QCOMPARE(f.get_uint("qwen2.embedding_length"), std::optional<uint64_t>(1536));
  QCOMPARE(f.get_uint("qwen2.block_count"), std::optional<uint64_t>(28));
  QCOMPARE(f.get_uint("qwen2.feed_forward_length"), std::optional<uint64_t>(8960));
  QCOMPARE(f.get_uint("qwen2.attention.head_count"), std::optional<uint64_t>(12));
  QCOMPARE(f.get_uint("qwen2.attention.head_count_kv"), std::optional<uint64_t>(2));
  QCOMPARE(f.get_float("qwen2.rope.freq_base"), std::optional<double>(10000.0));
  QVERIFY(std::abs(*f.get_float("qwen2.attention.layer_norm_rms_epsilon") - 1e-6) < 1e-12);
  QVERIFY(f.find("general.file_type") == nullptr);
  QCOMPARE(*f.get_string("tokenizer.ggml.model"), std::string("gpt2"));
  QCOMPARE(*f.get_string("tokenizer.ggml.pre"), std::string("deepseek-r1-qwen"));
  const Array* tokens = f.get_array("tokenizer.ggml.tokens");
  QVERIFY(tokens);
  QCOMPARE(tokens->element_type, ValueType::STRING);
  QCOMPARE(tokens->items.size(), size_t(151936));
  QCOMPARE(f.get_array("tokenizer.ggml.token_type")->items.size(), size_t(151936));
  QCOMPARE(f.get_array("tokenizer.ggml.merges")->items.size(), size_t(151387));
  QCOMPARE(f.get_uint("tokenizer.ggml.bos_token_id"), std::optional<uint64_t>(151646));
  QCOMPARE(f.get_uint("tokenizer.ggml.eos_token_id"), std::optional<uint64_t>(151643));
  QCOMPARE(f.get_uint("tokenizer.ggml.padding_token_id"), std::optional<uint64_t>(151643));
  QCOMPARE(f.get_bool("tokenizer.ggml.add_bos_token"), std::optional<bool>(true));
  QCOMPARE(f.get_bool("tokenizer.ggml.add_eos_token"), std::optional<bool>(false));
  QCOMPARE(*tokens->items[151646].as_string(), std::string("<\xef\xbd\x9c" "begin\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>"));
  QCOMPARE(*tokens->items[151643].as_string(), std::string("<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>"));
  QCOMPARE(*tokens->items[151935].as_string(), std::string("[PAD151935]"));
  QCOMPARE(f.get_array("tokenizer.ggml.token_type")->items[151935].as_int(), std::optional<int64_t>(5));
  QCOMPARE(f.get_array("tokenizer.ggml.token_type")->items[0].as_int(), std::optional<int64_t>(1));
  std::vector<uint8_t> tmpl = read_all(data_path("templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja"));
  QCOMPARE(*f.get_string("tokenizer.chat_template"), std::string(tmpl.begin(), tmpl.end()));
}

void TestGguf::read_llama3_vocab() {
  auto file = File::open(data_path("tokenizer/llama3.vocab.gguf"));
  QVERIFY2(file, file ? "" : file.error().message.c_str());
  const File& f = **file;
  QCOMPARE(f.version(), 3u);
  QVERIFY(f.tensors().empty());
  QCOMPARE(*f.get_string("general.architecture"), std::string("llama"));
  QCOMPARE(*f.get_string("tokenizer.ggml.pre"), std::string("llama-bpe"));
  const Array* tokens = f.get_array("tokenizer.ggml.tokens");
  QVERIFY(tokens);
  QCOMPARE(tokens->items.size(), size_t(128256));
  QCOMPARE(f.get_array("tokenizer.ggml.token_type")->items.size(), size_t(128256));
  QCOMPARE(f.get_array("tokenizer.ggml.merges")->items.size(), size_t(280147));
  QCOMPARE(f.get_uint("tokenizer.ggml.bos_token_id"), std::optional<uint64_t>(128000));
  QCOMPARE(f.get_uint("tokenizer.ggml.eos_token_id"), std::optional<uint64_t>(128009));
  QVERIFY(f.find("tokenizer.ggml.padding_token_id") == nullptr);
  QCOMPARE(f.get_bool("tokenizer.ggml.add_bos_token"), std::optional<bool>(true));
  QCOMPARE(f.get_bool("tokenizer.ggml.add_sep_token"), std::optional<bool>(false));
  QCOMPARE(*tokens->items[128000].as_string(), std::string("<|begin_of_text|>"));
  QCOMPARE(*tokens->items[128009].as_string(), std::string("<|eot_id|>"));
  QCOMPARE(f.get_array("tokenizer.ggml.token_type")->items[128001].as_int(), std::optional<int64_t>(3));
}

void TestGguf::rewrite_vocab_is_byte_identical() {
  // Copying every key of a real file into the writer reproduces the file byte for byte: the writer lays
  // out metadata exactly as llama.cpp's tools do.
  for (const char* rel : {"tokenizer/r1-distill-qwen.vocab.gguf", "tokenizer/llama3.vocab.gguf"}) {
    auto f = File::open(data_path(rel));
    QVERIFY(f);
    Writer w;
    w.copy_metadata(**f);
    QVERIFY2(w.to_bytes() == read_all(data_path(rel)), rel);
  }
}

void TestGguf::read_version2() {
  // A GGUF v2 file built by hand: same layout as v3 (u64 counts and lengths). One key, one F32 tensor.
  std::vector<uint8_t> b;
  auto u32 = [&](uint32_t x) { for (int i = 0; i < 4; ++i) b.push_back(uint8_t(x >> (8 * i))); };
  auto u64 = [&](uint64_t x) { for (int i = 0; i < 8; ++i) b.push_back(uint8_t(x >> (8 * i))); };
  auto str = [&](std::string_view s) { u64(s.size()); b.insert(b.end(), s.begin(), s.end()); };
  b.insert(b.end(), {'G', 'G', 'U', 'F'});
  u32(2);   // version
  u64(1);   // tensors
  u64(2);   // metadata
  str("general.architecture"); u32(8); str("llama");
  str("llama.block_count"); u32(4); u32(1);
  str("w"); u32(2); u64(2); u64(1); u32(0); u64(0);  // 'w': F32 [2, 1] at offset 0
  while (b.size() % 32) b.push_back(0);
  size_t data = b.size();
  u32(0x3f800000); u32(0x40000000);  // 1.0f, 2.0f
  auto f = File::from_memory(b, "v2.gguf");
  QVERIFY2(f, f ? "" : f.error().message.c_str());
  QCOMPARE((*f)->version(), 2u);
  QCOMPARE((*f)->data_offset(), uint64_t(data));
  QCOMPARE((*f)->get_uint("llama.block_count"), std::optional<uint64_t>(1));
  const TensorInfo* w = (*f)->tensor("w");
  QVERIFY(w);
  float v[2];
  std::memcpy(v, w->data, 8);
  QCOMPARE(v[0], 1.0f);
  QCOMPARE(v[1], 2.0f);
}

QTEST_APPLESS_MAIN(TestGguf)
#include "test_gguf.moc"

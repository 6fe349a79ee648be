// The tokenizer on the real vocabularies (tests/data/tokenizer/, see its README): llama.cpp's golden vectors
// for DeepSeek-R1-Distill-Qwen and Llama 3, BOS, special tokens, several threads sharing one Vocab,
// round trips, the detokenizer on emoji and CJK, end-of-generation tokens, and errors for broken files.
#include <QtTest>

#include <QFile>

#include <atomic>
#include <chrono>
#include <ctime>
#include <thread>

#include "inference/gguf/gguf.h"
#include "inference/tokenizer/tokenizer.h"

using namespace penser;
using namespace penser::tokenizer;

namespace {

const QString kDir = QStringLiteral(PENSER_TEST_DATA_DIR "/tokenizer/");

struct Golden {
  std::vector<std::string> texts;
  std::vector<std::vector<Token>> ids;
};

// The .inp/.out format of llama.cpp's test-tokenizer-0 (tests/data/README.md).
Golden read_golden(const QString& stem) {
  Golden g;
  QFile inp(kDir + stem + ".inp"), out(kDir + stem + ".out");
  if (!inp.open(QIODevice::ReadOnly) || !out.open(QIODevice::ReadOnly)) qFatal("cannot read %s", qPrintable(stem));
  const QByteArray all = inp.readAll();
  const QByteArray sep = "\n__ggml_vocab_test__\n";
  qsizetype pos = 0;
  for (qsizetype next; (next = all.indexOf(sep, pos)) >= 0; pos = next + sep.size())
    g.texts.push_back(all.mid(pos, next - pos).toStdString());
  const QList<QByteArray> lines = out.readAll().split('\n');
  for (qsizetype i = 0; i < qsizetype(g.texts.size()) && i < lines.size(); ++i) {
    std::vector<Token> ids;
    for (const QByteArray& t : lines[i].split(' '))
      if (!t.isEmpty()) ids.push_back(t.toInt());
    g.ids.push_back(ids);
  }
  return g;
}

// Wall time can mislead on a shared machine; process CPU time (std::clock) is reported beside it. The
// suite measures from one thread, so the two agree on an idle machine.
struct Timer {
  std::chrono::steady_clock::time_point wall = std::chrono::steady_clock::now();
  std::clock_t cpu = std::clock();
  double wall_s() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count(); }
  double cpu_s() const { return double(std::clock() - cpu) / CLOCKS_PER_SEC; }
};

struct Loaded {
  std::unique_ptr<gguf::File> file;
  std::shared_ptr<const Vocab> vocab;
  double load_ms = 0, load_cpu_ms = 0;
};

Loaded load(const QString& stem) {
  Loaded l;
  const Timer timer;
  auto file = gguf::File::open((kDir + stem + ".vocab.gguf").toStdString());
  if (!file) qFatal("%s", file.error().message.c_str());
  auto vocab = Vocab::from_gguf(**file);
  if (!vocab) qFatal("%s", vocab.error().message.c_str());
  l.load_ms = timer.wall_s() * 1e3;
  l.load_cpu_ms = timer.cpu_s() * 1e3;
  l.file = std::move(*file);
  l.vocab = *vocab;
  return l;
}

QString ids_string(const std::vector<Token>& ids) {
  QStringList s;
  for (Token t : ids) s << QString::number(t);
  return s.join(' ');
}

// Qt's decoder as the independent judge; Stateless makes a sequence cut off at the end an error too.
bool valid_utf8(const std::string& s) {
  QStringDecoder dec(QStringConverter::Utf8, QStringConverter::Flag::Stateless);
  const QString ignored = dec.decode(QByteArrayView(s.data(), qsizetype(s.size())));
  return !dec.hasError();
}

// A file made of `from`'s metadata with one key changed (`value` set) or removed (`value` empty).
Result<std::shared_ptr<const Vocab>> vocab_with(const gguf::File& from, const std::string& key,
                                               std::optional<gguf::Value> value) {
  gguf::Writer w;
  for (const auto& [k, v] : from.metadata()) {
    if (k == key) {
      if (value) w.set(k, *value);
    } else {
      w.set(k, v);
    }
  }
  if (value && !from.find(key)) w.set(key, *value);
  const std::vector<uint8_t> bytes = w.to_bytes();
  auto file = gguf::File::from_memory(bytes, "broken.gguf");
  if (!file) qFatal("writer output does not parse: %s", file.error().message.c_str());
  return Vocab::from_gguf(**file);
}

}  // namespace

class TestTokenizerGguf : public QObject {
  Q_OBJECT
  Loaded qwen_, llama_;
  Golden qwen_golden_, llama_golden_;

  const Vocab& vocab(const QString& name) const { return name == "qwen" ? *qwen_.vocab : *llama_.vocab; }
  const Golden& golden(const QString& name) const { return name == "qwen" ? qwen_golden_ : llama_golden_; }

 private slots:
  void initTestCase() {
    qwen_ = load("r1-distill-qwen");
    llama_ = load("llama3");
    qwen_golden_ = read_golden("r1-distill-qwen");
    llama_golden_ = read_golden("llama3");
    qInfo("vocabulary load (open + from_gguf): r1-distill-qwen %.0f ms wall, %.0f ms CPU (%d tokens, %d merges); "
          "llama3 %.0f ms wall, %.0f ms CPU (%d tokens, %d merges)", qwen_.load_ms, qwen_.load_cpu_ms,
          qwen_.vocab->n_tokens(), qwen_.vocab->n_merges(), llama_.load_ms, llama_.load_cpu_ms,
          llama_.vocab->n_tokens(), llama_.vocab->n_merges());
    QCOMPARE(qwen_golden_.texts.size(), size_t(46));
    QCOMPARE(qwen_golden_.ids.size(), size_t(46));
    QCOMPARE(llama_golden_.texts.size(), size_t(46));
    QCOMPARE(llama_golden_.ids.size(), size_t(46));
  }

  void vocabulary_metadata() {
    const Vocab& q = *qwen_.vocab;
    QCOMPARE(q.n_tokens(), 151936);
    QCOMPARE(q.n_merges(), 151387);
    QCOMPARE(q.pre_tokenizer(), PreTokenizer::Qwen2);
    QCOMPARE(q.bos(), 151646);
    QCOMPARE(q.eos(), 151643);
    QCOMPARE(q.pad(), 151643);
    QCOMPARE(q.eot(), -1);
    QVERIFY(q.add_bos());
    QCOMPARE(q.token_text(q.bos()), std::string("<｜begin▁of▁sentence｜>"));
    QCOMPARE(q.token_type(151648), TokenType::USER_DEFINED);
    QCOMPARE(q.token_type(151665), TokenType::UNUSED);
    QCOMPARE(q.special_tokens().size(), size_t(22));
    QCOMPARE(q.token_to_bytes(q.find("Ġworld")), std::string(" world"));
    QCOMPARE(q.token_to_bytes(q.find("Ċ")), std::string("\n"));

    const Vocab& l = *llama_.vocab;
    QCOMPARE(l.n_tokens(), 128256);
    QCOMPARE(l.n_merges(), 280147);
    QCOMPARE(l.pre_tokenizer(), PreTokenizer::Llama3);
    QCOMPARE(l.bos(), 128000);
    QCOMPARE(l.eos(), 128009);
    QCOMPARE(l.pad(), -1);
    QCOMPARE(l.special_tokens().size(), size_t(256));
  }

  void golden_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("index");
    for (const char* name : {"qwen", "llama"})
      for (int i = 0; i < 46; ++i) QTest::addRow("%s/%d", name, i) << QString(name) << i;
  }
  void golden() {
    QFETCH(QString, name);
    QFETCH(int, index);
    const Golden& g = golden(name);
    const std::vector<Token> got = vocab(name).encode(g.texts[size_t(index)], false, false);
    QCOMPARE(ids_string(got), ids_string(g.ids[size_t(index)]));
  }

  void bos_comes_first() {
    for (const QString name : {"qwen", "llama"}) {
      const Vocab& v = vocab(name);
      const Golden& g = golden(name);
      for (size_t i = 0; i < g.texts.size(); ++i) {
        std::vector<Token> expected{v.bos()};
        expected.insert(expected.end(), g.ids[i].begin(), g.ids[i].end());
        QCOMPARE(ids_string(v.encode(g.texts[i], true, false)), ids_string(expected));
      }
    }
  }

  void special_tokens_qwen() {
    const Vocab& v = *qwen_.vocab;
    const std::string text = "<｜User｜>hi<｜Assistant｜><think>\n";
    const Token user = v.find("<｜User｜>"), assistant = v.find("<｜Assistant｜>"), think = v.find("<think>");
    QCOMPARE(user, 151644);  // the ids of DeepSeek-R1-Distill-Qwen's tokenizer.json
    QCOMPARE(assistant, 151645);
    QCOMPARE(think, 151648);
    std::vector<Token> expected{user};
    for (Token t : v.encode("hi", false, false)) expected.push_back(t);
    expected.push_back(assistant);
    expected.push_back(think);
    for (Token t : v.encode("\n", false, false)) expected.push_back(t);
    QCOMPARE(ids_string(v.encode(text, false, true)), ids_string(expected));
    QCOMPARE(ids_string(v.encode(text, false, true)), QString("151644 6023 151645 151648 198"));
    QCOMPARE(v.encode(text, true, true).front(), v.bos());

    // As ordinary text, no special id appears and the text decodes back unchanged.
    const std::vector<Token> plain = v.encode(text, false, false);
    for (Token t : plain) QCOMPARE(v.token_type(t), TokenType::NORMAL);
    QCOMPARE(v.decode(plain), text);
    QCOMPARE(v.decode(v.encode(text, false, true)), text);

    // A full R1 prompt: BOS written as text, two turns, the previous answer closed with EOS.
    const std::string prompt = "<｜begin▁of▁sentence｜><｜User｜>2+2?<｜Assistant｜>4<｜end▁of▁sentence｜><｜User｜>Why?<｜Assistant｜><think>\n";
    const std::vector<Token> ids = v.encode(prompt, false, true);
    QCOMPARE(ids.front(), v.bos());
    QCOMPARE(std::count(ids.begin(), ids.end(), v.eos()), 1);
    QCOMPARE(std::count(ids.begin(), ids.end(), user), 2);
    QCOMPARE(v.decode(ids), prompt);
  }

  void special_tokens_llama3() {
    const Vocab& v = *llama_.vocab;
    const std::string text = "<|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>";
    std::vector<Token> expected{128006};
    for (Token t : v.encode("user", false, false)) expected.push_back(t);
    expected.push_back(128007);
    for (Token t : v.encode("\n\nhi", false, false)) expected.push_back(t);
    expected.push_back(128009);
    QCOMPARE(ids_string(v.encode(text, false, true)), ids_string(expected));
    // DeepSeek's markers are not in this vocabulary: ordinary text either way.
    QCOMPARE(v.encode("<｜User｜>", false, true), v.encode("<｜User｜>", false, false));
  }

  void threads_share_one_vocab() {
    std::atomic<int> mismatches{0}, checked{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int round = 0; round < 5; ++round) {
          for (const QString name : {"qwen", "llama"}) {
            const Golden& g = golden(name);
            const Vocab& v = vocab(name);
            for (size_t i = 0; i < g.texts.size(); ++i) {
              const size_t k = (i + size_t(t) * 11) % g.texts.size();  // threads start at different cases
              if (v.encode(g.texts[k], false, false) != g.ids[k]) ++mismatches;
              ++checked;
            }
          }
        }
      });
    }
    for (std::thread& th : threads) th.join();
    QCOMPARE(mismatches.load(), 0);
    QCOMPARE(checked.load(), 4 * 5 * 2 * 46);
  }

  void decode_inverts_encode() {
    std::vector<std::string> texts = qwen_golden_.texts;
    texts.push_back("e\xCC\x81t\xC3\xA9 \xE2\x84\xAB \xE1\x84\x80\xE1\x85\xA1");  // decomposed and singleton forms
    texts.push_back("tabs\tand\r\nCRLF\u00a0nbsp\u3000ideographic space");
    for (const std::string& x : texts) {
      const QString qx = QString::fromStdString(x);
      // Qt's own normalizer is the reference for NFC.
      QCOMPARE(QString::fromStdString(qwen_.vocab->decode(qwen_.vocab->encode(x, false, false))),
               qx.normalized(QString::NormalizationForm_C));
      QCOMPARE(llama_.vocab->decode(llama_.vocab->encode(x, false, false)), x);
    }
  }

  void detokenizer_streams_whole_characters() {
    const std::string text =
        "Emoji: 👨‍👩‍👧 🦙🔥 ✅; 中文：你好，世界！日本語のテキスト。한국어 텍스트. "
        "ភាសាខ្មែរ, Tiếng Việt, Ελληνικά, עברית, العربية 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🏳️‍🌈";
    for (const QString name : {"qwen", "llama"}) {
      const Vocab& v = vocab(name);
      const std::vector<Token> ids = v.encode(text, false, false);
      // Some tokens must split characters, or this test would not test holding back.
      int partial = 0;
      for (Token t : ids) partial += !valid_utf8(v.token_to_bytes(t));
      QVERIFY(partial > 0);
      Detokenizer d(v);
      std::string all;
      for (Token t : ids) {
        const std::string piece = d.push(t);
        QVERIFY2(valid_utf8(piece), qPrintable(name));
        all += piece;
      }
      const std::string rest = d.flush();
      QVERIFY(rest.empty());
      QCOMPARE(all, text);
    }
  }

  void detokenizer_flushes_dangling_bytes() {
    const Vocab& v = *qwen_.vocab;
    // "😀" is F0 9F 98 80; take the first token(s) of it on their own.
    std::vector<Token> ids = v.encode("😀", false, false);
    QVERIFY(!ids.empty());
    Detokenizer d(v);
    std::string out = d.push(ids.front());
    if (ids.size() > 1) {
      QCOMPARE(out, std::string());
      QCOMPARE(d.flush(), std::string("\xEF\xBF\xBD"));
    } else {
      QCOMPARE(out, std::string("😀"));  // a single token: nothing to hold back
    }
  }

  void end_of_generation() {
    // DeepSeek-R1-Distill-Qwen: EOS <｜end▁of▁sentence｜> and the control token <|EOT|>.
    QCOMPARE(ids_string(qwen_.vocab->eog_tokens()), QString("151643 151647"));
    QVERIFY(qwen_.vocab->is_eog(151643) && !qwen_.vocab->is_eog(151646) && !qwen_.vocab->is_eog(151649));
    // Llama 3: <|end_of_text|> and EOS <|eot_id|>.
    QCOMPARE(ids_string(llama_.vocab->eog_tokens()), QString("128001 128009"));
    QVERIFY(llama_.vocab->is_eog(128009) && !llama_.vocab->is_eog(128000));
  }

  void invalid_utf8_does_not_crash() {
    for (const QString name : {"qwen", "llama"}) {
      const Vocab& v = vocab(name);
      const std::string bad = "ok \xFF\xFE \xE2\x82 \xED\xA0\x80 end\xF0\x9F";
      const std::vector<Token> ids = v.encode(bad, true, true);
      QCOMPARE(ids, v.encode("ok \uFFFD\uFFFD \uFFFD \uFFFD\uFFFD\uFFFD end\uFFFD", true, true));
    }
  }

  void file_errors_data() {
    QTest::addColumn<QString>("key");
    QTest::addColumn<int>("kind");  // 0 remove, 1 string value, 2 int value, 3 short array
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("expected");
    QTest::newRow("model llama") << "tokenizer.ggml.model" << 1 << "llama" << "unsupported tokenizer 'llama'";
    QTest::newRow("model missing") << "tokenizer.ggml.model" << 0 << "" << "has no tokenizer";
    QTest::newRow("pre missing") << "tokenizer.ggml.pre" << 0 << "" << "tokenizer.ggml.pre is missing";
    QTest::newRow("pre unknown") << "tokenizer.ggml.pre" << 1 << "falcon" << "unsupported pre-tokenizer 'falcon'";
    QTest::newRow("tokens missing") << "tokenizer.ggml.tokens" << 0 << "" << "tokenizer.ggml.tokens is missing";
    QTest::newRow("merges missing") << "tokenizer.ggml.merges" << 0 << "" << "tokenizer.ggml.merges is missing";
    QTest::newRow("types short") << "tokenizer.ggml.token_type" << 3 << "" << "token_type has 3 entries";
    QTest::newRow("tokens not strings") << "tokenizer.ggml.tokens" << 3 << "" << "tokenizer.ggml.tokens[0] has type int32, expected string";
    QTest::newRow("bos out of range") << "tokenizer.ggml.bos_token_id" << 2 << "151936" << "outside the vocabulary";
    QTest::newRow("eos a string") << "tokenizer.ggml.eos_token_id" << 1 << "x" << "eos_token_id has type string, expected an integer";
  }
  void file_errors() {
    QFETCH(QString, key);
    QFETCH(int, kind);
    QFETCH(QString, value);
    QFETCH(QString, expected);
    std::optional<gguf::Value> v;
    if (kind == 1) v = gguf::Value{value.toStdString()};
    if (kind == 2) v = gguf::Value{uint32_t(value.toUInt())};
    if (kind == 3) v = gguf::Value{gguf::Array{gguf::ValueType::INT32, {gguf::Value{int32_t(1)}, gguf::Value{int32_t(1)},
                                                                        gguf::Value{int32_t(1)}}}};
    auto r = vocab_with(*qwen_.file, key.toStdString(), v);
    QVERIFY(!r);
    const QString msg = QString::fromStdString(r.error().message);
    QVERIFY2(msg.contains(expected) && msg.startsWith("broken.gguf"), qPrintable(msg));
    qDebug("%s", qPrintable(msg));
  }

  void file_rewritten_loads_the_same() {
    // The control for file_errors: the same copy with nothing changed loads and encodes like the original.
    auto r = vocab_with(*qwen_.file, "general.name", gguf::Value{std::string("copy")});
    QVERIFY2(r, r ? "" : r.error().message.c_str());
    QCOMPARE((*r)->encode(qwen_golden_.texts[45], false, false), qwen_golden_.ids[45]);
  }

  // Figures for docs/tokenizer.md: encode throughput on ~300 KB of mixed text (prose, code, CJK, emoji,
  // whitespace runs), single thread. Checked only for sanity (tokens per byte); the figure is printed.
  void throughput() {
    QFile readme(PENSER_TEST_DATA_DIR "/README.md");
    QVERIFY(readme.open(QIODevice::ReadOnly));
    std::string unit = readme.readAll().toStdString();
    for (const std::string& t : qwen_golden_.texts) unit += t + "\n";
    std::string text;
    while (text.size() < 300 * 1000) text += unit;
    for (const QString name : {"qwen", "llama"}) {
      const Vocab& v = vocab(name);
      size_t n = 0;
      const Timer timer;
      const int reps = 3;
      for (int r = 0; r < reps; ++r) n = v.encode(text, false, false).size();
      const double wall = timer.wall_s() / reps, cpu = timer.cpu_s() / reps;
      qInfo("encode %s: %.0f KB, %zu tokens (%.2f bytes/token): %.1f ms wall = %.1f MB/s; %.1f ms CPU = %.1f MB/s",
            qPrintable(name), text.size() / 1e3, n, double(text.size()) / double(n), wall * 1e3,
            text.size() / wall / 1e6, cpu * 1e3, text.size() / cpu / 1e6);
      QVERIFY(n > text.size() / 8 && n < text.size() / 2);
      QCOMPARE(v.decode(v.encode(text, false, false)).size(), text.size());
    }
  }
};

QTEST_APPLESS_MAIN(TestTokenizerGguf)
#include "test_tokenizer_gguf.moc"

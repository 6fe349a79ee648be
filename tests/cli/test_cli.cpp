// penser-cli end to end: each test runs the real binary with QProcess and checks its exit, stdout and stderr.
#include "inference/common/version.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <cstring>

namespace {

struct Outcome {
  int code = -1;
  bool crashed = false;
  QByteArray out, err;
};

Outcome cli(const QStringList& args, int timeout_ms = 120000) {
  QProcess p;
  p.start(QStringLiteral(PENSER_CLI_BINARY), args);
  Outcome o;
  if (!p.waitForStarted(10000)) {
    o.err = "could not start " PENSER_CLI_BINARY;
    return o;
  }
  p.closeWriteChannel();
  if (!p.waitForFinished(timeout_ms)) {
    p.kill();
    p.waitForFinished();
    o.err = "timed out";
    return o;
  }
  o.code = p.exitCode();
  o.crashed = p.exitStatus() != QProcess::NormalExit;
  o.out = p.readAllStandardOutput();
  o.err = p.readAllStandardError();
  return o;
}

QJsonObject json_object(const QByteArray& bytes) {
  QJsonParseError e;
  QJsonDocument d = QJsonDocument::fromJson(bytes, &e);
  if (e.error != QJsonParseError::NoError || !d.isObject()) qWarning() << "not a JSON object:" << bytes.left(500);
  return d.object();
}

QList<int> json_ids(const QJsonValue& v) {
  QList<int> ids;
  for (const QJsonValue& x : v.toArray()) ids.append(x.toInt());
  return ids;
}

const QString kQwenVocab = QStringLiteral(PENSER_TEST_DATA_DIR "/tokenizer/r1-distill-qwen.vocab.gguf");
const QString kLlamaVocab = QStringLiteral(PENSER_TEST_DATA_DIR "/tokenizer/llama3.vocab.gguf");

// The test cases of a tokenizer golden pair (llama.cpp's .inp/.out format, see tests/data/README.md).
QList<QPair<QByteArray, QList<int>>> golden_cases(const QString& base) {
  QFile inp(base + ".inp"), out(base + ".out");
  if (!inp.open(QIODevice::ReadOnly) || !out.open(QIODevice::ReadOnly)) return {};
  // Split on the separator line: cases may contain newlines.
  QList<QByteArray> cases;
  const QByteArray all = inp.readAll();
  const QByteArray sep = "\n__ggml_vocab_test__\n";
  qsizetype pos = 0;
  while (true) {
    qsizetype next = all.indexOf(sep, pos);
    if (next < 0) break;
    cases.append(all.mid(pos, next - pos));
    pos = next + sep.size();
  }
  QList<QByteArray> lines = out.readAll().split('\n');
  QList<QPair<QByteArray, QList<int>>> result;
  for (qsizetype i = 0; i < cases.size() && i < lines.size(); ++i) {
    QList<int> ids;
    for (const QByteArray& f : lines[i].split(' ')) {
      if (!f.isEmpty()) ids.append(f.toInt());
    }
    result.append({cases[i], ids});
  }
  return result;
}

}  // namespace

class TestCli : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir dir_;
  QString tiny_;   // tiny qwen2, built-in byte vocabulary, F32
  QString wide_;   // rows of 256 so every K type applies
  int tiny_vocab_ = 0;

  QString path(const QString& name) const { return dir_.filePath(name); }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    tiny_ = path("tiny.gguf");
    Outcome o = cli({"make-model", tiny_, "--arch", "qwen2", "--preset", "tiny", "--seed", "7"});
    QVERIFY2(o.code == 0, o.err.constData());
    QVERIFY(QFile::exists(tiny_));
    Outcome i = cli({"inspect", tiny_, "--json"});
    QCOMPARE(i.code, 0);
    tiny_vocab_ = json_object(i.out)["tokenizer"].toObject()["n_tokens"].toInt();
    QVERIFY(tiny_vocab_ > 0);

    wide_ = path("wide.gguf");
    o = cli({"make-model", wide_, "--arch", "qwen2", "--n-embd", "256", "--n-ff", "512", "--n-head", "4",
             "--n-head-kv", "2", "--n-layer", "2", "--seed", "3"});
    QVERIFY2(o.code == 0, o.err.constData());
  }

  void version() {
    Outcome o = cli({"--version"});
    QCOMPARE(o.code, 0);
    QVERIFY2(o.out.contains(penser::version()), o.out.constData());
  }

  void help_lists_commands() {
    Outcome o = cli({"--help"});
    QCOMPARE(o.code, 0);
    for (const char* c : {"inspect", "tokenize", "run", "logits", "bench", "quantize", "make-model"}) {
      QVERIFY2(o.out.contains(c), c);
    }
  }

  void inspect_vocab_only_text() {
    Outcome o = cli({"inspect", kQwenVocab});
    QVERIFY2(o.code == 0, o.err.constData());
    QVERIFY(o.out.contains("qwen2"));
    QVERIFY(o.out.contains("151936 tokens"));
    QVERIFY(o.out.contains("deepseek-r1-qwen"));
    QVERIFY(o.out.contains("no weights"));
    QVERIFY(o.out.contains("chat template: present"));
  }

  void inspect_vocab_only_json_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("arch");
    QTest::addColumn<int>("n_tokens");
    QTest::addColumn<int>("bos");
    QTest::addColumn<QString>("pre");
    QTest::newRow("r1-distill-qwen") << kQwenVocab << "qwen2" << 151936 << 151646 << "deepseek-r1-qwen";
    QTest::newRow("llama3") << kLlamaVocab << "llama" << 128256 << 128000 << "llama-bpe";
  }
  void inspect_vocab_only_json() {
    QFETCH(QString, file);
    QFETCH(QString, arch);
    QFETCH(int, n_tokens);
    QFETCH(int, bos);
    QFETCH(QString, pre);
    Outcome o = cli({"inspect", file, "--json"});
    QVERIFY2(o.code == 0, o.err.constData());
    QJsonObject j = json_object(o.out);
    QCOMPARE(j["architecture"].toString(), arch);
    QCOMPARE(j["has_weights"].toBool(), false);
    QCOMPARE(j["n_tensors"].toInt(), 0);
    QCOMPARE(j["loadable"].toBool(), false);
    QJsonObject tok = j["tokenizer"].toObject();
    QCOMPARE(tok["model"].toString(), QString("gpt2"));
    QCOMPARE(tok["pre"].toString(), pre);
    QCOMPARE(tok["n_tokens"].toInt(), n_tokens);
    QCOMPARE(tok["bos"].toInt(), bos);
    QJsonObject tmpl = j["chat_template"].toObject();
    QCOMPARE(tmpl["present"].toBool(), true);
    QCOMPARE(tmpl["length"].toInt(), 2246);
    if (arch == "qwen2") {
      QJsonObject hp = j["hparams"].toObject();
      QCOMPARE(hp["block_count"].toInt(), 28);
      QCOMPARE(hp["embedding_length"].toInt(), 1536);
      QCOMPARE(hp["attention.head_count_kv"].toInt(), 2);
      // f16 K and V: 2 x 28 layers x 4096 positions x 2 KV heads x 128 x 2 bytes.
      QJsonObject mem = j["memory"].toObject();
      QCOMPARE(mem["default_ctx"].toInt(), 4096);
      QCOMPARE(mem["kv_bytes_default_ctx"].toDouble(), 2.0 * 28 * 4096 * 2 * 128 * 2);
      QCOMPARE(mem["n_ctx_train"].toInt(), 131072);
    }
  }

  void inspect_model() {
    Outcome o = cli({"inspect", wide_, "--json"});
    QVERIFY2(o.code == 0, o.err.constData());
    QJsonObject j = json_object(o.out);
    QCOMPARE(j["has_weights"].toBool(), true);
    QCOMPARE(j["loadable"].toBool(), true);
    QVERIFY(j["n_params"].toDouble() > 256.0 * 512 * 3 * 2);
    qint64 sum = 0;
    for (const QJsonValue& m : j["quant_mix"].toArray()) sum += m.toObject()["bytes"].toInteger();
    QCOMPARE(sum, j["weight_bytes"].toInteger());
    Outcome t = cli({"inspect", wide_});
    QCOMPARE(t.code, 0);
    QVERIFY(t.out.contains("loadable:      yes"));
  }

  // make-model writes general.file_type, so inspect (and the app) name the mix rather than the tensor type
  // that holds most bytes (Q4_K_M's matrices are mostly Q4_K).
  void make_model_writes_the_file_type() {
    QCOMPARE(json_object(cli({"inspect", wide_, "--json"}).out)["file_type"].toInt(-1), 0);  // F32
    const struct {
      const char* type;
      int file_type;
      const char* name;
    } cases[] = {{"Q4_K_M", 15, "Q4_K_M"}, {"Q8_0", 7, "Q8_0"}, {"Q4_K", 14, "Q4_K_S"}, {"F16", 1, "F16"}};
    for (const auto& c : cases) {
      const QString m = path(QStringLiteral("typed_%1.gguf").arg(c.type));
      Outcome mk = cli({"make-model", m, "--arch", "qwen2", "--n-embd", "256", "--n-ff", "512", "--n-head", "4",
                        "--n-head-kv", "2", "--n-layer", "1", "--type", c.type});
      QVERIFY2(mk.code == 0, mk.err.constData());
      QJsonObject j = json_object(cli({"inspect", m, "--json"}).out);
      QCOMPARE(j["file_type"].toInt(-1), c.file_type);
      QCOMPARE(j["file_type_name"].toString(), QString::fromLatin1(c.name));
      Outcome t = cli({"inspect", m});
      QCOMPARE(t.code, 0);
      const QByteArray line = QStringLiteral("file type:     %1 (general.file_type %2)").arg(c.name).arg(c.file_type).toUtf8();
      QVERIFY2(t.out.contains(line), t.out.constData());
    }
  }

  void tokenize_golden() {
    auto cases = golden_cases(QStringLiteral(PENSER_TEST_DATA_DIR "/tokenizer/r1-distill-qwen"));
    QCOMPARE(cases.size(), 46);
    // A spread of them (each is a process start): empty, whitespace, contractions, digits, CJK, the long one.
    for (int i : {0, 1, 2, 7, 13, 21, 30, 38, 45}) {
      Outcome o = cli({"tokenize", kQwenVocab, "--text", QString::fromUtf8(cases[i].first), "--json",
                       "--no-parse-special"});
      QVERIFY2(o.code == 0, o.err.constData());
      QJsonDocument d = QJsonDocument::fromJson(o.out);
      QVERIFY(d.isArray());
      QCOMPARE(json_ids(d.array()), cases[i].second);
    }
  }

  void tokenize_special_and_bos() {
    Outcome s = cli({"tokenize", kQwenVocab, "--text", "<｜User｜>hi", "--json"});
    QCOMPARE(s.code, 0);
    QList<int> special = json_ids(QJsonDocument::fromJson(s.out).array());
    QCOMPARE(special.size(), 2);
    QCOMPARE(special[0], 151644);
    Outcome n = cli({"tokenize", kQwenVocab, "--text", "<｜User｜>hi", "--json", "--no-parse-special"});
    QCOMPARE(n.code, 0);
    QList<int> plain = json_ids(QJsonDocument::fromJson(n.out).array());
    QVERIFY(plain.size() > 2);
    QVERIFY(!plain.contains(151644));
    Outcome b = cli({"tokenize", kQwenVocab, "--text", "hi", "--json", "--add-bos"});
    QCOMPARE(json_ids(QJsonDocument::fromJson(b.out).array()).value(0), 151646);
    Outcome t = cli({"tokenize", kQwenVocab, "--text", "Hello world"});
    QCOMPARE(t.code, 0);
    QVERIFY(t.out.contains("9707"));
    QVERIFY(t.out.contains("' world'"));
  }

  void run_greedy_is_deterministic() {
    QStringList args{"run", tiny_, "--tokens", "1,2,3", "--temp", "0", "-n", "12", "--json"};
    Outcome a = cli(args), b = cli(args);
    QVERIFY2(a.code == 0, a.err.constData());
    QCOMPARE(a.out, b.out);
    QJsonObject j = json_object(a.out);
    QCOMPARE(json_ids(j["prompt_tokens"]), (QList<int>{1, 2, 3}));
    QList<int> tokens = json_ids(j["tokens"]);
    QVERIFY(!tokens.isEmpty() && tokens.size() <= 12);
    QVERIFY(j["text"].isString());
    if (tokens.size() < 12) QCOMPARE(j["stop"].toString(), QString("eog"));
  }

  void run_sampling_follows_seed() {
    QStringList a{"run", tiny_, "--tokens", "5,6", "--temp", "1.5", "-n", "16", "--json", "--seed", "1"};
    QStringList b = a;
    b.last() = "2";
    Outcome a1 = cli(a), a2 = cli(a), b1 = cli(b);
    QVERIFY2(a1.code == 0, a1.err.constData());
    QCOMPARE(a1.out, a2.out);
    // Two seeds giving the same 16 tokens at temperature 1.5 on a random model: practically impossible.
    QVERIFY(a1.out != b1.out);
  }

  // The prompt `run` feeds without --raw: one user message through the model's chat template, as
  // `penser-cli template` renders it, plus "<think>\n" where a chat session appends it.
  QList<int> expected_chat_prompt(const QString& model, const QString& user, bool* warned) {
    QString conv = path("one-user.json");
    QFile f(conv);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) return {};
    QJsonArray messages{QJsonObject{{"role", "user"}, {"content", user}}};
    f.write(QJsonDocument(messages).toJson());
    f.close();
    Outcome t = cli({"template", model, "--messages", conv, "--json"});
    if (t.code != 0) return {};
    QJsonObject j = json_object(t.out);
    *warned = !j["warning"].toString().isEmpty();
    QString prompt = j["prompt"].toString();
    // Every family but Qwen3 starts the model inside its thought; the session appends it when missing.
    if (j["family"].toString() != "qwen3" && !prompt.endsWith("<think>\n")) prompt += "<think>\n";
    Outcome k = cli({"tokenize", model, "--text", prompt, "--json"});
    if (k.code != 0) return {};
    return json_ids(QJsonDocument::fromJson(k.out).array());
  }

  void run_prompt_uses_chat_template() {
    QString m = path("vocab.gguf");
    Outcome mk = cli({"make-model", m, "--vocab-from", kQwenVocab, "--type", "Q8_0", "--seed", "2"});
    QVERIFY2(mk.code == 0, mk.err.constData());
    const QString user = QString::fromUtf8("Hi, what is 2+2?\n<think> is literal here");
    bool warned = true;
    QList<int> expected = expected_chat_prompt(m, user, &warned);
    QVERIFY(!expected.isEmpty());
    QVERIFY(!warned);  // the R1-Distill-Qwen template is a known one
    Outcome o = cli({"run", m, "--prompt", user, "-n", "3", "--temp", "0", "--json"});
    QVERIFY2(o.code == 0, o.err.constData());
    QVERIFY2(!o.err.contains("warning"), o.err.constData());
    QList<int> p = json_ids(json_object(o.out)["prompt_tokens"]);
    QCOMPARE(p, expected);
    // <｜begin▁of▁sentence｜> <｜User｜> ... <｜Assistant｜> <think> \n
    QCOMPARE(p.value(0), 151646);
    QCOMPARE(p.value(1), 151644);
    QCOMPARE(p.value(p.size() - 3), 151645);
    QCOMPARE(p.value(p.size() - 2), 151648);
    QCOMPARE(p.value(p.size() - 1), 198);
    Outcome r = cli({"run", m, "--prompt", "Hi", "--raw", "-n", "1", "--temp", "0", "--json"});
    QCOMPARE(r.code, 0);
    QList<int> raw = json_ids(json_object(r.out)["prompt_tokens"]);
    QCOMPARE(raw.value(0), 151646);  // the vocabulary asks for BOS
    QVERIFY(!raw.contains(151644));
    // Plain mode streams text to stdout and the speed line to stderr.
    Outcome s = cli({"run", m, "--prompt", "Hi", "-n", "4", "--temp", "0"});
    QCOMPARE(s.code, 0);
    QVERIFY(s.err.contains("tok/s"));
  }

  void run_prompt_without_template_warns() {
    // The tiny model has no chat template: the generic format, and a warning on stderr (not in the JSON).
    bool warned = false;
    QList<int> expected = expected_chat_prompt(tiny_, "Hi", &warned);
    QVERIFY(!expected.isEmpty());
    QVERIFY(warned);
    Outcome o = cli({"run", tiny_, "--prompt", "Hi", "-n", "2", "--temp", "0", "--json"});
    QVERIFY2(o.code == 0, o.err.constData());
    QVERIFY2(o.err.contains("warning") && o.err.contains("chat template"), o.err.constData());
    QCOMPARE(json_ids(json_object(o.out)["prompt_tokens"]), expected);
  }

  void run_sampling_filters() {
    QStringList greedy{"run", tiny_, "--tokens", "5,6", "--temp", "0", "-n", "10", "--json"};
    Outcome g = cli(greedy);
    QVERIFY2(g.code == 0, g.err.constData());
    QList<int> greedy_tokens = json_ids(json_object(g.out)["tokens"]);
    // At a high temperature, keeping only the best token (top-k 1, or a tiny nucleus) is greedy again.
    for (QStringList filter : {QStringList{"--top-k", "1"}, QStringList{"--top-p", "0.000001"}}) {
      Outcome o = cli(QStringList{"run", tiny_, "--tokens", "5,6", "--temp", "5", "-n", "10", "--json", "--seed", "4"} + filter);
      QVERIFY2(o.code == 0, o.err.constData());
      QCOMPARE(json_ids(json_object(o.out)["tokens"]), greedy_tokens);
    }
    // All three filters together, seeded: reproducible.
    QStringList a{"run", tiny_, "--tokens", "5,6", "--temp", "1.2", "-n", "16", "--json",
                  "--top-p", "0.9", "--top-k", "40", "--min-p", "0.02", "--seed", "9"};
    Outcome a1 = cli(a), a2 = cli(a);
    QVERIFY2(a1.code == 0, a1.err.constData());
    QCOMPARE(a1.out, a2.out);
  }

  void logits_file() {
    QString out = path("logits.bin");
    Outcome o = cli({"logits", tiny_, "--tokens", "1,2,3", "--out", out});
    QVERIFY2(o.code == 0, o.err.constData());
    QFile f(out);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QByteArray bytes = f.readAll();
    QCOMPARE(bytes.size(), qsizetype(tiny_vocab_) * 4);
    // The greedy token of `run` is the argmax of these logits.
    std::vector<float> v(static_cast<size_t>(tiny_vocab_));
    std::memcpy(v.data(), bytes.constData(), size_t(bytes.size()));
    int best = 0;
    for (int i = 0; i < tiny_vocab_; ++i) {
      QVERIFY(std::isfinite(v[size_t(i)]));
      if (v[size_t(i)] > v[size_t(best)]) best = i;
    }
    Outcome r = cli({"run", tiny_, "--tokens", "1,2,3", "--temp", "0", "-n", "1", "--json"});
    QCOMPARE(json_ids(json_object(r.out)["tokens"]).value(0), best);
  }

  void quantize_then_run_data() {
    QTest::addColumn<QString>("type");
    QTest::addColumn<QStringList>("expect");  // types the quant mix must show
    for (const char* t : {"Q8_0", "Q4_0", "Q4_K", "Q6_K", "F16", "BF16", "F32", "Q5_K", "IQ4_XS"}) {
      QTest::newRow(t) << QString(t) << QStringList{t};
    }
    QTest::newRow("Q4_K_M") << QString("Q4_K_M") << QStringList{"Q4_K", "Q6_K"};
  }
  void quantize_then_run() {
    QFETCH(QString, type);
    QFETCH(QStringList, expect);
    QString out = path("wide-" + type + ".gguf");
    Outcome q = cli({"quantize", wide_, out, type});
    QVERIFY2(q.code == 0, q.err.constData());
    Outcome i = cli({"inspect", out, "--json"});
    QCOMPARE(i.code, 0);
    QJsonObject j = json_object(i.out);
    QCOMPARE(j["loadable"].toBool(), true);
    QStringList seen;
    for (const QJsonValue& m : j["quant_mix"].toArray()) seen << m.toObject()["type"].toString();
    for (const QString& e : expect) QVERIFY2(seen.contains(e), qPrintable(seen.join(',')));
    QVERIFY(seen.contains("F32"));  // norms and biases stay F32
    Outcome r = cli({"run", out, "--tokens", "1,2,3", "--temp", "0", "-n", "4", "--json"});
    QVERIFY2(r.code == 0, r.err.constData());
    QVERIFY(!json_ids(json_object(r.out)["tokens"]).isEmpty());
  }

  void quantize_falls_back_for_short_rows() {
    // The tiny model's rows are 64 long: no K type fits, so Q4_K becomes Q5_0 and says so.
    QString out = path("tiny-q4k.gguf");
    Outcome q = cli({"quantize", tiny_, out, "Q4_K"});
    QVERIFY2(q.code == 0, q.err.constData());
    QVERIFY(q.err.contains("not a multiple of"));
    Outcome i = cli({"inspect", out, "--json"});
    QStringList seen;
    for (const QJsonValue& m : json_object(i.out)["quant_mix"].toArray()) seen << m.toObject()["type"].toString();
    QVERIFY2(seen.contains("Q5_0") && !seen.contains("Q4_K"), qPrintable(seen.join(',')));
  }

  void bench_json_fields() {
    Outcome o = cli({"bench", tiny_, "-p", "16", "-n", "8", "-r", "2", "--threads", "1", "--json"});
    QVERIFY2(o.code == 0, o.err.constData());
    QJsonObject j = json_object(o.out);
    QVERIFY(j["load_s"].toDouble() > 0);
    for (const char* k : {"prefill_tok_s", "decode_tok_s"}) {
      QJsonObject s = j[k].toObject();
      QVERIFY2(s["mean"].toDouble() > 0, k);
      QVERIFY(s.contains("stddev"));
      QCOMPARE(s["samples"].toArray().size(), 2);
    }
    QCOMPARE(j["n_prompt"].toInt(), 16);
    QCOMPARE(j["n_gen"].toInt(), 8);
    QVERIFY(j["peak_rss_bytes"].toDouble() > 1e6);
    QVERIFY(!j["machine"].toObject()["cpu"].toString().isEmpty());
    QVERIFY(j["backend"].toString().startsWith("cpu"));
    Outcome t = cli({"bench", tiny_, "-p", "8", "-n", "4"});
    QCOMPARE(t.code, 0);
    QVERIFY(t.out.contains("decode:"));
  }

  void errors_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("message");  // part of what stderr must say
    const QString missing = "/nonexistent/model.gguf";
    QTest::newRow("inspect missing") << QStringList{"inspect", missing} << "no such file";
    QTest::newRow("run missing") << QStringList{"run", missing, "--tokens", "1"} << "no such file";
    QTest::newRow("bench missing") << QStringList{"bench", missing} << "no such file";
    QTest::newRow("tokenize missing") << QStringList{"tokenize", missing, "--text", "x"} << "no such file";
    QTest::newRow("inspect not gguf") << QStringList{"inspect", QStringLiteral(PENSER_TEST_DATA_DIR "/README.md")} << "";
    QTest::newRow("run vocab only") << QStringList{"run", kQwenVocab, "--tokens", "1"} << "";
    QTest::newRow("token out of range") << QStringList{"run", "@tiny", "--tokens", "1,99999999"} << "out of range";
    QTest::newRow("token not a number") << QStringList{"logits", "@tiny", "--tokens", "1,x", "--out", "@out"} << "not a token id";
    QTest::newRow("negative token") << QStringList{"run", "@tiny", "--tokens", "-1"} << "out of range";
    QTest::newRow("prompt and tokens") << QStringList{"run", "@tiny", "--tokens", "1", "--prompt", "x"} << "";
    QTest::newRow("neither prompt nor tokens") << QStringList{"run", "@tiny"} << "--prompt";
    QTest::newRow("bad temp") << QStringList{"run", "@tiny", "--tokens", "1", "--temp", "hot"} << "temp";
    QTest::newRow("bad top-p") << QStringList{"run", "@tiny", "--tokens", "1", "--top-p", "1.5"} << "top-p";
    QTest::newRow("bad -p") << QStringList{"bench", "@tiny", "-p", "-5"} << "";
    QTest::newRow("bad backend") << QStringList{"bench", "@tiny", "--backend", "tpu"} << "backend";
    QTest::newRow("bad quant type") << QStringList{"quantize", "@tiny", "@out", "Q9_9"} << "Q9_9";
    QTest::newRow("quantize onto itself") << QStringList{"quantize", "@tiny", "@tiny", "Q8_0"} << "overwrite";
    QTest::newRow("bad arch") << QStringList{"make-model", "@out", "--arch", "gpt9"} << "arch";
    QTest::newRow("bad heads") << QStringList{"make-model", "@out", "--n-head", "5", "--n-head-kv", "2"} << "--n-head";
    QTest::newRow("no command") << QStringList{} << "";
    QTest::newRow("unknown command") << QStringList{"fly"} << "";
  }
  void errors() {
    QFETCH(QStringList, args);
    QFETCH(QString, message);
    for (QString& a : args) {
      if (a == "@tiny") a = tiny_;
      if (a == "@out") a = path("error-out.bin");
    }
    Outcome o = cli(args);
    QVERIFY2(!o.crashed, o.err.constData());
    QVERIFY2(o.code != 0, o.out.constData());
    QVERIFY(!o.err.trimmed().isEmpty());
    QVERIFY2(o.err.contains(message.toUtf8()), o.err.constData());
    QVERIFY2(!o.err.contains("terminate called") && !o.err.contains("internal error"), o.err.constData());
    QVERIFY(QFile::exists(tiny_));  // a failed quantize onto the input left it alone
  }
};

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"

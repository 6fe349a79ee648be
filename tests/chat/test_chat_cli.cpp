// penser-cli template and chat, run as the real binary on a vocabulary file and a tiny generated model.
#include "inference/gguf/gguf.h"
#include "inference/model/synth.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <fstream>

using namespace penser;

namespace {

const QString kCli = QStringLiteral(PENSER_BINARY_DIR "/app/cli/penser-cli");
const QString kVocab = QStringLiteral(PENSER_TEST_DATA_DIR "/tokenizer/r1-distill-qwen.vocab.gguf");

struct Run {
  int code = -1;
  QByteArray out, err;
};

Run run(const QStringList& args, const QByteArray& input = {}) {
  QProcess p;
  p.start(kCli, args);
  Run r;
  if (!p.waitForStarted(10000)) return r;
  if (!input.isEmpty()) p.write(input);
  p.closeWriteChannel();
  p.waitForFinished(120000);
  r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  r.out = p.readAllStandardOutput();
  r.err = p.readAllStandardError();
  return r;
}

}  // namespace

class TestChatCli : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  QString model_;

  QString write(const QString& name, const std::string& text) {
    QString path = dir_.filePath(name);
    std::ofstream(path.toStdString(), std::ios::binary) << text;
    return path;
  }

 private slots:
  void initTestCase() {
    QVERIFY(QFileInfo::exists(kCli));
    auto vocab = gguf::File::open(kVocab.toStdString());
    QVERIFY(vocab);
    model::SynthSpec s;
    s.n_embd = 64;
    s.n_layer = 2;
    s.n_head = 4;
    s.n_head_kv = 2;
    s.n_ff = 128;
    s.type = quant::Type::Q8_0;
    s.tie_embeddings = true;
    s.vocab_source = vocab->get();
    s.n_threads = 2;
    model_ = dir_.filePath("tiny.gguf");
    QVERIFY(model::write_synth_model(s, model_.toStdString()));
  }

  void template_prints_the_prompt() {
    QString conv = write("conv.json", R"([{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"},
      {"role":"assistant","content":"<think>\nhm\n</think>\n\nHello!"},{"role":"user","content":"2+2?"}])");
    Run r = run({"template", kVocab, "--messages", conv});
    QCOMPARE(r.code, 0);
    QCOMPARE(QString::fromUtf8(r.out),
             QString::fromUtf8("<｜begin▁of▁sentence｜>Be brief.<｜User｜>Hi<｜Assistant｜>\n\nHello!<｜end▁of▁sentence｜>"
                               "<｜User｜>2+2?<｜Assistant｜><think>\n"));
    QVERIFY(r.err.isEmpty());

    Run j = run({"template", kVocab, "--messages", conv, "--json"});
    QCOMPARE(j.code, 0);
    auto doc = nlohmann::json::parse(j.out.toStdString());
    QCOMPARE(doc["family"].get<std::string>(), std::string("deepseek-r1-distill"));
    QVERIFY(doc["exact"].get<bool>());
    QCOMPARE(QString::fromStdString(doc["prompt"].get<std::string>()), QString::fromUtf8(r.out));
    QVERIFY(doc["tokens"].size() > 10);
    QCOMPARE(doc["tokens"][0].get<int>(), 151646);  // BOS

    Run no_gen = run({"template", kVocab, "--messages", conv, "--no-generation-prompt"});
    QVERIFY(QString::fromUtf8(no_gen.out).endsWith(QString::fromUtf8("<｜User｜>2+2?")));
  }

  void template_reports_bad_input() {
    Run bad = run({"template", kVocab, "--messages", write("bad.json", "{not json")});
    QCOMPARE(bad.code, 1);
    QVERIFY(bad.err.contains("not valid JSON"));
    Run role = run({"template", kVocab, "--messages", write("role.json", R"([{"role":"tool","content":"x"}])")});
    QCOMPARE(role.code, 1);
    QVERIFY(role.err.contains("role"));
    Run missing = run({"template", dir_.filePath("nope.gguf"), "--messages", write("ok.json", "[]")});
    QCOMPARE(missing.code, 1);
    QVERIFY(missing.err.contains("no such file"));
  }

  void chat_answers_a_conversation_file() {
    QString conv = write("q.json", R"([{"role":"user","content":"What is 2+2?"}])");
    QStringList args = {"chat", model_, "--messages", conv, "--temp", "0", "--max-tokens", "6", "--json",
                        "--threads", "2", "--ctx", "256"};
    Run r = run(args);
    QVERIFY2(r.code == 0, r.err.constData());
    auto j = nlohmann::json::parse(r.out.toStdString());
    QCOMPARE(j["finish_reason"].get<std::string>(), std::string("length"));
    QCOMPARE(j["stats"]["generated_tokens"].get<int>(), 6);
    QCOMPARE(j["stats"]["prompt_tokens"].get<int>(), 12);  // BOS <｜User｜> What· is· ·2+2? <｜Assistant｜> <think> \n
    QVERIFY(j["stats"]["time_to_first_token_ms"].get<double>() > 0);
    QVERIFY(!j["thinking"].get<std::string>().empty());
    // Greedy is reproducible; so is sampling with a seed.
    auto again = nlohmann::json::parse(run(args).out.toStdString());
    QCOMPARE(again["thinking"], j["thinking"]);
    QCOMPARE(again["answer"], j["answer"]);
    QStringList seeded = {"chat", model_, "--messages", conv, "--seed", "7", "--max-tokens", "8", "--json",
                          "--ctx", "256"};
    auto a = nlohmann::json::parse(run(seeded).out.toStdString());
    auto b = nlohmann::json::parse(run(seeded).out.toStdString());
    QCOMPARE(a["thinking"], b["thinking"]);
    QCOMPARE(a["answer"], b["answer"]);

    // The thinking budget.
    Run budget = run({"chat", model_, "--messages", conv, "--temp", "0", "--max-tokens", "6", "--json",
                      "--thinking-budget", "2", "--ctx", "256"});
    auto jb = nlohmann::json::parse(budget.out.toStdString());
    QCOMPARE(jb["stats"]["thinking_tokens"].get<int>(), 2);
    QCOMPARE(jb["stats"]["answer_tokens"].get<int>(), 4);
    QVERIFY(!jb["stats"]["thought_unclosed"].get<bool>());

    // Not ending with a user message is an error, reported in the JSON and the exit code.
    Run bad = run({"chat", model_, "--messages", write("a.json", R"([{"role":"assistant","content":"x"}])"),
                   "--json", "--ctx", "256"});
    QCOMPARE(bad.code, 1);
    auto jbad = nlohmann::json::parse(bad.out.toStdString());
    QCOMPARE(jbad["finish_reason"].get<std::string>(), std::string("error"));
    QVERIFY(!jbad["error"].get<std::string>().empty());
  }

  void chat_streams_in_plain_mode() {
    QString conv = write("q2.json", R"([{"role":"user","content":"Hi"}])");
    Run r = run({"chat", model_, "--messages", conv, "--temp", "0", "--max-tokens", "4", "--ctx", "256"});
    QCOMPARE(r.code, 0);
    QVERIFY(r.out.startsWith("<think>\n"));  // not a terminal: no colour codes
    QVERIFY(!r.out.contains("\x1b["));
    QVERIFY(r.err.contains("[stopped: length]"));
  }

  void interactive_session() {
    QByteArray input = "Hello\n/stats\n/think off\nAgain\n/regen\n/reset\n/bogus\n/exit\n";
    Run r = run({"chat", model_, "--temp", "0", "--max-tokens", "4", "--ctx", "256"}, input);
    QVERIFY2(r.code == 0, r.err.constData());
    const QString out = QString::fromUtf8(r.out);
    QVERIFY(out.contains("<think>\n"));
    QVERIFY(out.contains("prompt 6 tokens (0 reused)"));
    QVERIFY(out.contains("[thinking hidden]"));
    QVERIFY(out.contains("[conversation cleared]"));
    QVERIFY(out.contains("[unknown command /bogus"));
    QCOMPARE(out.count("<think>\n"), 1);  // hidden after /think off
    QCOMPARE(r.err.count("[stopped: length]"), 3);  // Hello, Again, /regen
  }
};

QTEST_GUILESS_MAIN(TestChatCli)
#include "test_chat_cli.moc"

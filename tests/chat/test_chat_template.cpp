// The chat templates rendered in C++ equal, byte for byte, what jinja2 renders from the published template
// files (tests/chat/render_jinja.py runs them as Hugging Face transformers does).
#include "inference/chat/template.h"
#include "inference/gguf/gguf.h"
#include "inference/tokenizer/tokenizer.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

using namespace penser;
using chat::Message;

namespace {

std::string data(const std::string& rel) { return std::string(PENSER_TEST_DATA_DIR) + "/" + rel; }

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The corpus: every case Penser's own conversations can produce, and the awkward ones.
std::vector<std::vector<Message>> corpus() {
  const std::string think_answer = "<think>\nFirst I add 2 and 2.\n</think>\n\nThe answer is 4.";
  return {
      {{"user", "Hello"}},
      {{"system", "You are terse."}, {"user", "What is 2+2?"}},
      {{"user", "What is 2+2?"}, {"assistant", think_answer}, {"user", "And 3+3?"}},
      {{"system", "Be kind."}, {"user", "a"}, {"assistant", "b"}, {"user", "c"}, {"assistant", "d"}, {"user", "e"}},
      // An assistant turn with its thought, with two </think>, with only a thought, with an unopened one.
      {{"user", "q"}, {"assistant", "<think>x</think>y</think>z"}, {"user", "q2"}},
      {{"user", "q"}, {"assistant", "reasoning without opening tag\n</think>\n\nanswer\n"}, {"user", "q2"}},
      {{"user", "q"}, {"assistant", "<think>\n\n</think>\n\n"}, {"user", "q2"}},
      {{"user", "q"}, {"assistant", "</think>"}, {"user", "q2"}},
      {{"user", "q"}, {"assistant", "<think>\nonly a thought, never closed"}, {"user", "q2"}},
      // Unicode: CJK, emoji with ZWJ, right-to-left, combining marks, the special-token text itself.
      {{"system", "Réponds en français. 日本語も可。"},
       {"user", "👩‍👩‍👧 مرحبا e\xCC\x81 \xE2\x80\x8B"},
       {"assistant", "<think>\n思考中…\n</think>\n\n答案是 ✓"},
       {"user", "<｜User｜> and <｜Assistant｜> and <｜end▁of▁sentence｜> typed by a user"}},
      // Empty messages.
      {{"system", ""}, {"user", ""}},
      {{"user", ""}, {"assistant", ""}, {"user", ""}},
      // Several system messages, one in the middle.
      {{"system", "first"}, {"user", "u1"}, {"system", "second"}, {"user", "u2"}},
      {{"user", "u1"}, {"system", "late system"}, {"user", "u2"}},
      // Whitespace at the edges, Jinja syntax inside content.
      {{"user", "\n\n  padded  \n\n"}, {"assistant", "\n\n<think>\n\n\nt\n\n</think>\n\n\nans\n\n"}, {"user", " "}},
      {{"user", "{{ bos_token }} {% if true %}x{% endif %} {# c #}"}},
      // The conversation ends with the assistant (a continued reply), and with assistant turns after the last
      // user query (Qwen3 keeps their thoughts), and a user text that looks like a tool response.
      {{"user", "q"}, {"assistant", "<think>\nt\n</think>\n\npartial"}},
      {{"user", "q"}, {"assistant", "<think>\nt1\n</think>\n\na1"}, {"assistant", "<think>\nt2\n</think>\n\na2"}},
      {{"user", "q"}, {"assistant", "no thought"}, {"assistant", "<think>t</think>a"}},
      {{"user", "q"}, {"assistant", "a"}, {"user", "<tool_response>\nresult\n</tool_response>"}},
      {{"user", "<tool_response>x</tool_response>"}, {"assistant", "<think>\nt\n</think>\n\na"}, {"user", "u"}},
      // Only a system message; no messages at all.
      {{"system", "alone"}},
      {},
  };
}

struct Rendered {
  bool ok;
  std::string text;
};

std::vector<Rendered> render_with_jinja(const std::string& template_path, const chat::RenderOptions& o,
                                        const std::vector<std::vector<Message>>& conversations) {
  QTemporaryDir dir;
  nlohmann::json in;
  in["template"] = template_path;
  in["bos_token"] = o.bos_token;
  in["eos_token"] = o.eos_token;
  in["conversations"] = nlohmann::json::array();
  for (const auto& conv : conversations) {
    nlohmann::json list = nlohmann::json::array();
    for (const Message& m : conv) list.push_back({{"role", m.role}, {"content", m.content}});
    in["conversations"].push_back(list);
  }
  const std::string in_path = dir.filePath("in.json").toStdString();
  const std::string out_path = dir.filePath("out.json").toStdString();
  std::ofstream(in_path, std::ios::binary) << in.dump();
  QProcess py;
  py.start(PENSER_PYTHON3, {QStringLiteral(PENSER_TEST_SOURCE_DIR "/render_jinja.py"),
                            QString::fromStdString(in_path), QString::fromStdString(out_path)});
  if (!py.waitForFinished(60000) || py.exitCode() != 0) {
    qWarning("render_jinja.py failed: %s", py.readAllStandardError().constData());
    return {};
  }
  std::vector<Rendered> out;
  for (const auto& r : nlohmann::json::parse(read_file(out_path))) {
    out.push_back({r["ok"].get<bool>(), r["ok"].get<bool>() ? r["text"].get<std::string>() : std::string()});
  }
  return out;
}

}  // namespace

class TestChatTemplate : public QObject {
  Q_OBJECT

 private slots:
  void equals_jinja_data() {
    QTest::addColumn<QString>("template_file");
    QTest::addColumn<QString>("vocab_file");
    QTest::addColumn<int>("family");
    QTest::newRow("r1-distill-qwen") << "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja"
                                     << "r1-distill-qwen.vocab.gguf" << int(chat::TemplateFamily::R1Distill);
    QTest::newRow("r1-distill-llama") << "deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja" << "llama3.vocab.gguf"
                                      << int(chat::TemplateFamily::R1Distill);
    QTest::newRow("r1-0528-qwen3") << "deepseek-ai-DeepSeek-R1-0528-Qwen3-8B.jinja" << "r1-distill-qwen.vocab.gguf"
                                   << int(chat::TemplateFamily::R1_0528);
    QTest::newRow("qwen3") << "Qwen-Qwen3-0.6B.jinja" << "r1-distill-qwen.vocab.gguf"
                           << int(chat::TemplateFamily::Qwen3);
  }

  void equals_jinja() {
    QFETCH(QString, template_file);
    QFETCH(QString, vocab_file);
    QFETCH(int, family);
    const std::string path = data("templates/" + template_file.toStdString());
    const std::string text = read_file(path);
    QVERIFY(!text.empty());
    chat::ChatTemplate t = chat::ChatTemplate::detect(&text);
    QCOMPARE(int(t.family()), family);
    QVERIFY(t.exact());
    QVERIFY(t.warning().empty());

    auto file = gguf::File::open(data("tokenizer/" + vocab_file.toStdString()));
    QVERIFY2(file, file ? "" : file.error().message.c_str());
    auto vocab = tokenizer::Vocab::from_gguf(**file);
    QVERIFY2(vocab, vocab ? "" : vocab.error().message.c_str());
    const chat::RenderOptions o = chat::render_options_for(**vocab);
    QVERIFY(!o.bos_token.empty());

    const auto conversations = corpus();
    const std::vector<Rendered> expected = render_with_jinja(path, o, conversations);
    QCOMPARE(expected.size(), conversations.size());
    int compared = 0;
    for (size_t i = 0; i < conversations.size(); ++i) {
      Result<std::string> got = t.render(conversations[i], o);
      QVERIFY2(got.has_value() == expected[i].ok,
               qPrintable(QString("case %1: C++ %2, jinja %3").arg(i).arg(got ? "rendered" : "failed")
                              .arg(expected[i].ok ? "rendered" : "failed")));
      if (!got) continue;
      if (*got != expected[i].text) {
        qWarning("case %zu\n  C++:   %s\n  jinja: %s", i, nlohmann::json(*got).dump().c_str(),
                 nlohmann::json(expected[i].text).dump().c_str());
      }
      QVERIFY2(*got == expected[i].text, qPrintable(QString("case %1 differs").arg(i)));
      ++compared;
    }
    QVERIFY(compared >= int(conversations.size()) - 1);
  }

  // The vocabulary files carry the R1-Distill template: recognised exactly from the GGUF.
  void detects_template_in_gguf() {
    auto file = gguf::File::open(data("tokenizer/r1-distill-qwen.vocab.gguf"));
    QVERIFY(file);
    const std::string* text = (*file)->get_string("tokenizer.chat_template");
    QVERIFY(text);
    chat::ChatTemplate t = chat::ChatTemplate::detect(text);
    QCOMPARE(t.family(), chat::TemplateFamily::R1Distill);
    QVERIFY(t.exact());
    QVERIFY(t.starts_thinking());
  }

  void unknown_templates_warn() {
    chat::ChatTemplate none = chat::ChatTemplate::detect(nullptr);
    QCOMPARE(none.family(), chat::TemplateFamily::Generic);
    QVERIFY(!none.warning().empty());

    const std::string chatml = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n"
                               "{% endfor %}";
    chat::ChatTemplate unknown = chat::ChatTemplate::detect(&chatml);
    QCOMPARE(unknown.family(), chat::TemplateFamily::Generic);
    QVERIFY(!unknown.exact());
    QVERIFY(unknown.warning().find("not one Penser knows") != std::string::npos);
    // The generic format is the R1-Distill one.
    chat::RenderOptions o{"<B>", "<E>", true};
    auto text = unknown.render({{"system", "S"}, {"user", "hi"}}, o);
    QVERIFY(text);
    QCOMPARE(QString::fromStdString(*text), QString::fromUtf8("<B>S<｜User｜>hi<｜Assistant｜><think>\n"));

    // A variant of a known template (one character changed): the family is kept, with a warning.
    std::string variant = read_file(data("templates/deepseek-ai-DeepSeek-R1-0528-Qwen3-8B.jinja"));
    variant += " ";
    chat::ChatTemplate v = chat::ChatTemplate::detect(&variant);
    QCOMPARE(v.family(), chat::TemplateFamily::R1_0528);
    QVERIFY(!v.exact());
    QVERIFY(!v.warning().empty());
    // A trailing newline is not a difference (Jinja drops it).
    std::string with_newline = read_file(data("templates/Qwen-Qwen3-0.6B.jinja")) + "\n";
    QVERIFY(chat::ChatTemplate::detect(&with_newline).exact());
  }

  void rejects_unsupported_roles() {
    chat::ChatTemplate t = chat::ChatTemplate::of_family(chat::TemplateFamily::R1Distill);
    auto r = t.render({{"user", "a"}, {"tool", "b"}}, {});
    QVERIFY(!r);
    QVERIFY(r.error().message.find("tool") != std::string::npos);
  }
};

QTEST_GUILESS_MAIN(TestChatTemplate)
#include "test_chat_template.moc"

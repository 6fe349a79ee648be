// The think/answer splitter gives the same thinking and answer however the text is cut into pieces.
#include "inference/chat/splitter.h"

#include <QtTest>

#include <random>

using penser::chat::SplitDelta;
using penser::chat::ThinkSplitter;

namespace {

struct Outcome {
  std::string thinking, answer;
  bool unclosed = false;
  bool closed = false;
};

Outcome run(bool starts_in_thinking, const std::vector<std::string>& pieces) {
  ThinkSplitter s(starts_in_thinking);
  Outcome o;
  for (const std::string& p : pieces) {
    SplitDelta d = s.push(p);
    o.thinking += d.thinking;
    o.answer += d.answer;
  }
  SplitDelta d = s.finish();
  o.thinking += d.thinking;
  o.answer += d.answer;
  o.unclosed = s.thought_unclosed();
  o.closed = s.thought_closed();
  return o;
}

// Every way of cutting `text` in two and three pieces, each byte alone, and random cuts.
std::vector<std::vector<std::string>> cuttings(const std::string& text) {
  std::vector<std::vector<std::string>> out;
  out.push_back({text});
  std::vector<std::string> bytes;
  for (char c : text) bytes.emplace_back(1, c);
  out.push_back(bytes);
  for (size_t i = 0; i <= text.size(); ++i) {
    out.push_back({text.substr(0, i), text.substr(i)});
    for (size_t j = i; j <= text.size() && text.size() < 40; ++j)
      out.push_back({text.substr(0, i), text.substr(i, j - i), text.substr(j)});
  }
  std::mt19937 rng(7);
  for (int k = 0; k < 50; ++k) {
    std::vector<std::string> pieces;
    size_t at = 0;
    while (at < text.size()) {
      size_t n = std::uniform_int_distribution<size_t>(0, 5)(rng);
      pieces.push_back(text.substr(at, n));
      at += n;
    }
    out.push_back(pieces);
  }
  return out;
}

}  // namespace

class TestChatSplitter : public QObject {
  Q_OBJECT

 private slots:
  void splits_data() {
    QTest::addColumn<bool>("starts_in_thinking");
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("thinking");
    QTest::addColumn<QString>("answer");
    QTest::addColumn<bool>("unclosed");
    QTest::newRow("r1") << true << "Let me think.\n</think>\n\nThe answer." << "Let me think." << "The answer." << false;
    QTest::newRow("model writes <think>") << true << "<think>\nHmm.\n</think>\n\nA" << "Hmm." << "A" << false;
    QTest::newRow("empty thought") << true << "\n\n</think>\n\nA" << "" << "A" << false;
    QTest::newRow("qwen3 empty thought") << false << "<think>\n\n</think>\n\nA" << "" << "A" << false;
    QTest::newRow("qwen3 thought") << false << "<think>\nx y\n</think>\n\nA b" << "x y" << "A b" << false;
    QTest::newRow("eos before </think>") << true << "I am still thinking\n" << "I am still thinking" << ""
                                         << true;
    QTest::newRow("no thought at all") << false << "Hello there" << "" << "Hello there" << false;
    QTest::newRow("answer starts like a tag") << false << "<thi" << "" << "<thi" << false;
    QTest::newRow("answer with other tag") << false << "<b>bold</b>" << "" << "<b>bold</b>" << false;
    QTest::newRow("unclosed partial tag") << true << "abc </thi" << "abc </thi" << "" << true;
    QTest::newRow("less-than in thought") << true << "a < b </think>ok" << "a < b" << "ok" << false;
    QTest::newRow("other closing tag") << true << "x </div> y</think>z" << "x </div> y" << "z" << false;
    QTest::newRow("second </think> is answer") << true << "t</think>a</think>b" << "t" << "a</think>b" << false;
    QTest::newRow("inner whitespace kept") << true << "a\n\n b\n</think>\n\nc\n\nd\n" << "a\n\n b" << "c\n\nd\n"
                                           << false;
    QTest::newRow("unicode") << true << "思考 👩‍👩‍👧\n</think>\n\n答案 ✓" << "思考 👩‍👩‍👧" << "答案 ✓" << false;
    QTest::newRow("budget close") << true << "long thought\n</think>\n\nanswer" << "long thought" << "answer"
                                  << false;
    QTest::newRow("empty stream thinking") << true << "" << "" << "" << true;
    QTest::newRow("empty stream") << false << "" << "" << "" << false;
    QTest::newRow("second <think> kept") << true << "<think><think>x</think>y" << "<think>x" << "y" << false;
  }

  void splits() {
    QFETCH(bool, starts_in_thinking);
    QFETCH(QString, text);
    QFETCH(QString, thinking);
    QFETCH(QString, answer);
    QFETCH(bool, unclosed);
    const std::string t = text.toStdString();
    int n = 0;
    for (const auto& pieces : cuttings(t)) {
      Outcome o = run(starts_in_thinking, pieces);
      QCOMPARE(QString::fromStdString(o.thinking), thinking);
      QCOMPARE(QString::fromStdString(o.answer), answer);
      QCOMPARE(o.unclosed, unclosed);
      ++n;
    }
    QVERIFY(n > 3);
  }

  // Deltas come out as soon as they are certain: text is not held until the end.
  void streams_without_waiting() {
    ThinkSplitter s(true);
    SplitDelta d = s.push("Thinking about it");
    QCOMPARE(QString::fromStdString(d.thinking), QString("Thinking about it"));
    d = s.push(" now </th");  // the space and the partial tag are held
    QCOMPARE(QString::fromStdString(d.thinking), QString(" now"));
    QVERIFY(s.in_thinking());
    d = s.push("ink>\n\nYes");
    QCOMPARE(QString::fromStdString(d.thinking), QString());
    QCOMPARE(QString::fromStdString(d.answer), QString("Yes"));
    QVERIFY(s.thought_closed());
    QVERIFY(!s.in_thinking());
  }
};

QTEST_GUILESS_MAIN(TestChatSplitter)
#include "test_chat_splitter.moc"

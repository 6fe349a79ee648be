// Each export format against a golden file (regenerate with PENSER_UPDATE_GOLDEN=1 and review the diff),
// HTML escaping, thinking left out on request, and a PDF read back with pdftotext.
#include "app/core/export.h"
#include "tests/test_support.h"
#include "sample.h"

#include <QFile>
#include <QGuiApplication>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace penser::app;

namespace {

const qint64 kExportedAt = 1764417600000;  // pinned so that the JSON golden file is stable

QList<ConversationRecord> both() { return {penser::test::sample_conversation(), penser::test::second_conversation()}; }

QByteArray exported(ExportFormat format, bool thinking = true, const QList<ConversationRecord>& records = both()) {
  ExportOptions options;
  options.include_thinking = thinking;
  options.exported_at = kExportedAt;
  auto bytes = export_records(records, format, options);
  if (!bytes) qWarning("%s", bytes.error().message.c_str());
  return bytes ? *bytes : QByteArray();
}

}  // namespace

class TestExport : public QObject {
  Q_OBJECT
 private:
  void compare_golden(const QByteArray& actual, const QString& name) {
    const QString path = QStringLiteral(PENSER_TEST_SOURCE_DIR "/golden/") + name;
    if (qEnvironmentVariableIsSet("PENSER_UPDATE_GOLDEN")) {
      QFile out(path);
      QVERIFY(out.open(QIODevice::WriteOnly));
      out.write(actual);
    }
    QFile f(path);
    QVERIFY2(f.open(QIODevice::ReadOnly), qPrintable(path + " is missing: run with PENSER_UPDATE_GOLDEN=1"));
    const QByteArray expected = f.readAll();
    if (actual != expected) {
      const QString actual_path = QStringLiteral(PENSER_BINARY_DIR "/") + name + QStringLiteral(".actual");
      QFile out(actual_path);
      if (out.open(QIODevice::WriteOnly)) out.write(actual);
      QFAIL(qPrintable(name + " differs from its golden file; the output is in " + actual_path));
    }
  }

 private slots:
  void goldenFiles_data() {
    QTest::addColumn<int>("format");
    QTest::addColumn<bool>("thinking");
    QTest::addColumn<QString>("golden");
    QTest::newRow("md") << int(ExportFormat::Markdown) << true << "conversations.md";
    QTest::newRow("md-no-thinking") << int(ExportFormat::Markdown) << false << "conversations-no-thinking.md";
    QTest::newRow("txt") << int(ExportFormat::Text) << true << "conversations.txt";
    QTest::newRow("html") << int(ExportFormat::Html) << true << "conversations.html";
    QTest::newRow("json") << int(ExportFormat::Json) << true << "conversations.json";
  }

  void goldenFiles() {
    QFETCH(int, format);
    QFETCH(bool, thinking);
    QFETCH(QString, golden);
    compare_golden(exported(static_cast<ExportFormat>(format), thinking), golden);
  }

  void markdownShowsTheBranchAndCollapsesThinking() {
    const QString md = QString::fromUtf8(exported(ExportFormat::Markdown));
    // The branch shown: the regenerated answer, not the first one.
    QVERIFY(md.contains("xs.reverse()"));
    QVERIFY(!md.contains("returns a new list"));
    QVERIFY(md.contains("## Assistant (version 2 of 2)"));
    QVERIFY(md.contains("<details>\n<summary>Thinking (3.2 s)</summary>"));
    QVERIFY(md.contains("*Interrupted*"));
    const QString plain = QString::fromUtf8(exported(ExportFormat::Markdown, false));
    QVERIFY(!plain.contains("<details>"));
    QVERIFY(!plain.contains("in place versus a copy"));
    QVERIFY(plain.contains("xs.reverse()"));
  }

  void htmlShowsMarkupAsText() {
    const QString html = QString::fromUtf8(exported(ExportFormat::Html));
    // The only elements are ours: no script element, no event handler, however the message was written.
    QVERIFY(!html.contains("<script", Qt::CaseInsensitive));
    QVERIFY(!html.contains(QRegularExpression(QStringLiteral("<[^>]*\\son\\w+="))));
    QVERIFY(html.contains("&lt;script&gt;alert(&quot;hi&quot;)&lt;/script&gt;"));
    QVERIFY(html.contains("5 &lt; 6 &amp;&amp; 7 &gt; 3, naïve café ✓"));
    QVERIFY(html.contains("<title>Penser conversations</title>"));
    QVERIFY(html.contains("Reverse a list in Python — &amp; other &lt;tricks&gt;"));
    // Self-contained and script-free even if something slipped through.
    QVERIFY(html.contains("Content-Security-Policy\" content=\"default-src 'none'"));
    QVERIFY(!html.contains("http://") && !html.contains("https://") && !html.contains("src="));
    QVERIFY(html.contains("<details class=\"thinking\"><summary>Thinking (3.2 s)</summary>"));
    QVERIFY(html.contains("<pre><code class=\"language-python\">xs.reverse()      # in place\n"));
    QVERIFY(html.contains("<code>reverse()</code>"));
    const QString no_thinking = QString::fromUtf8(exported(ExportFormat::Html, false));
    QVERIFY(!no_thinking.contains("<details"));
  }

  void jsonHoldsEveryBranch() {
    const QString json = QString::fromUtf8(exported(ExportFormat::Json));
    QVERIFY(json.contains("returns a new list"));  // the branch not shown is there too
    QVERIFY(json.contains("\"format\": \"penser.conversations\""));
    QVERIFY(json.contains("\"prefill_tokens_per_s\": 180.25"));
  }

  void pdfOpensAndHoldsTheText() {
    QTemporaryDir dir;
    const QString pdf_path = dir.filePath("conversations.pdf");
    const QByteArray pdf = exported(ExportFormat::Pdf);
    QVERIFY(pdf.startsWith("%PDF-1."));
    QVERIFY(pdf.trimmed().endsWith("%%EOF"));
    // Two short conversations, each starting on its own page.
    const auto pages = QRegularExpression(QStringLiteral("/Type\\s*/Page[^s]")).globalMatch(QString::fromLatin1(pdf));
    int page_count = 0;
    for (auto it = pages; it.hasNext(); it.next()) ++page_count;
    QCOMPARE(page_count, 2);
    QFile f(pdf_path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(pdf);
    f.close();

    const QString pdftotext = QStandardPaths::findExecutable(QStringLiteral("pdftotext"));
    if (pdftotext.isEmpty()) PENSER_SKIP_UNLESS_CI("pdftotext (poppler-utils, installed by scripts/setup-debian.sh) is missing");
    QProcess p;
    p.start(pdftotext, {QStringLiteral("-enc"), QStringLiteral("UTF-8"), pdf_path, QStringLiteral("-")});
    QVERIFY(p.waitForFinished(30000));
    QCOMPARE(p.exitCode(), 0);
    const QString text = QString::fromUtf8(p.readAllStandardOutput()).simplified();
    for (const char* expected :
         {"Reverse a list in Python", "How do I reverse a list in Python?", "xs.reverse()", "in place versus a copy",
          "<script>alert(\"hi\")</script>", "naïve café", "Interrupted", "Boiling point at altitude",
          "vapour pressure"}) {
      QVERIFY2(text.contains(QString::fromUtf8(expected)), qPrintable(QString("missing '%1' in: %2")
                                                                         .arg(QString::fromUtf8(expected), text)));
    }
  }

  void exportToFileReadsTheStore() {
    QTemporaryDir dir;
    auto store = Store::open(dir.filePath("export.sqlite"));
    QVERIFY(store);
    auto report = (*store)->import_records(both());
    QVERIFY(report);
    const QString out = dir.filePath("one.md");
    QVERIFY(export_to_file(**store, {report->conversation_ids[1]}, ExportFormat::Markdown, {}, out));
    QFile f(out);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QString md = QString::fromUtf8(f.readAll());
    QVERIFY(md.startsWith("# Boiling point at altitude"));
    QVERIFY(!md.contains("Reverse a list"));
    // A folder that does not exist: a message, no crash.
    auto bad = export_to_file(**store, {}, ExportFormat::Text, {}, dir.filePath("missing/dir/x.txt"));
    QVERIFY(!bad);
    QVERIFY(QString::fromStdString(bad.error().message).contains("cannot write"));
  }
};

QTEST_MAIN(TestExport)
#include "test_export.moc"

// Full-text search over answers and thinking: prefixes, highlights, ranking across conversations, odd input,
// and opening a result at its message.
#include "app/core/store.h"
#include "corpus.h"

#include <QTemporaryDir>
#include <QTest>

using namespace penser::app;

class TestSearch : public QObject {
  Q_OBJECT
 private:
  QTemporaryDir dir_;
  std::unique_ptr<Store> store_;
  qint64 conversation_ = 0;
  qint64 answer_v1_ = 0;
  qint64 answer_v2_ = 0;

  qint64 add(qint64 parent, const char* role, const QString& content, const QString& thinking = {}) {
    Message m;
    m.conversation_id = conversation_;
    m.parent_id = parent;
    m.role = QString::fromLatin1(role);
    m.content = content;
    m.thinking = thinking;
    auto id = store_->add_message(m);
    return id ? *id : -1;
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    auto store = Store::open(dir_.filePath("search.sqlite"));
    QVERIFY(store);
    store_ = std::move(*store);
    auto corpus = penser::test::fill_corpus(*store_, 2000, 7);
    QVERIFY2(corpus, corpus ? "" : corpus.error().message.c_str());
    // One conversation with words the corpus never uses, and two versions of an answer.
    conversation_ = store_->create_conversation({}).value();
    const qint64 q = add(0, "user", "What does the Zorblax protocol guarantee?");
    answer_v1_ = add(q, "assistant", "It guarantees ordered delivery of frames.",
                     "The user asks about Zorblax. Quasiperiodic retransmission is the mechanism underneath.");
    answer_v2_ = add(q, "assistant", "Ordered, exactly-once delivery, thanks to sequence numbers.");
    QVERIFY(answer_v1_ > 0 && answer_v2_ > 0);
  }

  void findsAnswersAndThinking() {
    auto hits = store_->search("zorblax").value();  // case-insensitive
    QCOMPARE(hits.size(), 2);                        // the question and the thinking
    auto thinking = store_->search("quasiperiodic").value();
    QCOMPARE(thinking.size(), 1);
    QCOMPARE(thinking[0].message_id, answer_v1_);
    QCOMPARE(thinking[0].field, QStringLiteral("thinking"));
    QCOMPARE(thinking[0].role, QStringLiteral("assistant"));
    QCOMPARE(thinking[0].conversation_id, conversation_);
    QCOMPARE(thinking[0].conversation_title, QStringLiteral("What does the Zorblax protocol guarantee?"));
  }

  void matchesPrefixesAndHighlights() {
    auto hits = store_->search("quasiper retrans").value();
    QCOMPARE(hits.size(), 1);
    const SearchHit& h = hits[0];
    QCOMPARE(h.highlights.size(), 2);
    QCOMPARE(h.snippet.mid(h.highlights[0].first, h.highlights[0].second), QStringLiteral("Quasiperiodic"));
    QCOMPARE(h.snippet.mid(h.highlights[1].first, h.highlights[1].second), QStringLiteral("retransmission"));
    QVERIFY(!h.snippet.contains(QChar(0xE000)));
  }

  void allWordsMustMatch() {
    QCOMPARE(store_->search("zorblax exactly").value().size(), 0);
    QCOMPARE(store_->search("sequence exactly").value().size(), 1);
  }

  void searchesTheWholeCorpusAndRanks() {
    auto hits = store_->search("chlorophyll", 1000).value();
    QVERIFY(hits.size() > 5);
    QSet<qint64> conversations;
    for (const SearchHit& h : hits) {
      conversations.insert(h.conversation_id);
      QVERIFY(h.snippet.contains(QStringLiteral("chlorophyll"), Qt::CaseInsensitive));
    }
    QVERIFY(conversations.size() > 1);
    QCOMPARE(store_->search("chlorophyll", 3).value().size(), 3);
  }

  void oddInputIsNotSyntax() {
    // FTS5 operators and quotes typed by the user are searched for as words, never parsed.
    for (const char* q : {"\"", "AND", "NOT zorblax", "zorblax OR", "*", "(", "c++", "a:b", "NEAR(x y)", "'; DROP"}) {
      auto hits = store_->search(QString::fromLatin1(q));
      QVERIFY2(hits, q);
    }
    QCOMPARE(store_->search("   ").value().size(), 0);
    QCOMPARE(fts_query(QStringLiteral("c++ \"hi\" -")), QStringLiteral("\"c++\"* \"hi\"*"));
    QCOMPARE(store_->search("NOT zorblax").value().size(), 0);  // "not" is a word here; no message has both
  }

  void openingAResultShowsItsBranch() {
    // The second version of the answer is shown; a hit in the first one switches the branch to it.
    QCOMPARE(store_->current_path(conversation_)->last().id, answer_v2_);
    auto hit = store_->search("quasiperiodic").value().first();
    QCOMPARE(store_->show_branch(hit.message_id).value(), answer_v1_);
    QCOMPARE(store_->current_path(conversation_)->last().id, answer_v1_);
  }

  void indexFollowsEditsAndDeletes() {
    QVERIFY(store_->save_streaming(answer_v2_, "Now about flibbertigibbet", "", 0));
    QCOMPARE(store_->search("sequence").value().size(), 0);
    QCOMPARE(store_->search("flibbertigibbet").value().size(), 1);
    QVERIFY(store_->delete_conversation(conversation_));
    QCOMPARE(store_->search("flibbertigibbet").value().size(), 0);
    auto check = store_->database().exec(
        "INSERT INTO message_fts(message_fts, rank) VALUES ('integrity-check', 1)", "checking the index");
    QVERIFY2(check, check ? "" : check.error().message.c_str());
  }
};

QTEST_GUILESS_MAIN(TestSearch)
#include "test_search.moc"

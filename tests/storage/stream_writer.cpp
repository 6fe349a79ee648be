// Helper for test_storage_crash: streams a long answer into a database the way the app does (deltas every
// ~20 ms, saved every 0.5 s by StreamSaver) and reports each save on stdout as "saved <chars>" after it has
// committed. The test kills it with SIGKILL in the middle.
//
// usage: penser_stream_writer DB_PATH
#include "app/core/stream_saver.h"

#include <QCoreApplication>
#include <QThread>

#include <cstdio>

// The text of the answer is fully determined: token i is "w<i> ". The test rebuilds it to compare.
static QString token(int i) { return QStringLiteral("w%1 ").arg(i); }

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  if (argc != 2) {
    std::fprintf(stderr, "usage: penser_stream_writer DB_PATH\n");
    return 2;
  }
  auto store = penser::app::Store::open(QString::fromLocal8Bit(argv[1]));
  if (!store) {
    std::fprintf(stderr, "%s\n", store.error().message.c_str());
    return 1;
  }
  penser::app::Store& s = **store;
  auto c = s.create_conversation({});
  penser::app::Message q;
  q.conversation_id = c.value();
  q.role = QStringLiteral("user");
  q.content = QStringLiteral("Count for me, slowly.");
  auto question = s.add_message(q);
  auto id = s.begin_streaming(*c, question.value(), QStringLiteral("test"));
  std::printf("message %lld\n", static_cast<long long>(id.value()));
  std::fflush(stdout);

  penser::app::StreamSaver saver(s, *id);  // the app's cadence: 0.5 s
  for (int i = 0; i < 100000; ++i) {
    saver.append_content(token(i));
    auto saved = saver.maybe_save();
    if (!saved) {
      std::fprintf(stderr, "%s\n", saved.error().message.c_str());
      return 1;
    }
    if (*saved) {
      std::printf("saved %lld\n", static_cast<long long>(saver.content().size()));
      std::fflush(stdout);
    }
    QThread::msleep(20);
  }
  return 0;
}

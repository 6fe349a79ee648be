// Search benchmark: builds a database of N realistic messages (default 100,000) and times full-text queries
// the way the app runs them (top 50 by rank, with snippets). Results go in docs/storage.md.
//
// usage: penser_search_bench [--messages N] [--db PATH] [--repeat R]
//   --db PATH reuses PATH when it already holds the corpus (building 100,000 messages takes a while).
#include "app/core/store.h"
#include "corpus.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QTemporaryDir>

#include <algorithm>
#include <ctime>
#include <cstdio>
#include <vector>

using penser::app::Store;

// CPU time of this thread: on a loaded machine wall time measures the neighbours too.
static double thread_cpu_ms() {
#ifdef CLOCK_THREAD_CPUTIME_ID
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
#else
  return 0;  // not available here: the column reads 0
#endif
}

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  int n_messages = 100000;
  int repeat = 20;
  QString db_path;
  const QStringList args = app.arguments();
  for (int i = 1; i + 1 < args.size(); i += 2) {
    if (args[i] == "--messages") n_messages = args[i + 1].toInt();
    else if (args[i] == "--db") db_path = args[i + 1];
    else if (args[i] == "--repeat") repeat = args[i + 1].toInt();
  }
  QTemporaryDir tmp;
  if (db_path.isEmpty()) db_path = tmp.filePath("bench.sqlite");

  QElapsedTimer t;
  t.start();
  auto store = Store::open(db_path);
  if (!store) {
    std::fprintf(stderr, "%s\n", store.error().message.c_str());
    return 1;
  }
  auto count = (*store)->database().prepare_once("SELECT count(*) FROM messages");
  qint64 existing = count && (*count)->step("count").value() ? (*count)->int64(0) : 0;
  std::printf("open: %.1f ms (%lld messages present)\n", t.nsecsElapsed() / 1e6, static_cast<long long>(existing));
  if (existing < n_messages) {
    t.restart();
    auto made = penser::test::fill_corpus(**store, n_messages - static_cast<int>(existing), 2025);
    if (!made) {
      std::fprintf(stderr, "%s\n", made.error().message.c_str());
      return 1;
    }
    std::printf("built %d messages in %.1f s; file %.1f MiB\n", n_messages - static_cast<int>(existing),
                t.nsecsElapsed() / 1e9, QFileInfo(db_path).size() / 1048576.0);
  }

  const char* queries[] = {"chlorophyll", "rotation balance", "borrow check", "gradient", "the",
                           "Nyquist aliasing", "conv", "zzzznotaword", "double-check numbers"};
  std::printf("%-24s %6s %10s %10s %14s\n", "query", "hits", "median ms", "max ms", "median CPU ms");
  double worst = 0;
  for (const char* q : queries) {
    std::vector<double> times;
    std::vector<double> cpu;
    qsizetype hits = 0;
    for (int r = 0; r < repeat; ++r) {
      t.restart();
      const double c0 = thread_cpu_ms();
      auto result = (*store)->search(QString::fromUtf8(q), 50);
      cpu.push_back(thread_cpu_ms() - c0);
      times.push_back(t.nsecsElapsed() / 1e6);
      if (!result) {
        std::fprintf(stderr, "%s\n", result.error().message.c_str());
        return 1;
      }
      hits = result->size();
    }
    std::sort(times.begin(), times.end());
    std::sort(cpu.begin(), cpu.end());
    worst = std::max(worst, times.back());
    std::printf("%-24s %6lld %10.2f %10.2f %14.2f\n", q, static_cast<long long>(hits), times[times.size() / 2],
                times.back(), cpu[cpu.size() / 2]);
  }
  std::printf("slowest single query: %.2f ms\n", worst);
  return 0;
}

// The thread pool: every index is visited exactly once, for static and dynamic splits, many calls in a row.
#include <QtTest>

#include <atomic>
#include <vector>

#include "inference/common/threadpool.h"

using penser::ThreadPool;

class TestThreadPool : public QObject {
  Q_OBJECT
 private slots:
  void covers_every_index_once_data() {
    QTest::addColumn<int>("threads");
    QTest::newRow("1") << 1;
    QTest::newRow("2") << 2;
    QTest::newRow("3") << 3;
    QTest::newRow("8") << 8;
  }
  void covers_every_index_once() {
    QFETCH(int, threads);
    ThreadPool pool(threads);
    QCOMPARE(pool.n_threads(), threads);
    for (int64_t n : {int64_t(1), int64_t(2), int64_t(7), int64_t(1000), int64_t(12345)}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      std::atomic<int> empty_ranges{0};
      for (int rep = 0; rep < 50; ++rep) {
        pool.parallel_for(n, [&](int64_t b, int64_t e) {
          if (b >= e) empty_ranges++;
          for (int64_t i = b; i < e; ++i) hits[size_t(i)]++;
        });
      }
      for (auto& h : hits) QCOMPARE(h.load(), 50);
      QCOMPARE(empty_ranges.load(), 0);
    }
  }
  void dynamic_covers_every_index_once() {
    ThreadPool pool(3);
    const int64_t n = 1001;
    std::vector<std::atomic<int>> hits(n);
    for (int64_t grain : {1, 4, 64, 5000})
      pool.parallel_for_dynamic(n, grain, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) hits[size_t(i)]++;
      });
    for (auto& h : hits) QCOMPARE(h.load(), 4);
  }
  void create_and_destroy() {
    // Workers may start after jobs ran without them, or after the pool began shutting down.
    for (int i = 0; i < 200; ++i) {
      ThreadPool pool(4);
      if (i % 2) {
        std::atomic<int64_t> sum{0};
        pool.parallel_for(100, [&](int64_t b, int64_t e) { sum += e - b; });
        QCOMPARE(sum.load(), int64_t(100));
      }
    }
  }
  void many_short_calls() {
    // The forward pass issues thousands of tiny jobs: they must all complete, with results visible after.
    ThreadPool pool(2);
    std::vector<int64_t> out(64);
    int64_t total = 0;
    for (int rep = 0; rep < 2000; ++rep) {
      pool.parallel_for(64, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) out[size_t(i)] = i + rep;
      });
      total += out[0] + out[63];
    }
    int64_t expect = 0;
    for (int rep = 0; rep < 2000; ++rep) expect += 2 * rep + 63;
    QCOMPARE(total, expect);
  }
};

QTEST_GUILESS_MAIN(TestThreadPool)
#include "test_threadpool.moc"

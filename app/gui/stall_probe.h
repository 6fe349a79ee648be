// StallProbe: how long the GUI thread's event loop can be kept from running. A precise 4 ms timer fires
// on the GUI thread; each firing's lateness (time since the previous firing minus 4 ms) is the time the
// loop spent on something else: layout, a slot, a long signal chain. A frame at 60 Hz is 16.7 ms, so a
// lateness above ~16 ms is a visible hitch. The window turns it on with PENSER_STALL_LOG=1 (each stall
// over 16 ms is logged, with a summary at exit); the benchmark (tests/gui/bench_stall.cpp) reads it.
#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

#include <vector>

namespace penser::gui {

class StallProbe : public QObject {
  Q_OBJECT
 public:
  explicit StallProbe(QObject* parent = nullptr);

  void start();
  void stop();
  void reset();
  // Log every lateness above `threshold_ms` as it happens (qInfo); <= 0: no logging.
  void setLogThreshold(double threshold_ms) { log_threshold_ms_ = threshold_ms; }

  qint64 samples() const { return qint64(late_us_.size()); }
  double maxMs() const;
  double percentileMs(double p) const;  // p in [0, 100]
  double meanMs() const;
  int countOver(double ms) const;
  QString summary() const;  // "1234 ticks, max 3.1 ms, p99 1.2 ms, p50 0.1 ms, 0 over 16 ms"

 private:
  void tick();

  QTimer timer_;
  QElapsedTimer clock_;
  qint64 last_ns_ = 0;
  std::vector<qint64> late_us_;  // lateness of each tick, microseconds
  double log_threshold_ms_ = 0;
};

}  // namespace penser::gui

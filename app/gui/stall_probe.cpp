#include "app/gui/stall_probe.h"

#include <QDebug>

#include <algorithm>
#include <numeric>

namespace penser::gui {
namespace {
constexpr int kIntervalMs = 4;
}

StallProbe::StallProbe(QObject* parent) : QObject(parent) {
  timer_.setTimerType(Qt::PreciseTimer);
  timer_.setInterval(kIntervalMs);
  connect(&timer_, &QTimer::timeout, this, &StallProbe::tick);
}

void StallProbe::start() {
  clock_.start();
  last_ns_ = 0;
  timer_.start();
}

void StallProbe::stop() { timer_.stop(); }

void StallProbe::reset() {
  late_us_.clear();
  if (clock_.isValid()) last_ns_ = clock_.nsecsElapsed();
}

void StallProbe::tick() {
  const qint64 now = clock_.nsecsElapsed();
  const qint64 late_us = std::max<qint64>(0, (now - last_ns_) / 1000 - kIntervalMs * 1000);
  last_ns_ = now;
  late_us_.push_back(late_us);
  if (log_threshold_ms_ > 0 && late_us / 1000.0 > log_threshold_ms_) {
    qInfo("penser: the GUI thread stalled for %.1f ms", late_us / 1000.0);
  }
}

double StallProbe::maxMs() const {
  return late_us_.empty() ? 0 : *std::max_element(late_us_.begin(), late_us_.end()) / 1000.0;
}

double StallProbe::percentileMs(double p) const {
  if (late_us_.empty()) return 0;
  std::vector<qint64> sorted = late_us_;
  std::sort(sorted.begin(), sorted.end());
  const size_t i = std::min(sorted.size() - 1, size_t(p / 100.0 * double(sorted.size() - 1) + 0.5));
  return sorted[i] / 1000.0;
}

double StallProbe::meanMs() const {
  if (late_us_.empty()) return 0;
  return std::accumulate(late_us_.begin(), late_us_.end(), 0.0) / double(late_us_.size()) / 1000.0;
}

int StallProbe::countOver(double ms) const {
  return int(std::count_if(late_us_.begin(), late_us_.end(), [ms](qint64 us) { return us / 1000.0 > ms; }));
}

QString StallProbe::summary() const {
  return QStringLiteral("%1 ticks, max %2 ms, p99 %3 ms, p50 %4 ms, %5 over 16 ms")
      .arg(samples())
      .arg(maxMs(), 0, 'f', 1)
      .arg(percentileMs(99), 0, 'f', 1)
      .arg(percentileMs(50), 0, 'f', 1)
      .arg(countOver(16));
}

}  // namespace penser::gui

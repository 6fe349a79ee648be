// StreamSaver: keeps a growing answer and writes it to the store at a steady cadence, so a crash loses at
// most one cadence of text. The caller appends deltas as they arrive and calls maybe_save() often (on every
// delta is fine): it writes only when the cadence has passed since the previous write.
#pragma once

#include "app/core/store.h"

#include <QElapsedTimer>

#include <chrono>

namespace penser::app {

class StreamSaver {
 public:
  StreamSaver(Store& store, qint64 message_id,
              std::chrono::milliseconds cadence = std::chrono::milliseconds(500));

  void append_thinking(const QString& delta);
  void append_content(const QString& delta);
  void set_thinking_ms(qint64 ms) { thinking_ms_ = ms; dirty_ = true; }

  // true when it wrote. An error (a full disk) is returned; the text stays here and the next call retries.
  Result<bool> maybe_save();
  Status flush();
  // Writes the last text and records how the answer ended.
  Status finish(MessageStatus status, const QString& finish_reason, const GenerationStats& stats,
                const QString& error = {});

  const QString& content() const { return content_; }
  const QString& thinking() const { return thinking_; }
  qint64 message_id() const { return message_id_; }

 private:
  Store& store_;
  qint64 message_id_;
  std::chrono::milliseconds cadence_;
  QElapsedTimer since_save_;
  QString content_;
  QString thinking_;
  qint64 thinking_ms_ = 0;
  bool dirty_ = false;
};

}  // namespace penser::app

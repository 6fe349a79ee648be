#include "app/core/stream_saver.h"

namespace penser::app {

StreamSaver::StreamSaver(Store& store, qint64 message_id, std::chrono::milliseconds cadence)
    : store_(store), message_id_(message_id), cadence_(cadence) {
  since_save_.start();
}

void StreamSaver::append_thinking(const QString& delta) {
  thinking_ += delta;
  dirty_ = dirty_ || !delta.isEmpty();
}

void StreamSaver::append_content(const QString& delta) {
  content_ += delta;
  dirty_ = dirty_ || !delta.isEmpty();
}

Result<bool> StreamSaver::maybe_save() {
  if (!dirty_ || since_save_.elapsed() < cadence_.count()) return false;
  PENSER_TRY(flush());
  return true;
}

Status StreamSaver::flush() {
  if (!dirty_) return {};
  // Restart the clock even on failure so a full disk is not hammered on every token.
  since_save_.restart();
  PENSER_TRY(store_.save_streaming(message_id_, content_, thinking_, thinking_ms_));
  dirty_ = false;
  return {};
}

Status StreamSaver::finish(MessageStatus status, const QString& finish_reason, const GenerationStats& stats,
                           const QString& error) {
  PENSER_TRY(flush());
  return store_.finish_message(message_id_, status, finish_reason, stats, error);
}

}  // namespace penser::app

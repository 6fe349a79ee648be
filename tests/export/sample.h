// A conversation with everything an export has to handle: thinking, a regenerated answer (two branches),
// code, markup that must stay text, an interrupted answer, non-ASCII text and statistics. Fixed times.
#pragma once

#include "app/core/types.h"

namespace penser::test {

inline penser::app::Message sample_message(qint64 id, qint64 parent, const char* role, const QString& content,
                                           const QString& thinking = {}) {
  penser::app::Message m;
  m.id = id;
  m.parent_id = parent;
  m.role = QString::fromLatin1(role);
  m.content = content;
  m.thinking = thinking;
  m.created_at = 1764331200000 + id * 60000;  // 2025-11-28 12:00 UTC + id minutes
  if (m.role == QLatin1String("assistant")) {
    m.model = QStringLiteral("DeepSeek-R1-Distill-Qwen-7B");
    m.finish_reason = QStringLiteral("stop");
    m.thinking_ms = 1000 * id + 234;
    m.stats = {42, 120 + id, 80, 210.5, 180.25, 21.5};
  }
  return m;
}

inline penser::app::ConversationRecord sample_conversation() {
  using penser::app::Message;
  penser::app::ConversationRecord r;
  auto& c = r.conversation;
  c.uuid = QStringLiteral("0b6a8d4e-2f1c-4d3b-9e8a-7c6b5a4d3e2f");
  c.title = QStringLiteral("Reverse a list in Python — & other <tricks>");
  c.created_at = 1764331200000;
  c.updated_at = 1764331800000;
  c.pinned = true;
  c.model_file = QStringLiteral("DeepSeek-R1-Distill-Qwen-7B-Q4_K_M.gguf");
  c.model_name = QStringLiteral("DeepSeek-R1-Distill-Qwen-7B");
  c.settings_json = QStringLiteral(R"({"temperature":0.6,"top_p":0.95})");
  r.messages << sample_message(1, 0, "user", QStringLiteral("How do I reverse a list in Python?"));
  r.messages << sample_message(
      2, 1, "assistant", QStringLiteral("Use slicing: `xs[::-1]` returns a new list."),
      QStringLiteral("The user wants to reverse a list. Slicing is the idiom; reversed() gives an iterator."));
  // The answer regenerated: a sibling branch, and the one shown.
  r.messages << sample_message(
      3, 1, "assistant",
      QStringLiteral("Two ways:\n\n```python\nxs.reverse()      # in place\nys = xs[::-1]     # a copy\n```\n\n"
                     "Pick `reverse()` when you no longer need the original order."),
      QStringLiteral("Okay, so in place versus a copy.\n\nWait, should I mention reversed()? Maybe briefly."));
  r.messages << sample_message(4, 3, "user",
                               QStringLiteral("What does <script>alert(\"hi\")</script> do in a page? "
                                              "Also: 5 < 6 && 7 > 3, naïve café ✓"));
  Message interrupted = sample_message(5, 4, "assistant", QStringLiteral("It runs JavaScript: the browser"),
                                       QStringLiteral("A script element in HTML executes"));
  interrupted.status = penser::app::MessageStatus::Interrupted;
  interrupted.finish_reason.clear();
  r.messages << interrupted;
  c.current_leaf_id = 5;
  return r;
}

inline penser::app::ConversationRecord second_conversation() {
  penser::app::ConversationRecord r;
  auto& c = r.conversation;
  c.uuid = QStringLiteral("5e4d3c2b-1a09-4f8e-8d7c-6b5a4f3e2d1c");
  c.title = QStringLiteral("Boiling point at altitude");
  c.created_at = 1764417600000;
  c.updated_at = 1764417700000;
  r.messages << sample_message(1, 0, "user", QStringLiteral("Why does water boil at a lower temperature in the mountains?"));
  r.messages << sample_message(2, 1, "assistant",
                               QStringLiteral("Air pressure is lower, so water reaches its vapour pressure sooner."),
                               QStringLiteral("Boiling: vapour pressure equals ambient pressure."));
  c.current_leaf_id = 2;
  return r;
}

}  // namespace penser::test

#include "inference/chat/splitter.h"

namespace penser::chat {
namespace {

constexpr std::string_view kOpen = "<think>";
constexpr std::string_view kClose = "</think>";

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

size_t skip_space(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && is_space(s[i])) ++i;
  return i;
}

// Length of the longest suffix of s that is a proper prefix of tag (a tag that may still be arriving).
size_t partial_tag_suffix(std::string_view s, std::string_view tag) {
  for (size_t n = std::min(s.size(), tag.size() - 1); n > 0; --n) {
    if (s.substr(s.size() - n) == tag.substr(0, n)) return n;
  }
  return 0;
}

}  // namespace

ThinkSplitter::ThinkSplitter(bool starts_in_thinking)
    : state_(starts_in_thinking ? State::ThinkStart : State::Undecided), had_thought_(starts_in_thinking) {}

SplitDelta ThinkSplitter::push(std::string_view text) {
  pending_.append(text);
  SplitDelta out;
  process(out, false);
  return out;
}

SplitDelta ThinkSplitter::finish() {
  SplitDelta out;
  process(out, true);
  return out;
}

void ThinkSplitter::process(SplitDelta& out, bool at_end) {
  for (;;) {
    std::string_view p = pending_;
    switch (state_) {
      case State::Undecided:
      case State::ThinkStart: {
        // Leading whitespace, then maybe `<think>` (once): both dropped.
        size_t ws = skip_space(p);
        std::string_view rest = p.substr(ws);
        if (!opened_tag_seen_ && rest.starts_with(kOpen)) {
          opened_tag_seen_ = true;
          had_thought_ = true;
          pending_.erase(0, ws + kOpen.size());
          state_ = State::ThinkStart;
          continue;
        }
        bool could_be_tag = !opened_tag_seen_ && !rest.empty() && kOpen.starts_with(rest);
        if ((rest.empty() || could_be_tag) && !at_end) {
          pending_.erase(0, ws);
          return;
        }
        pending_.erase(0, ws);
        state_ = state_ == State::Undecided ? State::Answer : State::Thinking;
        if (pending_.empty()) return;
        continue;
      }
      case State::Thinking: {
        size_t close = p.find(kClose);
        if (close != std::string_view::npos) {
          std::string_view thought = p.substr(0, close);
          while (!thought.empty() && is_space(thought.back())) thought.remove_suffix(1);
          out.thinking.append(thought);
          pending_.erase(0, close + kClose.size());
          closed_ = true;
          state_ = State::AnswerStart;
          continue;
        }
        // Hold back a possible partial `</think>` and the whitespace before it (dropped if the tag comes).
        size_t keep = at_end ? 0 : partial_tag_suffix(p, kClose);
        size_t end = p.size() - keep;
        size_t trimmed = end;
        while (trimmed > 0 && is_space(p[trimmed - 1])) --trimmed;
        if (at_end) {
          out.thinking.append(p.substr(0, trimmed));  // trailing whitespace of an unclosed thought dropped
          pending_.clear();
        } else {
          out.thinking.append(p.substr(0, trimmed));
          pending_.erase(0, trimmed);
        }
        return;
      }
      case State::AnswerStart: {
        size_t ws = skip_space(p);
        pending_.erase(0, ws);
        if (pending_.empty()) return;
        state_ = State::Answer;
        continue;
      }
      case State::Answer:
        out.answer.append(pending_);
        pending_.clear();
        return;
    }
  }
}

}  // namespace penser::chat

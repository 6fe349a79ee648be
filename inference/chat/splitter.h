// The think/answer stream splitter: generated text in, thinking deltas and answer deltas out.
//
// R1 models write their reasoning first and close it with `</think>`; the answer follows. The splitter
// works on text pieces of any size, so a tag split across tokens ("</th" + "ink>") is recognised; it strips
// a `<think>` the model writes itself at the start, the whitespace at the start and end of the thought, and
// the whitespace between `</think>` and the answer. Text it holds back (a possible tag, trailing
// whitespace) is released by the next push() or by finish().
#pragma once

#include <string>
#include <string_view>

namespace penser::chat {

struct SplitDelta {
  std::string thinking;
  std::string answer;
  bool empty() const { return thinking.empty() && answer.empty(); }
};

class ThinkSplitter {
 public:
  // starts_in_thinking: the prompt ended with `<think>\n`, so the text is thought until `</think>`.
  // Otherwise the text is the answer unless it begins with `<think>` (Qwen3 opens its thought itself).
  explicit ThinkSplitter(bool starts_in_thinking);

  SplitDelta push(std::string_view text);
  // End of the stream: releases what was held back. A thought that never closed stays thinking
  // (thought_unclosed() tells the caller so).
  SplitDelta finish();

  bool in_thinking() const { return state_ == State::ThinkStart || state_ == State::Thinking; }
  bool thought_closed() const { return closed_; }
  bool thought_unclosed() const { return had_thought_ && !closed_; }

 private:
  enum class State { Undecided, ThinkStart, Thinking, AnswerStart, Answer };
  void process(SplitDelta& out, bool at_end);

  State state_;
  std::string pending_;  // text not yet given out
  bool opened_tag_seen_ = false;
  bool had_thought_ = false;
  bool closed_ = false;
};

}  // namespace penser::chat

// Internal to the store: the message columns and their decoding, shared by the store's source files.
#pragma once

#include "app/core/sqlite.h"
#include "app/core/types.h"

namespace penser::app::detail {

#define PENSER_MESSAGE_COLUMNS                                                                            \
  "id, conversation_id, parent_id, role, content, thinking, thinking_ms, prompt_tokens, generated_tokens, " \
  "thinking_tokens, ttft_ms, prefill_tps, decode_tps, finish_reason, status, error, model, created_at"

Message read_message(const sql::Statement& s);

}  // namespace penser::app::detail

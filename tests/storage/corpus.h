// A deterministic corpus of realistic conversations (questions, R1-style thinking, Markdown answers with
// code) for the search test and the search benchmark.
#pragma once

#include "app/core/store.h"

#include <cstdint>

namespace penser::test {

// Adds conversations of 10 messages (5 exchanges) until `n_messages` messages exist; returns the
// conversations added. Uses import_records in batches, so a large corpus loads in seconds.
penser::Result<int> fill_corpus(penser::app::Store& store, int n_messages, std::uint32_t seed);

}  // namespace penser::test

// Copyright (c) Cairn authors.
//
// Fuzzes the line parser of `cairn import` (tools/jsonl/event_format.h). Any
// line may be rejected, none may crash; an accepted event, written out again as
// `cairn export` writes it, must be parsed back to the same event (the
// export/import round trip is exact).
#include <cstddef>
#include <cstdint>
#include <string>

#include "tests/fuzz/fuzz_util.h"
#include "tools/jsonl/event_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cairn;
  const std::string line(reinterpret_cast<const char*>(data), size);
  tools::EventLine parsed;
  std::string error;
  if (!tools::ParseEventLine(line, &parsed, &error)) {
    FUZZ_CHECK(!error.empty());
    return 0;
  }
  RecordedEventView view;
  view.stream = parsed.stream;
  view.revision = StreamRevision(7);
  view.position = GlobalPosition(42);
  view.id = parsed.event.id;
  view.type = parsed.event.type;
  view.data = parsed.event.data;
  view.metadata = parsed.event.metadata;
  view.content_type = parsed.event.content_type;
  view.created_us = 1700000000000000;
  std::string exported;
  tools::AppendEventJsonLine(view, tools::PayloadStyle::kExact, &exported);
  FUZZ_CHECK(!exported.empty() && exported.back() == '\n');
  exported.pop_back();
  tools::EventLine back;
  FUZZ_CHECK(tools::ParseEventLine(exported, &back, &error));
  FUZZ_CHECK(back.stream == parsed.stream);
  FUZZ_CHECK(back.event.id == parsed.event.id);
  FUZZ_CHECK(back.event.type == parsed.event.type);
  FUZZ_CHECK(back.event.data == parsed.event.data);
  FUZZ_CHECK(back.event.metadata == parsed.event.metadata);
  FUZZ_CHECK(back.event.content_type == parsed.event.content_type);
  return 0;
}

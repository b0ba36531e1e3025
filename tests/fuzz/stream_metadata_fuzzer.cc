// Copyright (c) Cairn authors.
//
// Fuzzes the stream metadata JSON codec (engine/src/stream_metadata.cc):
// no input may crash it, and its answers must agree with each other:
//  - what FromJson accepts, ToJson writes back as JSON that FromJson
//    accepts and reads as the same metadata;
//  - WithTruncateBefore of accepted metadata is accepted metadata with that
//    $tb and every other field unchanged;
//  - what FromJson refuses is InvalidArgument, and so is WithTruncateBefore
//    of it unless it is a JSON object.
#include <cstddef>
#include <cstdint>
#include <string>

#include "cairn/stream_metadata.h"
#include "engine/src/stream_metadata.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using cairn::StreamMetadata;
  // A heap copy of exactly `size` bytes: ASan catches a read past its end.
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto parsed = StreamMetadata::FromJson(text);
  if (!parsed.ok()) {
    FUZZ_CHECK(parsed.status().IsInvalidArgument());
    return 0;
  }
  auto written = parsed->ToJson();
  FUZZ_CHECK(written.ok());
  auto again = StreamMetadata::FromJson(*written);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(*again == *parsed);
  constexpr uint64_t kTb = 42;
  auto cut = cairn::engine::WithTruncateBefore(text, kTb);
  FUZZ_CHECK(cut.ok());
  auto with_cut = StreamMetadata::FromJson(*cut);
  FUZZ_CHECK(with_cut.ok());
  FUZZ_CHECK(with_cut->truncate_before == kTb);
  with_cut->truncate_before = parsed->truncate_before;
  FUZZ_CHECK(*with_cut == *parsed);
  return 0;
}

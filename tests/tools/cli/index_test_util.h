// Copyright (c) Cairn authors.
//
// Builds a store's index files from its log with index::PersistentIndex,
// independently of the engine: the tests of `cairn dump`, `verify` and
// `index stats` then control how many tables there are (a small memtable
// gives many tables and merges) whatever the engine's settings.
#ifndef CAIRN_TESTS_TOOLS_CLI_INDEX_TEST_UTIL_H_
#define CAIRN_TESTS_TOOLS_CLI_INDEX_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "engine/io/file_system.h"
#include "index/persistent_index.h"
#include "inspect/index_files.h"
#include "inspect/segment_walk.h"
#include "segment/segment_header.h"

namespace cairn::tools::test {

using inspect::IndexDirOf;
using inspect::ListSegmentFiles;
using inspect::OpenSegmentFile;
using inspect::SegmentFile;
using inspect::SegmentName;
using inspect::SkippedBytes;
using inspect::WalkedRecord;
using inspect::WalkSegment;

// Changes what the index is told about the event at `position` (its
// stream name and record offset), to build indexes that disagree with the
// log.
using IndexTamper = std::function<void(std::string* stream, uint32_t* offset,
                                       uint64_t position)>;

// Replaces DIR/index with an index of the whole log, written out as
// tables of `memtable_entries` events merged `fan_in` at a time.
inline void BuildIndexFromLog(const std::string& dir,
                              uint64_t memtable_entries = 64,
                              uint32_t fan_in = 4,
                              const IndexTamper& tamper = nullptr) {
  std::filesystem::remove_all(IndexDirOf(dir));
  auto names = ListSegmentFiles(dir);
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  std::vector<SegmentFile> files;
  std::vector<uint64_t> firsts;
  uint64_t store_id = 0;
  for (const SegmentName& name : *names) {
    auto file = OpenSegmentFile(name.path);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    segment::SegmentHeader header;
    ASSERT_TRUE(segment::DecodeSegmentHeader(file->data(), file->size(),
                                             name.path, &header)
                    .ok());
    store_id = header.store_id;
    firsts.push_back(header.first_position);
    files.push_back(std::move(file.value()));
  }
  index::IndexOptions options;
  options.memtable_entries = memtable_entries;
  options.merge_fan_in = fan_in;
  options.background = false;
  std::vector<std::string> streams;  // by position
  auto reader = [&](uint64_t position, uint32_t) -> Result<std::string_view> {
    if (position >= streams.size()) {
      return Status::Corruption("log", position, "no such position");
    }
    const std::string_view name = streams[position];
    return name;
  };
  auto opened =
      index::PersistentIndex::Open(io::PosixFileSystem(), IndexDirOf(dir),
                                   store_id, 0, options, reader, nullptr);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto& idx = *opened;
  for (size_t i = 0; i < files.size(); ++i) {
    segment::SegmentHeader header;
    ASSERT_TRUE(segment::DecodeSegmentHeader(files[i].data(), files[i].size(),
                                             files[i].path, &header)
                    .ok());
    WalkSegment(
        files[i].data(), files[i].size(), header.Seed(),
        [&](const WalkedRecord& r) {
          ASSERT_TRUE(r.body_valid);
          std::string stream(r.fields.stream);
          uint32_t offset = static_cast<uint32_t>(r.offset);
          if (tamper) tamper(&stream, &offset, r.header.position);
          streams.push_back(stream);
          Status s = idx->Add(stream, r.fields.revision, r.header.position,
                              offset, r.fields.id);
          ASSERT_TRUE(s.ok()) << s.ToString();
        },
        [](const SkippedBytes&) {});
  }
  Status s = idx->Close();
  ASSERT_TRUE(s.ok()) << s.ToString();
}

}  // namespace cairn::tools::test

#endif  // CAIRN_TESTS_TOOLS_CLI_INDEX_TEST_UTIL_H_

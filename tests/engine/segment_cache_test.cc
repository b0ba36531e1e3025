// Copyright (c) Cairn authors.
//
// The bounded cache of open segments (Options::max_open_segments): a store
// holds one file descriptor and a bounded number of mappings whatever the
// number of its segments, and a read keeps the segment it uses valid even
// when the cache evicts it.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cairn/cairn.h"
#include "tests/support/store_test_util.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;
using testing::Event;

constexpr uint64_t kTinySegments = uint64_t{64} * 1024;
// Two of these fill a 64 KiB segment: every segment holds two events.
constexpr size_t kEventBytes = size_t{20} * 1024;
constexpr int kStreams = 8;

std::string Payload(uint64_t n) {
  return std::to_string(n) + ":" + std::string(kEventBytes, 'a' + n % 26);
}

Options Tiny() {
  Options o;
  o.segment_size = kTinySegments;
  o.durability = Durability::kNone;  // only the rolls sync: a fast build
  o.compression_threshold = 0;       // the payloads compress well
  return o;
}

std::string StreamOf(uint64_t n) { return "s-" + std::to_string(n % kStreams); }

// Writes `events` events of kEventBytes, one per append, round robin over
// kStreams streams.
void Build(const std::string& path, uint64_t events) {
  auto store = Store::Open(path, Tiny());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  for (uint64_t n = 0; n < events; ++n) {
    auto r = (*store)->Append(StreamOf(n), ExpectedVersion::Any(),
                              {Event("E", Payload(n))});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  CAIRN_ASSERT_OK((*store)->Close());
}

size_t SegmentFiles(const std::string& path) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(path)) {
    if (e.path().extension() == ".seg") ++n;
  }
  return n;
}

bool IsSegmentOf(const std::string& file, const std::string& dir) {
  return file.rfind(dir + "/", 0) == 0 && file.ends_with(".seg");
}

// Segment files of `dir` this process has mapped now.
size_t MappedSegments(const std::string& dir) {
  std::ifstream maps("/proc/self/maps");
  std::set<std::string> files;
  std::string line;
  while (std::getline(maps, line)) {
    size_t slash = line.find('/');
    if (slash == std::string::npos) continue;
    std::string file = line.substr(slash);
    if (IsSegmentOf(file, dir)) files.insert(file);
  }
  return files.size();
}

// File descriptors this process has open on segment files of `dir`.
size_t OpenSegmentDescriptors(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    fs::path target = fs::read_symlink(e.path(), ec);
    if (!ec && IsSegmentOf(target.string(), dir)) ++n;
  }
  return n;
}

// Reads every event through ReadAll (forward, in pages, and backward) and
// ReadStream; returns an empty string or what went wrong.
std::string ReadEverything(Store* store, uint64_t events) {
  uint64_t expected = 0;
  ReadAllOptions page;
  page.max_count = 97;
  for (;;) {
    auto r = store->ReadAll(page);
    if (!r.ok()) return "ReadAll: " + r.status().ToString();
    for (const RecordedEvent& e : r->events) {
      if (e.position.value() != expected || e.data != Payload(expected)) {
        return "ReadAll: wrong event at position " + std::to_string(expected);
      }
      ++expected;
    }
    if (!r->next_position) break;
    page.from = r->next_position;
  }
  if (expected != events) {
    return "ReadAll: " + std::to_string(expected) + " events, expected " +
           std::to_string(events);
  }
  ReadAllOptions backward;
  backward.direction = Direction::kBackward;
  backward.max_count = events;
  auto back = store->ReadAll(backward);
  if (!back.ok()) return "ReadAll backward: " + back.status().ToString();
  if (back->events.size() != events || back->events.back().data != Payload(0)) {
    return "ReadAll backward: wrong events";
  }
  for (int s = 0; s < kStreams; ++s) {
    const std::string stream = "s-" + std::to_string(s);
    auto r = store->ReadStream(stream, testing::StreamUpTo(events));
    if (!r.ok()) return "ReadStream: " + r.status().ToString();
    uint64_t n = s;
    for (const RecordedEvent& e : r->events) {
      if (e.data != Payload(n)) return "ReadStream: wrong event in " + stream;
      n += kStreams;
    }
    if (r->events.size() != (events - s + kStreams - 1) / kStreams) {
      return "ReadStream: wrong count in " + stream;
    }
  }
  return "";
}

TEST(SegmentCacheTest, MappingsAndDescriptorsAreBoundedBySetting) {
  testing::TempDir dir;
  const std::string path = fs::canonical(dir.path()).string() + "/s";
  constexpr uint64_t kEvents = 60;
  Build(path, kEvents);
  ASSERT_GE(SegmentFiles(path), 25u);

  Options options = Tiny();
  options.max_open_segments = 4;
  auto store = Store::Open(path, options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(ReadEverything(store->get(), kEvents), "");
  // The active segment plus at most four sealed ones; only the active
  // segment keeps a descriptor.
  EXPECT_LE(MappedSegments(path), 5u);
  EXPECT_LE(OpenSegmentDescriptors(path), 1u);
  CAIRN_ASSERT_OK((*store)->Close());
  store->reset();

  // A read-only opener, which has no active segment, likewise.
  options.read_only = true;
  auto reader = Store::Open(path, options);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ(ReadEverything(reader->get(), kEvents), "");
  EXPECT_LE(MappedSegments(path), 4u);
  EXPECT_EQ(OpenSegmentDescriptors(path), 0u);
}

TEST(SegmentCacheTest, AReadKeepsAnEvictedSegmentValid) {
  testing::TempDir dir;
  const std::string path = dir.Sub("s");
  constexpr uint64_t kEvents = 40;
  Build(path, kEvents);
  Options options = Tiny();
  options.max_open_segments = 1;
  auto store = Store::Open(path, options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();

  // While the visitor holds a view into the first segment, reads of every
  // other segment evict it from the one-segment cache; the view must stay
  // readable and unchanged (an unmapped view would crash or read garbage).
  ReadAllOptions all;
  all.max_count = 2;
  std::vector<std::string> seen;
  auto again = (*store)->VisitAll(all, [&](const RecordedEventView& e) {
    std::string before(e.data);
    if (!ReadEverything(store->get(), kEvents).empty()) return false;
    seen.push_back(before == e.data ? std::string(e.data) : "changed");
    return true;
  });
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], Payload(0));
  EXPECT_EQ(seen[1], Payload(1));
}

TEST(SegmentCacheTest, ReadersRaceRollsAndEvictionsWithATinyCache) {
  testing::TempDir dir;
  Options options = Tiny();
  options.max_open_segments = 1;
  auto store = Store::Open(dir.Sub("s"), options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  constexpr uint64_t kEvents = 120;  // 60 segments, each roll seals one
  std::atomic<bool> done{false};
  std::vector<std::string> errors(3);
  std::vector<std::thread> readers;
  for (size_t t = 0; t < errors.size(); ++t) {
    readers.emplace_back([&, t] {
      while (!done.load() && errors[t].empty()) {
        ReadAllOptions all;
        all.max_count = kEvents;
        all.direction = t == 1 ? Direction::kBackward : Direction::kForward;
        auto r = (*store)->ReadAll(all);
        if (!r.ok()) {
          errors[t] = r.status().ToString();
          break;
        }
        for (const RecordedEvent& e : r->events) {
          if (e.data != Payload(e.position.value())) {
            errors[t] = "wrong data at " + std::to_string(e.position.value());
          }
        }
        auto s = (*store)->ReadStream(StreamOf(t), {});
        if (!s.ok() && !s.status().IsNotFound()) {
          errors[t] = s.status().ToString();
        }
      }
    });
  }
  for (uint64_t n = 0; n < kEvents; ++n) {
    auto r = (*store)->Append(StreamOf(n), ExpectedVersion::Any(),
                              {Event("E", Payload(n))});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  done = true;
  for (std::thread& t : readers) t.join();
  for (const std::string& e : errors) EXPECT_EQ(e, "");
  EXPECT_EQ(ReadEverything(store->get(), kEvents), "");
}

TEST(SegmentCacheTest, ThousandsOfSegmentsOpenAndReadUnderALowFileLimit) {
  testing::TempDir dir;
  const std::string path = dir.Sub("s");
  // 2 000 segments, far more than the 64 descriptors allowed below.
  constexpr uint64_t kEvents = 4000;
  Build(path, kEvents);
  ASSERT_GE(SegmentFiles(path), 1900u);

  // The limit is set in a child, so this process keeps its own.
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    rlimit limit{64, 64};
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) ::_exit(10);
    int code = 0;
    {
      auto store = Store::Open(path, Tiny());
      if (!store.ok()) {
        (void)std::fprintf(stderr, "open: %s\n",
                           store.status().ToString().c_str());
        ::_exit(1);
      }
      std::string error = ReadEverything(store->get(), kEvents);
      if (!error.empty()) {
        (void)std::fprintf(stderr, "writer: %s\n", error.c_str());
        code = 2;
      }
      // The writer appends and rolls on under the limit too.
      for (uint64_t n = kEvents; code == 0 && n < kEvents + 8; ++n) {
        if (!(*store)
                 ->Append(StreamOf(n), ExpectedVersion::Any(),
                          {Event("E", Payload(n))})
                 .ok()) {
          code = 3;
        }
      }
      if (!(*store)->Close().ok() && code == 0) code = 4;
    }
    if (code == 0) {
      Options ro = Tiny();
      ro.read_only = true;
      auto reader = Store::Open(path, ro);
      if (!reader.ok()) {
        (void)std::fprintf(stderr, "read-only open: %s\n",
                           reader.status().ToString().c_str());
        code = 5;
      } else {
        std::string error = ReadEverything(reader->get(), kEvents + 8);
        if (!error.empty()) {
          (void)std::fprintf(stderr, "reader: %s\n", error.c_str());
          code = 6;
        }
      }
    }
    ::_exit(code);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "1: open failed, 2: reads failed, 3: appends failed, 4: close "
         "failed, 5: read-only open failed, 6: read-only reads failed";
}

}  // namespace
}  // namespace cairn

// Copyright (c) Cairn authors.
#include "index/manifest.h"

#include <gtest/gtest.h>

#include "index/format.h"
#include "testing/fault_injection_file_system.h"
#include "testing/memory_file_system.h"
#include "tests/index/index_test_util.h"

namespace cairn::index {
namespace {

Manifest Sample() {
  Manifest m;
  m.store_id = 77;
  m.generation = 3;
  m.stream_hash_id = kStreamHashId;
  m.anchor_stride = 64;
  m.next_table_number = 10;
  m.tables.push_back({4, 0, 100, 100, 1, 5000});
  m.tables.push_back({9, 100, 150, 50, 0, 7000});
  return m;
}

TEST(ManifestTest, RoundTrip) {
  Manifest m = Sample();
  std::string bytes = EncodeManifest(m);
  Manifest back;
  ASSERT_TRUE(DecodeManifest(reinterpret_cast<const uint8_t*>(bytes.data()),
                             bytes.size(), "M", &back)
                  .ok());
  EXPECT_EQ(back, m);
  EXPECT_EQ(back.end_position(), 150u);
}

TEST(ManifestTest, EveryByteIsCovered) {
  std::string bytes = EncodeManifest(Sample());
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string damaged = bytes;
    damaged[i] ^= 0x01;
    Manifest out;
    Status s = DecodeManifest(reinterpret_cast<const uint8_t*>(damaged.data()),
                              damaged.size(), "M", &out);
    EXPECT_FALSE(s.ok()) << i;
  }
  Manifest out;
  EXPECT_TRUE(DecodeManifest(reinterpret_cast<const uint8_t*>(bytes.data()),
                             bytes.size() - 1, "M", &out)
                  .IsCorruption());
}

TEST(ManifestTest, UnknownVersionIsNotSupported) {
  std::string bytes = EncodeManifest(Sample());
  Put32(reinterpret_cast<uint8_t*>(bytes.data()) + 8, 2);
  Manifest out;
  EXPECT_TRUE(DecodeManifest(reinterpret_cast<const uint8_t*>(bytes.data()),
                             bytes.size(), "M", &out)
                  .code() == StatusCode::kNotSupported);
}

TEST(ManifestTest, GapsInTheTableRangesAreCorruption) {
  Manifest m = Sample();
  m.tables[1].first_position = 101;
  m.tables[1].entry_count = 49;
  std::string bytes = EncodeManifest(m);
  Manifest out;
  EXPECT_TRUE(DecodeManifest(reinterpret_cast<const uint8_t*>(bytes.data()),
                             bytes.size(), "M", &out)
                  .IsCorruption());
}

TEST(ManifestTest, ReplacementIsAtomicAcrossACrash) {
  Manifest a = Sample();
  Manifest b = a;
  b.generation = 4;
  b.tables.pop_back();
  // Lose power before each mutating file operation of the replacement in
  // turn: the manifest read afterwards is always a or b, whole.
  bool saw_a = false;
  bool saw_b = false;
  for (uint64_t cut = 1;; ++cut) {
    io::MemoryFileSystem base;
    ASSERT_TRUE(base.CreateDir("/i").ok());
    ASSERT_TRUE(base.SyncDir("/").ok());
    Manifest out;
    EXPECT_TRUE(ReadManifest(&base, "/i", &out).IsNotFound());
    ASSERT_TRUE(WriteManifest(&base, "/i", a).ok());
    io::FaultInjectionFileSystem fs(&base, 1);
    fs.set_crash_options(io::CrashOptions::LoseUnsynced());
    fs.CrashAtMutation(cut);
    Status s = WriteManifest(&fs, "/i", b);
    const bool cut_happened = fs.crashed_by_trigger();
    if (!cut_happened) {
      ASSERT_TRUE(s.ok());
      base.SimulateCrash();
    }
    ASSERT_TRUE(ReadManifest(&base, "/i", &out).ok()) << cut;
    EXPECT_TRUE(out == a || out == b) << cut;
    saw_a = saw_a || out == a;
    saw_b = saw_b || out == b;
    if (!cut_happened) {
      EXPECT_EQ(out, b);  // a completed replacement is durable
      break;
    }
  }
  EXPECT_TRUE(saw_a);
  EXPECT_TRUE(saw_b);
}

}  // namespace
}  // namespace cairn::index

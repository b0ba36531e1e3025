// Copyright (c) Cairn authors.
//
// The SCAVENGE commit file: what it encodes, that any damage or tear reads
// as "no commit", and the names of rewritten segment files.
#include "engine/src/scavenge_file.h"

#include <gtest/gtest.h>

#include <string>

#include "engine/src/small_file.h"
#include "testing/memory_file_system.h"

namespace cairn::engine {
namespace {

ScavengeCommit SampleCommit() {
  ScavengeCommit commit;
  commit.store_id = 1234567890123ULL;
  commit.units.push_back({3, 1, 8192, 0xdeadbeefcafef00dULL});
  commit.units.push_back({4, 2, 4096, 0x1ULL});
  commit.index_tables = {100, 900, {17, 18}};
  commit.link_tables = {64, 900, {9}};
  return commit;
}

TEST(ScavengeFileTest, EncodesAndDecodesEveryField) {
  const ScavengeCommit commit = SampleCommit();
  const std::string text = EncodeScavengeCommit(commit);
  EXPECT_EQ(text.rfind("cairn-scavenge 1\nstore 1234567890123\n", 0), 0u);
  EXPECT_NE(text.find("unit 3 1 8192 deadbeefcafef00d\n"), std::string::npos);
  EXPECT_NE(text.find("index 100 900 17 18\nlinks 64 900 9\n"),
            std::string::npos);
  auto decoded = DecodeScavengeCommit(text);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, commit);
}

TEST(ScavengeFileTest, ACommitWithNoUnitsOrTablesRoundTrips) {
  ScavengeCommit commit;
  commit.store_id = 7;
  auto decoded = DecodeScavengeCommit(EncodeScavengeCommit(commit));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, commit);
}

TEST(ScavengeFileTest, EveryTruncationReadsAsNoCommit) {
  const std::string text = EncodeScavengeCommit(SampleCommit());
  for (size_t size = 0; size + 1 < text.size(); ++size) {
    EXPECT_FALSE(DecodeScavengeCommit(text.substr(0, size)).has_value())
        << "prefix of " << size << " bytes";
  }
}

TEST(ScavengeFileTest, EveryChangedByteReadsAsNoCommit) {
  const std::string text = EncodeScavengeCommit(SampleCommit());
  for (size_t i = 0; i < text.size(); ++i) {
    std::string damaged = text;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x01);
    EXPECT_FALSE(DecodeScavengeCommit(damaged).has_value()) << "byte " << i;
  }
}

TEST(ScavengeFileTest, TrailingBytesAfterTheChecksumReadAsNoCommit) {
  std::string text = EncodeScavengeCommit(SampleCommit());
  text += "unit 5 1 1 1\n";
  EXPECT_FALSE(DecodeScavengeCommit(text).has_value());
}

TEST(ScavengeFileTest, FileHashDependsOnEveryByte) {
  EXPECT_NE(ScavengeFileHash("abc"), ScavengeFileHash("abd"));
  EXPECT_EQ(ScavengeFileHash("abc"), ScavengeFileHash(std::string("abc")));
}

TEST(ScavengeFileTest, AFileHashedInPiecesEqualsTheHashOfItsBytes) {
  io::MemoryFileSystem fs;
  ASSERT_TRUE(fs.CreateDir("/d").ok());
  std::string bytes;
  for (int i = 0; i < 5000; ++i) bytes += static_cast<char>(i * 7 + i / 13);
  ASSERT_TRUE(WriteFileSynced(&fs, "/d/f.scv", bytes).ok());
  std::string buffer;
  for (size_t piece : {size_t{1}, size_t{1000}, size_t{4096}, size_t{8192}}) {
    std::string seen;
    auto hash =
        ScavengeFileHashOf(&fs, "/d/f.scv", bytes.size(), piece, &buffer,
                           [&](uint64_t offset, std::string_view got) {
                             EXPECT_EQ(offset, seen.size());
                             EXPECT_LE(got.size(), piece);
                             seen += got;
                           });
    ASSERT_TRUE(hash.ok()) << hash.status().ToString();
    EXPECT_EQ(*hash, ScavengeFileHash(bytes)) << "piece " << piece;
    EXPECT_EQ(seen, bytes) << "piece " << piece;
  }
  // The buffer never grows beyond the largest piece asked for.
  EXPECT_LE(buffer.size(), size_t{8192});
}

TEST(ScavengeFileTest, AFileOfAnotherSizeIsCorruptionBeforeItIsRead) {
  io::MemoryFileSystem fs;
  ASSERT_TRUE(fs.CreateDir("/d").ok());
  ASSERT_TRUE(WriteFileSynced(&fs, "/d/f.scv", std::string(100, 'x')).ok());
  std::string buffer;
  for (uint64_t expected : {uint64_t{99}, uint64_t{101}, uint64_t{0}}) {
    bool read = false;
    auto hash =
        ScavengeFileHashOf(&fs, "/d/f.scv", expected, 4096, &buffer,
                           [&](uint64_t, std::string_view) { read = true; });
    EXPECT_TRUE(hash.status().IsCorruption()) << hash.status().ToString();
    EXPECT_FALSE(read);
  }
  EXPECT_TRUE(ScavengeFileHashOf(&fs, "/d/none.scv", 100, 4096, &buffer)
                  .status()
                  .IsNotFound());
}

}  // namespace
}  // namespace cairn::engine

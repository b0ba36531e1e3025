// Copyright (c) Cairn authors.
//
// The fault injector itself: the tests of the engine are only as good as
// the faults it really injects, so each fault is checked on raw files.
#include "testing/fault_injection_file_system.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "testing/memory_file_system.h"
#include "tests/support/store_test_util.h"

namespace cairn::io {
namespace {

std::string ReadAll(FileSystem* fs, const std::string& path) {
  auto file = fs->OpenFile(path, OpenMode::kReadOnly);
  if (!file.ok()) return "<" + file.status().ToString() + ">";
  auto size = (*file)->Size();
  std::string out(size.ok() ? *size : 0, '\0');
  size_t got = 0;
  (void)(*file)->Read(0, out.data(), out.size(), &got);
  out.resize(got);
  return out;
}

// A durable directory /d holding a durable, synced file /d/f of `size`
// zero bytes.
void MakeDurableFile(FileSystem* fs, size_t size) {
  CAIRN_ASSERT_OK(fs->CreateDir("/d"));
  CAIRN_ASSERT_OK(fs->SyncDir("/"));
  CAIRN_ASSERT_OK_AND_ASSIGN(file, fs->OpenFile("/d/f", OpenMode::kCreate));
  CAIRN_ASSERT_OK(file->Allocate(size));
  CAIRN_ASSERT_OK(file->Sync());
  CAIRN_ASSERT_OK(fs->SyncDir("/d"));
}

CrashOptions Only(double whole, double torn, double flip) {
  CrashOptions o;
  o.keep_whole = whole;
  o.keep_torn = torn;
  o.flip_bit = flip;
  o.persist_dir = 0;
  o.persist_shared = 0;
  return o;
}

TEST(FaultInjectionFileSystemTest, SyncedWritesSurviveAndUnsyncedAreDropped) {
  MemoryFileSystem memory;
  FaultInjectionFileSystem fs(&memory, 1);
  MakeDurableFile(&fs, 4096);
  fs.set_crash_options(Only(0, 0, 0));
  {
    CAIRN_ASSERT_OK_AND_ASSIGN(file, fs.OpenFile("/d/f", OpenMode::kReadWrite));
    CAIRN_ASSERT_OK(file->Write(0, "durable", 7));
    CAIRN_ASSERT_OK(file->Sync());
    CAIRN_ASSERT_OK(file->Write(100, "lost", 4));
  }
  CrashReport report = fs.Crash();
  EXPECT_EQ(report.unsynced_writes, 1u);
  EXPECT_EQ(report.dropped, 1u);
  fs.PowerOn();
  std::string bytes = ReadAll(&fs, "/d/f");
  ASSERT_EQ(bytes.size(), 4096u);
  EXPECT_EQ(bytes.substr(0, 7), "durable");
  EXPECT_EQ(bytes.substr(100, 4), std::string(4, '\0'));
}

TEST(FaultInjectionFileSystemTest, KeptUnsyncedWriteReachesThePlatter) {
  MemoryFileSystem memory;
  FaultInjectionFileSystem fs(&memory, 2);
  MakeDurableFile(&fs, 4096);
  fs.set_crash_options(Only(1, 0, 0));
  {
    CAIRN_ASSERT_OK_AND_ASSIGN(file, fs.OpenFile("/d/f", OpenMode::kReadWrite));
    CAIRN_ASSERT_OK(file->Write(100, "kept", 4));
  }
  EXPECT_EQ(fs.Crash().kept_whole, 1u);
  fs.PowerOn();
  EXPECT_EQ(ReadAll(&fs, "/d/f").substr(100, 4), "kept");
  // Kept bytes are durable now: a second crash does not lose them.
  fs.Crash();
  fs.PowerOn();
  EXPECT_EQ(ReadAll(&fs, "/d/f").substr(100, 4), "kept");
}

TEST(FaultInjectionFileSystemTest, TornWritesKeepWholeSectorsOnly) {
  int torn_runs = 0;
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    MemoryFileSystem memory;
    FaultInjectionFileSystem fs(&memory, seed);
    MakeDurableFile(&fs, 8192);
    fs.set_crash_options(Only(0, 1, 0));
    // 3000 bytes from offset 700: sectors [700,1024) [1024,1536) ...
    const std::string data(3000, 'x');
    {
      CAIRN_ASSERT_OK_AND_ASSIGN(file,
                                 fs.OpenFile("/d/f", OpenMode::kReadWrite));
      CAIRN_ASSERT_OK(file->Write(700, data.data(), data.size()));
    }
    CrashReport report = fs.Crash();
    fs.PowerOn();
    std::string bytes = ReadAll(&fs, "/d/f");
    size_t written = 0;
    for (uint64_t sector = 0; sector < 8192 / 512; ++sector) {
      const uint64_t begin = std::max<uint64_t>(sector * 512, 700);
      const uint64_t end = std::min<uint64_t>((sector + 1) * 512, 3700);
      if (begin >= end) continue;
      std::string piece = bytes.substr(begin, end - begin);
      // Each sector is wholly old or wholly new.
      bool all_new = piece == std::string(end - begin, 'x');
      bool all_old = piece == std::string(end - begin, '\0');
      EXPECT_TRUE(all_new || all_old)
          << "seed " << seed << " sector " << sector;
      if (all_new) written += piece.size();
    }
    EXPECT_LT(written, data.size()) << "seed " << seed;  // never whole
    if (report.torn == 1) ++torn_runs;
  }
  EXPECT_GT(torn_runs, 10);
}

TEST(FaultInjectionFileSystemTest, FlipsExactlyOneBitOfAKeptWrite) {
  MemoryFileSystem memory;
  FaultInjectionFileSystem fs(&memory, 3);
  MakeDurableFile(&fs, 4096);
  fs.set_crash_options(Only(1, 0, 1));
  const std::string data(1000, 'a');
  {
    CAIRN_ASSERT_OK_AND_ASSIGN(file, fs.OpenFile("/d/f", OpenMode::kReadWrite));
    CAIRN_ASSERT_OK(file->Write(0, data.data(), data.size()));
  }
  EXPECT_EQ(fs.Crash().bits_flipped, 1u);
  fs.PowerOn();
  std::string bytes = ReadAll(&fs, "/d/f").substr(0, data.size());
  int bits = 0;
  for (size_t i = 0; i < data.size(); ++i) {
    bits += __builtin_popcount(static_cast<uint8_t>(bytes[i] ^ data[i]));
  }
  EXPECT_EQ(bits, 1);
}

TEST(FaultInjectionFileSystemTest, NamesNeedADirectorySync) {
  for (double persist : {0.0, 1.0}) {
    MemoryFileSystem memory;
    FaultInjectionFileSystem fs(&memory, 4);
    CAIRN_ASSERT_OK(fs.CreateDir("/d"));
    CAIRN_ASSERT_OK(fs.SyncDir("/"));
    {
      CAIRN_ASSERT_OK_AND_ASSIGN(file,
                                 fs.OpenFile("/d/new", OpenMode::kCreate));
      CAIRN_ASSERT_OK(file->Write(0, "abc", 3));
      CAIRN_ASSERT_OK(file->Sync());  // data durable, name not
    }
    CrashOptions o = Only(1, 0, 0);
    o.persist_dir = persist;
    fs.set_crash_options(o);
    CrashReport report = fs.Crash();
    fs.PowerOn();
    if (persist == 0) {
      EXPECT_FALSE(fs.Exists("/d/new"));
    } else {
      EXPECT_EQ(report.dirs_persisted, 1u);
      EXPECT_EQ(ReadAll(&fs, "/d/new"), "abc");
    }
  }
}

TEST(FaultInjectionFileSystemTest, UnsyncedWritesToALostNameAreDropped) {
  MemoryFileSystem memory;
  FaultInjectionFileSystem fs(&memory, 5);
  CAIRN_ASSERT_OK(fs.CreateDir("/d"));
  CAIRN_ASSERT_OK(fs.SyncDir("/"));
  {
    CAIRN_ASSERT_OK_AND_ASSIGN(file, fs.OpenFile("/d/new", OpenMode::kCreate));
    CAIRN_ASSERT_OK(file->Write(0, "abc", 3));
  }
  fs.set_crash_options(Only(1, 0, 0));
  CrashReport report = fs.Crash();
  EXPECT_EQ(report.dropped, 1u);
  fs.PowerOn();
  EXPECT_FALSE(fs.Exists("/d/new"));
}

TEST(FaultInjectionFileSystemTest, SharedMappingsMayBeWrittenBack) {
  for (double persist : {0.0, 1.0}) {
    MemoryFileSystem memory;
    FaultInjectionFileSystem fs(&memory, 6);
    MakeDurableFile(&fs, 4096);
    CAIRN_ASSERT_OK_AND_ASSIGN(file, fs.OpenFile("/d/f", OpenMode::kReadWrite));
    CAIRN_ASSERT_OK_AND_ASSIGN(region, file->MapShared(4096));
    std::memcpy(region->data() + 8, "watermark", 9);
    CrashOptions o = Only(0, 0, 0);
    o.persist_shared = persist;
    fs.set_crash_options(o);
    fs.Crash();
    fs.PowerOn();
    EXPECT_EQ(ReadAll(&fs, "/d/f").substr(8, 9),
              persist == 0 ? std::string(9, '\0') : "watermark");
  }
}

TEST(FaultInjectionFileSystemTest, FailsTheNthOperationOfAKind) {
  MemoryFileSystem memory;
  FaultInjectionFileSystem fs(&memory, 7);
  MakeDurableFile(&fs, 4096);
  FaultRule rule;
  rule.op = FaultOp::kSync;
  rule.nth = 2;
  fs.AddRule(rule);
  rule.op = FaultOp::kWrite;
  rule.nth = 3;
  rule.error = FaultError::kNoSpace;
  fs.AddRule(rule);
  CAIRN_ASSERT_OK_AND_ASSIGN(file, fs.OpenFile("/d/f", OpenMode::kReadWrite));
  EXPECT_TRUE(file->Sync().ok());
  Status failed = file->Sync();
  EXPECT_TRUE(failed.IsIOError());
  EXPECT_EQ(failed.errno_value(), EIO);
  EXPECT_NE(failed.ToString().find("injected"), std::string::npos);
  EXPECT_TRUE(file->Sync().ok());  // not sticky
  EXPECT_TRUE(file->Write(0, "a", 1).ok());
  EXPECT_TRUE(file->Write(0, "a", 1).ok());
  EXPECT_TRUE(file->Write(0, "a", 1).IsNoSpace());
  EXPECT_TRUE(file->Write(0, "a", 1).ok());
  EXPECT_EQ(fs.count(FaultOp::kWrite), 4u);
  EXPECT_EQ(fs.count(FaultOp::kSync), 4u);  // one in MakeDurableFile
  EXPECT_EQ(fs.faults_injected(), 2u);
}

// Linux after a failed fdatasync: the file's unsynced writes never reach
// the device, stay readable in the cache (clean) until it drops them, and
// no later sync and no crash brings them back.
TEST(FaultInjectionFileSystemTest, FailedSyncLosesThePendingWrites) {
  for (bool drop_first : {false, true}) {
    SCOPED_TRACE(drop_first ? "cache dropped" : "power loss");
    MemoryFileSystem memory;
    FaultInjectionFileSystem fs(&memory, 9);
    MakeDurableFile(&fs, 8);
    fs.set_crash_options(Only(1, 0, 0));  // a crash would keep every write
    CAIRN_ASSERT_OK_AND_ASSIGN(file, fs.OpenFile("/d/f", OpenMode::kReadWrite));
    CAIRN_ASSERT_OK(file->Write(0, "lost", 4));
    FaultRule rule;
    rule.op = FaultOp::kSync;
    fs.AddRule(rule);
    EXPECT_TRUE(file->Sync().IsIOError());
    EXPECT_EQ(ReadAll(&fs, "/d/f"), std::string("lost\0\0\0\0", 8));
    // A later, successful sync (a reopen's, say) does not persist them.
    CAIRN_ASSERT_OK_AND_ASSIGN(again,
                               fs.OpenFile("/d/f", OpenMode::kReadWrite));
    CAIRN_ASSERT_OK(again->Write(6, "ok", 2));
    CAIRN_ASSERT_OK(again->Sync());
    if (drop_first) {
      CAIRN_ASSERT_OK(again->DropCache(0, 8));
      EXPECT_EQ(ReadAll(&fs, "/d/f"), std::string("\0\0\0\0\0\0ok", 8));
    }
    fs.Crash();
    fs.PowerOn();
    EXPECT_EQ(ReadAll(&fs, "/d/f"), std::string("\0\0\0\0\0\0ok", 8));
  }
}

TEST(FaultInjectionFileSystemTest, StickyFaultsAndPathFilters) {
  MemoryFileSystem memory;
  FaultInjectionFileSystem fs(&memory, 8);
  MakeDurableFile(&fs, 4096);
  FaultRule rule;
  rule.op = FaultOp::kAllocate;
  rule.error = FaultError::kNoSpace;
  rule.sticky = true;
  rule.path_suffix = ".seg";
  fs.AddRule(rule);
  CAIRN_ASSERT_OK_AND_ASSIGN(other, fs.OpenFile("/d/f", OpenMode::kReadWrite));
  EXPECT_TRUE(other->Allocate(8192).ok());
  CAIRN_ASSERT_OK_AND_ASSIGN(seg, fs.OpenFile("/d/1.seg", OpenMode::kCreate));
  EXPECT_TRUE(seg->Allocate(8192).IsNoSpace());
  EXPECT_TRUE(seg->Allocate(8192).IsNoSpace());
  fs.ClearFaults();  // space was freed
  EXPECT_TRUE(seg->Allocate(8192).ok());
}

TEST(FaultInjectionFileSystemTest, PartialWriteAppliesAPrefixBeforeFailing) {
  bool saw_prefix = false;
  for (uint64_t seed = 1; seed <= 20 && !saw_prefix; ++seed) {
    MemoryFileSystem memory;
    FaultInjectionFileSystem fs(&memory, seed);
    MakeDurableFile(&fs, 4096);
    FaultRule rule;
    rule.op = FaultOp::kWrite;
    rule.error = FaultError::kNoSpace;
    rule.partial_write = true;
    fs.AddRule(rule);
    CAIRN_ASSERT_OK_AND_ASSIGN(file, fs.OpenFile("/d/f", OpenMode::kReadWrite));
    const std::string data(1000, 'p');
    EXPECT_TRUE(file->Write(0, data.data(), data.size()).IsNoSpace());
    std::string bytes = ReadAll(&fs, "/d/f").substr(0, data.size());
    size_t prefix = bytes.find('\0');
    ASSERT_NE(prefix, std::string::npos);  // never the whole write
    EXPECT_EQ(bytes.substr(0, prefix), std::string(prefix, 'p'));
    saw_prefix = prefix > 0;
  }
  EXPECT_TRUE(saw_prefix);
}

TEST(FaultInjectionFileSystemTest, CrashTriggerStopsTheMachineUntilPowerOn) {
  MemoryFileSystem memory;
  FaultInjectionFileSystem fs(&memory, 9);
  MakeDurableFile(&fs, 4096);
  fs.set_crash_options(Only(0, 0, 0));
  CAIRN_ASSERT_OK_AND_ASSIGN(file, fs.OpenFile("/d/f", OpenMode::kReadWrite));
  fs.CrashAtMutation(3);
  EXPECT_TRUE(file->Write(0, "1", 1).ok());
  EXPECT_TRUE(file->Sync().ok());
  EXPECT_FALSE(file->Write(1, "2", 1).ok());  // the crash happens here
  EXPECT_TRUE(fs.crashed_by_trigger());
  EXPECT_FALSE(fs.Exists("/d/f"));
  EXPECT_FALSE(fs.OpenFile("/d/f", OpenMode::kReadOnly).ok());
  fs.PowerOn();
  EXPECT_FALSE(file->Write(1, "2", 1).ok());  // stale handle
  EXPECT_EQ(ReadAll(&fs, "/d/f").substr(0, 2), std::string("1\0", 2));
}

TEST(FaultInjectionFileSystemTest, SameSeedSameOutcome) {
  auto run = [](uint64_t seed) {
    MemoryFileSystem memory;
    FaultInjectionFileSystem fs(&memory, seed);
    MakeDurableFile(&fs, 1 << 16);
    {
      auto file = fs.OpenFile("/d/f", OpenMode::kReadWrite);
      for (int i = 0; i < 40; ++i) {
        std::string data(700 + i * 13, static_cast<char>('a' + i % 26));
        (void)(*file)->Write(i * 1500, data.data(), data.size());
      }
    }
    CrashReport report = fs.Crash();
    fs.PowerOn();
    return ReadAll(&fs, "/d/f") + report.ToString();
  };
  EXPECT_EQ(run(42), run(42));
  EXPECT_NE(run(42), run(43));
}

}  // namespace
}  // namespace cairn::io

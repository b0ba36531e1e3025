// Copyright (c) Cairn authors.
//
// Index tables over scavenged segments: staging rewritten tables, installing
// them on an open index and on a closed directory (idempotently), a crash
// between the two, lookups by stream, revision and position across the
// gaps, and merges of tables with gaps.
#include "index/table_rewrite.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "index/persistent_index.h"
#include "testing/memory_file_system.h"
#include "tests/index/index_test_util.h"

namespace cairn::index {
namespace {

using testing::FakeLog;

constexpr uint64_t kStore = 0xabcdef;
constexpr char kDir[] = "/store/index";
// The fake log's segments hold positions [100 k, 100 k + 100).
constexpr uint64_t kSegment = 100;

// A scavenge of the segments holding positions [first, end) of `log`,
// removing the events `removed` names but never a stream's last event (the
// engine's rule). Kept records get new offsets, packed from 4096 in steps
// of 9 (never an original offset, which are 4096 + 7 p).
class FakeScavenge {
 public:
  FakeScavenge(FakeLog* log, uint64_t first, uint64_t end,
               const std::function<bool(uint64_t)>& removed)
      : first_(first), end_(end) {
    std::map<std::string, uint64_t> last;
    for (uint64_t p = 0; p < log->names.size(); ++p) last[log->names[p]] = p;
    for (uint64_t seg = first; seg < end; seg += kSegment) {
      uint32_t next = 4096;
      for (uint64_t p = seg; p < seg + kSegment; ++p) {
        if (removed(p) && last[log->names[p]] != p) {
          log->moved[p] = std::nullopt;
        } else {
          log->moved[p] = next;
          next += 9;
        }
      }
      segment_end_[seg] = next;
    }
    log_ = log;
  }

  // The anchor of `p`: the first kept record at or after it in its segment.
  uint32_t Anchor(uint64_t p) const {
    const uint64_t seg = p / kSegment * kSegment;
    for (uint64_t q = p; q < seg + kSegment; ++q) {
      if (auto offset = log_->CurrentOffset(q)) return *offset;
    }
    return segment_end_.at(seg);
  }

  PositionRemap Remap() const {
    PositionRemap remap;
    remap.offset = [this](uint64_t p) {
      EXPECT_TRUE(p >= first_ && p < end_) << p;
      return log_->CurrentOffset(p);
    };
    remap.anchor = [this](uint64_t p) {
      EXPECT_TRUE(p >= first_ && p < end_) << p;
      return Anchor(p);
    };
    return remap;
  }

  bool Rewritten(uint64_t p) const { return p >= first_ && p < end_; }

 private:
  FakeLog* log_;
  uint64_t first_;
  uint64_t end_;
  std::map<uint64_t, uint32_t> segment_end_;
};

// Every answer of `index` against the log after `scavenge` (null: none).
void ExpectMatches(const PersistentIndex& index, const FakeLog& log,
                   const FakeScavenge* scavenge) {
  std::map<std::string, std::vector<uint64_t>> kept;  // positions
  std::map<std::string, uint64_t> revisions;
  for (uint64_t p = 0; p < log.names.size(); ++p) {
    ++revisions[log.names[p]];
    if (log.CurrentOffset(p)) kept[log.names[p]].push_back(p);
  }
  for (const auto& [name, positions] : kept) {
    SCOPED_TRACE(name);
    auto last = index.LastRevision(name);
    ASSERT_TRUE(last.ok()) << last.status().ToString();
    ASSERT_EQ(*last, std::optional<uint64_t>(revisions[name] - 1));
    std::vector<IndexedEvent> events;
    Status s = index.Read(name, 0, Direction::kForward, UINT64_MAX, &events);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_EQ(events.size(), positions.size());
    for (size_t i = 0; i < positions.size(); ++i) {
      EXPECT_EQ(events[i].position, positions[i]);
      EXPECT_EQ(events[i].revision, log.revisions[positions[i]]);
      EXPECT_EQ(std::optional<uint32_t>(events[i].offset),
                log.CurrentOffset(positions[i]));
      EXPECT_EQ(events[i].id_tag, IdTag(log.ids[positions[i]]));
    }
    // Pages of two, forward from every revision and backward from the
    // last: each lands on the next kept revisions.
    for (uint64_t from = 0; from < revisions[name]; ++from) {
      auto next =
          std::find_if(positions.begin(), positions.end(),
                       [&](uint64_t p) { return log.revisions[p] >= from; });
      std::vector<IndexedEvent> page;
      ASSERT_TRUE(index.Read(name, from, Direction::kForward, 2, &page).ok());
      ASSERT_EQ(page.size(), std::min<size_t>(2, positions.end() - next));
      for (size_t i = 0; i < page.size(); ++i) {
        EXPECT_EQ(page[i].position, next[static_cast<ptrdiff_t>(i)]);
      }
      auto found = index.Find(name, from);
      ASSERT_TRUE(found.ok());
      const bool is_kept =
          next != positions.end() && log.revisions[*next] == from;
      ASSERT_EQ(found->has_value(), is_kept) << from;
      if (is_kept) {
        EXPECT_EQ((*found)->position, *next);
      }
    }
    std::vector<IndexedEvent> back;
    ASSERT_TRUE(
        index.Read(name, UINT64_MAX, Direction::kBackward, 3, &back).ok());
    ASSERT_EQ(back.size(), std::min<size_t>(3, positions.size()));
    for (size_t i = 0; i < back.size(); ++i) {
      EXPECT_EQ(back[i].position, positions[positions.size() - 1 - i]);
    }
  }
  const uint32_t stride = index.anchor_stride();
  for (uint64_t p = 0; p < log.names.size(); p += stride) {
    const uint32_t expected = scavenge != nullptr && scavenge->Rewritten(p)
                                  ? scavenge->Anchor(p)
                                  : FakeLog::OffsetOf(p);
    EXPECT_EQ(index.Anchor(p), std::optional<uint32_t>(expected)) << p;
  }
}

class TableRewriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs_.CreateDir("/store").ok());
    ASSERT_TRUE(fs_.SyncDir("/").ok());
    options_ = testing::SmallInlineOptions();
  }

  Status Open() {
    index_.reset();
    auto opened = PersistentIndex::Open(&fs_, kDir, kStore, 0, options_,
                                        log_.Reader(), nullptr);
    if (!opened.ok()) return opened.status();
    index_ = std::move(opened.value());
    return log_.Feed(index_.get(), index_->next_position(), log_.names.size());
  }

  // `n` events over a few streams, a new stream now and then.
  void Append(uint64_t n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    for (uint64_t i = 0; i < n; ++i) {
      const uint64_t p = log_.names.size();
      // Built by appending: g++ 12 at -O2 reports a false -Wrestrict
      // overlap for `"s" + std::to_string(n)` (GCC bug 105651).
      const uint64_t r = rng() % 6;
      std::string name(p % 37 == 0 ? "new-" : "s");
      name += std::to_string(p % 37 == 0 ? p : r);
      log_.Append(name);
      Status s = log_.Feed(index_.get(), p, p + 1);
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
  }

  std::vector<uint64_t> TableNumbers() {
    std::vector<uint64_t> numbers;
    for (const auto& t : index_->Stats().tables) numbers.push_back(t.number);
    return numbers;
  }

  std::shared_ptr<Table> OpenTable(uint64_t number) {
    auto t = Table::Open(&fs_, io::JoinPath(kDir, TableFileName(number)),
                         kStore, number, options_.anchor_stride);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? *t : nullptr;
  }

  // Every listed table verifies; the number of them with gaps.
  size_t VerifyTables() {
    size_t with_gaps = 0;
    for (uint64_t n : TableNumbers()) {
      auto t = OpenTable(n);
      if (t == nullptr) continue;
      Status s = t->VerifyAll();
      EXPECT_TRUE(s.ok()) << s.ToString();
      with_gaps += t->info().has_gaps();
    }
    return with_gaps;
  }

  void ReplayEndingInAHole(bool background, bool reopen);

  io::MemoryFileSystem fs_;
  FakeLog log_;
  IndexOptions options_;
  std::unique_ptr<PersistentIndex> index_;
};

bool RemoveMost(uint64_t p) { return p % 3 != 0; }

TEST_F(TableRewriteTest, StageChangesNothingUntilInstalled) {
  ASSERT_TRUE(Open().ok());
  Append(500, 1);
  const auto before = TableNumbers();
  const uint64_t checkpoint = index_->Stats().checkpoint;
  ASSERT_GE(checkpoint, 300u);

  auto pause = index_->PauseMerges();
  FakeScavenge scavenge(&log_, 100, 300, RemoveMost);
  StagedTables staged;
  Status s = index_->StageRewrite(100, 300, scavenge.Remap(), &staged);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_LE(staged.first_position, 100u);
  EXPECT_GE(staged.end_position, 300u);
  EXPECT_FALSE(staged.numbers.empty());
  EXPECT_EQ(TableNumbers(), before);  // lookups still see the old tables
  for (uint64_t n : staged.numbers) {
    EXPECT_TRUE(fs_.Exists(io::JoinPath(kDir, TableFileName(n))));
  }

  s = index_->InstallRewrite(staged);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectMatches(*index_, log_, &scavenge);
  EXPECT_GT(VerifyTables(), 0u);
  const auto after = TableNumbers();
  for (uint64_t n : before) {
    const bool kept = std::find(after.begin(), after.end(), n) != after.end();
    EXPECT_EQ(fs_.Exists(io::JoinPath(kDir, TableFileName(n))), kept) << n;
  }
  // Installing again changes nothing.
  ASSERT_TRUE(index_->InstallRewrite(staged).ok());

  // Reopened from the files.
  ASSERT_TRUE(index_->Close().ok());
  { auto released = std::move(pause); }
  ASSERT_TRUE(Open().ok());
  EXPECT_EQ(index_->open_note(), "");
  ExpectMatches(*index_, log_, &scavenge);
  // The last kept event of the tables is what the engine checks.
  ASSERT_TRUE(index_->loaded_last_position().has_value());
  EXPECT_EQ(log_.CurrentOffset(*index_->loaded_last_position()),
            index_->loaded_last_offset());
}

// The two steps the engine takes: listed in the manifest first, while
// lookups still read the old tables; published later, without I/O.
TEST_F(TableRewriteTest, ListedTablesServeLookupsOnlyOncePublished) {
  ASSERT_TRUE(Open().ok());
  Append(500, 1);
  const auto before = TableNumbers();
  auto pause = index_->PauseMerges();
  FakeScavenge scavenge(&log_, 100, 300, RemoveMost);
  StagedTables staged;
  ASSERT_TRUE(index_->StageRewrite(100, 300, scavenge.Remap(), &staged).ok());

  PersistentIndex::ListedRewrite listed;
  Status s = index_->ListRewrite(staged, &listed);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(TableNumbers(), before);
  for (uint64_t n : before) {
    EXPECT_TRUE(fs_.Exists(io::JoinPath(kDir, TableFileName(n)))) << n;
  }
  // Listing again finds them listed and has nothing to publish.
  PersistentIndex::ListedRewrite again;
  ASSERT_TRUE(index_->ListRewrite(staged, &again).ok());
  index_->PublishRewrite(&again);
  EXPECT_EQ(TableNumbers(), before);

  index_->PublishRewrite(&listed);
  const auto after = TableNumbers();
  EXPECT_NE(after, before);
  ExpectMatches(*index_, log_, &scavenge);
  // The replaced files stay until RemoveReplaced (a reader may hold them).
  for (uint64_t n : before) {
    EXPECT_TRUE(fs_.Exists(io::JoinPath(kDir, TableFileName(n)))) << n;
  }
  index_->RemoveReplaced(&listed);
  for (uint64_t n : before) {
    const bool kept = std::find(after.begin(), after.end(), n) != after.end();
    EXPECT_EQ(fs_.Exists(io::JoinPath(kDir, TableFileName(n))), kept) << n;
  }
  ASSERT_TRUE(index_->Close().ok());
  { auto released = std::move(pause); }
  ASSERT_TRUE(Open().ok());
  EXPECT_EQ(index_->open_note(), "");
  ExpectMatches(*index_, log_, &scavenge);
}

// Every stream on one hash: where a stream's revision was removed, another
// stream's entry of that revision must not stand in for it.
TEST_F(TableRewriteTest, CollidingStreamsAcrossGaps) {
  options_.stream_hash = [](std::string_view) { return uint64_t{42}; };
  ASSERT_TRUE(Open().ok());
  Append(300, 9);
  FakeScavenge scavenge(&log_, 0, 200, RemoveMost);
  auto pause = index_->PauseMerges();
  StagedTables staged;
  ASSERT_TRUE(index_->StageRewrite(0, 200, scavenge.Remap(), &staged).ok());
  ASSERT_TRUE(index_->InstallRewrite(staged).ok());
  ExpectMatches(*index_, log_, &scavenge);
  ASSERT_TRUE(index_->Close().ok());
}

TEST_F(TableRewriteTest, TablesWithGapsMergeAndKeepAnswering) {
  ASSERT_TRUE(Open().ok());
  Append(400, 2);
  FakeScavenge scavenge(&log_, 0, 300, RemoveMost);
  {
    auto pause = index_->PauseMerges();
    const uint64_t merges = index_->Stats().merges;
    StagedTables staged;
    ASSERT_TRUE(index_->StageRewrite(0, 300, scavenge.Remap(), &staged).ok());
    ASSERT_TRUE(index_->InstallRewrite(staged).ok());
    // Appends while paused leave merges due but not run.
    Append(300, 3);
    EXPECT_EQ(index_->Stats().merges, merges);
  }
  const uint64_t merges = index_->Stats().merges;
  Append(600, 4);  // merges resume, tables with gaps among their inputs
  EXPECT_GT(index_->Stats().merges, merges);
  ExpectMatches(*index_, log_, &scavenge);
  VerifyTables();
  ASSERT_TRUE(index_->Close().ok());
  ASSERT_TRUE(Open().ok());
  ExpectMatches(*index_, log_, &scavenge);
}

// A rebuild replays the scavenged log: kept records are added, each hole
// (within one segment) skipped with its anchor, and stream revisions jump
// over removed events. The result answers as the rewritten tables do.
TEST_F(TableRewriteTest, AReplayAcrossTheHolesBuildsTheSameIndex) {
  ASSERT_TRUE(Open().ok());
  Append(500, 11);
  FakeScavenge scavenge(&log_, 0, 300, RemoveMost);
  ASSERT_TRUE(index_->Reset(0).ok());
  const uint64_t end = log_.names.size();
  for (uint64_t p = 0; p < end;) {
    if (auto offset = log_.CurrentOffset(p)) {
      Status s = index_->Add(log_.names[p], log_.revisions[p], p, *offset,
                             log_.ids[p]);
      ASSERT_TRUE(s.ok()) << p << ": " << s.ToString();
      ++p;
      continue;
    }
    uint64_t q = p;
    const uint64_t segment_end = (p / kSegment + 1) * kSegment;
    while (q < segment_end && !log_.CurrentOffset(q)) ++q;
    Status s = index_->SkipRemoved(q, scavenge.Anchor(p));
    ASSERT_TRUE(s.ok()) << p << ": " << s.ToString();
    p = q;
  }
  EXPECT_EQ(index_->SkipRemoved(end, 0).code(), StatusCode::kInvalidArgument);
  ExpectMatches(*index_, log_, &scavenge);
  ASSERT_TRUE(index_->Close().ok());
  ASSERT_TRUE(Open().ok());
  EXPECT_EQ(index_->open_note(), "");
  ExpectMatches(*index_, log_, &scavenge);
  EXPECT_GT(VerifyTables(), 0u);
}

// A replay whose last step skips a hole right after the in-memory table
// filled (or right after the open's tables): the active table then holds
// no entries but covers the hole. A scavenge's seal must still get tables
// listed up to the hole's end, which its later steps rely on.
void TableRewriteTest::ReplayEndingInAHole(bool background, bool reopen) {
  options_.background = background;
  ASSERT_TRUE(Open().ok());
  Append(200, 13);  // four in-memory tables' worth (50 each)
  if (reopen) {
    ASSERT_TRUE(index_->Close().ok());
    ASSERT_TRUE(Open().ok());
  }
  index_->WaitIdle();
  ASSERT_EQ(index_->Stats().checkpoint, 200u);
  ASSERT_EQ(index_->Stats().memtable_entries, 0u);
  // Positions [200, 300) were removed, up to the end of the log. Skipped
  // a stride at a time, each with its own offset as the anchor, so that
  // ExpectMatches finds them.
  for (uint64_t p = 200; p < 300; ++p) {
    log_.Append("gone");
    log_.moved[p] = std::nullopt;
  }
  const uint32_t stride = options_.anchor_stride;
  for (uint64_t p = 200; p < 300; p += stride) {
    Status s = index_->SkipRemoved(std::min<uint64_t>(p + stride, 300),
                                   FakeLog::OffsetOf(p));
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  ASSERT_EQ(index_->next_position(), 300u);

  // The scavenge's seal and wait (Store::Scavenge).
  index_->FreezeBelow(300);
  index_->WaitIdle();
  const std::atomic<bool> stopped{true};  // no waiting: listed already
  Status s = index_->WaitListed(300, &stopped);
  ASSERT_TRUE(s.ok()) << s.ToString();
  IndexStats stats = index_->Stats();
  EXPECT_EQ(stats.checkpoint, 300u);
  ASSERT_FALSE(stats.tables.empty());
  EXPECT_EQ(stats.tables.back().first_position, 200u);
  EXPECT_EQ(stats.tables.back().end_position, 300u);
  EXPECT_EQ(stats.tables.back().entries, 0u);
  EXPECT_GE(VerifyTables(), 1u);

  // Its rewrite below, and a reopen that replays nothing.
  FakeScavenge scavenge(&log_, 0, 200, RemoveMost);
  {
    auto pause = index_->PauseMerges();
    StagedTables staged;
    s = index_->StageRewrite(0, 200, scavenge.Remap(), &staged);
    ASSERT_TRUE(s.ok()) << s.ToString();
    s = index_->InstallRewrite(staged);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  ExpectMatches(*index_, log_, &scavenge);
  ASSERT_TRUE(index_->Close().ok());
  ASSERT_TRUE(Open().ok());
  EXPECT_EQ(index_->open_note(), "");
  EXPECT_EQ(index_->next_position(), 300u);
  uint64_t last_kept = 199;
  while (!log_.CurrentOffset(last_kept)) --last_kept;
  EXPECT_EQ(index_->loaded_last_position(), std::optional<uint64_t>(last_kept));
  ExpectMatches(*index_, log_, &scavenge);
  ASSERT_TRUE(index_->Close().ok());
}

TEST_F(TableRewriteTest, AHoleSkippedAfterAFullTableIsListedInline) {
  ReplayEndingInAHole(/*background=*/false, /*reopen=*/false);
}

TEST_F(TableRewriteTest, AHoleSkippedAfterAFullTableIsListedInBackground) {
  ReplayEndingInAHole(/*background=*/true, /*reopen=*/false);
}

TEST_F(TableRewriteTest, AHoleSkippedRightAfterTheOpenIsListed) {
  ReplayEndingInAHole(/*background=*/false, /*reopen=*/true);
}

TEST_F(TableRewriteTest, EveryEventOfATableRemoved) {
  ASSERT_TRUE(Open().ok());
  // Streams of one event each in [0, 200), then the ones that stay.
  for (uint64_t p = 0; p < 200; ++p) {
    std::string name("gone-");  // appended: see Append (GCC bug 105651)
    name += std::to_string(p);
    log_.Append(name);
  }
  ASSERT_TRUE(log_.Feed(index_.get(), 0, 200).ok());
  Append(200, 5);
  // Every event of [0, 200) removed, even streams' last ones.
  for (uint64_t p = 0; p < 200; ++p) log_.moved[p] = std::nullopt;
  PositionRemap remap;
  remap.offset = [](uint64_t) { return std::optional<uint32_t>(); };
  remap.anchor = [](uint64_t) { return uint32_t{4096}; };
  auto pause = index_->PauseMerges();
  StagedTables staged;
  ASSERT_TRUE(index_->StageRewrite(0, 200, remap, &staged).ok());
  ASSERT_TRUE(index_->InstallRewrite(staged).ok());
  size_t empty = 0;
  for (uint64_t n : staged.numbers) {
    auto t = OpenTable(n);
    ASSERT_NE(t, nullptr);
    EXPECT_TRUE(t->VerifyAll().ok());
    if (t->info().entry_count == 0) {
      ++empty;
      EXPECT_EQ(t->info().last_position, 0u);
      EXPECT_EQ(t->info().last_offset, 0u);
    }
  }
  EXPECT_GT(empty, 0u);
  auto gone = index_->LastRevision("gone-5");
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value());
  ASSERT_TRUE(index_->Close().ok());
}

TEST_F(TableRewriteTest, CrashBetweenStageAndInstallLeavesTheOldIndex) {
  ASSERT_TRUE(Open().ok());
  Append(400, 6);
  const auto before = TableNumbers();
  FakeLog original = log_;
  {
    auto pause = index_->PauseMerges();
    FakeScavenge scavenge(&log_, 100, 200, RemoveMost);
    StagedTables staged;
    ASSERT_TRUE(index_->StageRewrite(100, 200, scavenge.Remap(), &staged).ok());
    fs_.SimulateCrash();
    // A pause must not outlive its index (MergePause).
    { auto released = std::move(pause); }
    index_.reset();
  }
  // No commit: the log keeps its records, the staged tables are garbage.
  log_.moved.clear();
  ASSERT_TRUE(Open().ok());
  std::vector<uint64_t> after = TableNumbers();
  after.resize(std::min(after.size(), before.size()));
  EXPECT_EQ(after, std::vector<uint64_t>(before.begin(),
                                         before.begin() + after.size()));
  auto names = fs_.ListDir(kDir);
  ASSERT_TRUE(names.ok());
  const auto listed = TableNumbers();
  for (const std::string& name : *names) {
    auto number = ParseTableFileName(name);
    if (!number) continue;
    EXPECT_TRUE(std::find(listed.begin(), listed.end(), *number) !=
                listed.end())
        << name;
  }
  ExpectMatches(*index_, log_, nullptr);
}

TEST_F(TableRewriteTest, InstallOnAClosedDirectoryIsIdempotent) {
  ASSERT_TRUE(Open().ok());
  Append(500, 7);
  FakeScavenge scavenge(&log_, 200, 400, RemoveMost);
  StagedTables staged;
  {
    auto pause = index_->PauseMerges();
    ASSERT_TRUE(index_->StageRewrite(200, 400, scavenge.Remap(), &staged).ok());
    // The crash comes after the commit (the engine's SCAVENGE file) and
    // before the install.
    fs_.SimulateCrash();
    // A pause must not outlive its index (MergePause).
    { auto released = std::move(pause); }
    index_.reset();
  }
  // Not installed: installed now. Then again: nothing to do.
  Status s = InstallStagedTables(&fs_, kDir, staged);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE(InstallStagedTables(&fs_, kDir, staged).ok());
  // A crash right after: the manifest write was durable.
  fs_.SimulateCrash();
  ASSERT_TRUE(InstallStagedTables(&fs_, kDir, staged).ok());
  ASSERT_TRUE(Open().ok());
  EXPECT_EQ(index_->open_note(), "");
  ExpectMatches(*index_, log_, &scavenge);
  ASSERT_TRUE(index_->Close().ok());
  // Installed by the open index already: the closed install is a no-op.
  ASSERT_TRUE(InstallStagedTables(&fs_, kDir, staged).ok());
}

TEST_F(TableRewriteTest, InstallRefusesWhatDoesNotFit) {
  ASSERT_TRUE(Open().ok());
  Append(400, 8);
  FakeScavenge scavenge(&log_, 100, 200, RemoveMost);
  StagedTables staged;
  // Without a pause, or past the tables' end.
  EXPECT_EQ(index_->StageRewrite(100, 200, scavenge.Remap(), &staged).code(),
            StatusCode::kInvalidArgument);
  auto pause = index_->PauseMerges();
  EXPECT_EQ(index_->StageRewrite(100, 100000, scavenge.Remap(), &staged).code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(index_->StageRewrite(100, 200, scavenge.Remap(), &staged).ok());
  // A staged table lost: Corruption, and the index is unchanged.
  const auto before = TableNumbers();
  ASSERT_TRUE(
      fs_.RemoveFile(io::JoinPath(kDir, TableFileName(staged.numbers.front())))
          .ok());
  EXPECT_TRUE(index_->InstallRewrite(staged).IsCorruption());
  EXPECT_EQ(TableNumbers(), before);
  // A range the manifest's tables do not start at.
  StagedTables shifted = staged;
  shifted.first_position += 1;
  ASSERT_TRUE(index_->Close().ok());
  EXPECT_TRUE(InstallStagedTables(&fs_, kDir, shifted).IsCorruption());
}

}  // namespace
}  // namespace cairn::index

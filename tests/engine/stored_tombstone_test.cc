// Copyright (c) Cairn authors.
//
// IsStoredTombstone over the log and index of a closed store: the record's
// answer when the stream cache does not know, then the cache's; an index
// that lacks the revision is Corruption, not a guess.
#include "engine/src/stored_tombstone.h"

#include <gtest/gtest.h>

#include <string>

#include "cairn/cairn.h"
#include "engine/src/record_locator.h"
#include "tests/engine/recovered_log.h"
#include "tests/support/store_test_util.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using engine::IsStoredTombstone;

TEST(StoredTombstoneTest, TheLastRecordSaysWhetherAStreamWasTombstoned) {
  testing::TempDir tmp;
  const std::string dir = tmp.Sub("store");
  Options options = testing::SmallOptions();
  {
    auto store = Store::Open(dir, options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    for (const char* stream : {"live", "gone"}) {
      auto r =
          (*store)->Append(stream, ExpectedVersion::Any(), testing::Events(2));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
    auto deleted = (*store)->Tombstone("gone", ExpectedVersion::Any());
    ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
    CAIRN_ASSERT_OK((*store)->Close());
  }
  // The log and a stream index rebuilt from it: its stream cache learns
  // nothing of tombstones from a replay.
  options.rebuild_index = true;
  testing::RecoveredLog recovered;
  CAIRN_ASSERT_OK(recovered.Open(dir, options, /*read_only=*/false));
  const engine::RecordLocator& locator = *recovered.locator;
  index::PersistentIndex* index = recovered.recovery->index();
  EXPECT_FALSE(index->KnownTombstone("gone", 2).has_value());

  auto gone = IsStoredTombstone(index, locator, dir, "gone", 2, nullptr);
  ASSERT_TRUE(gone.ok()) << gone.status().ToString();
  EXPECT_TRUE(*gone);
  // Noted in the stream cache: the next answer reads no record.
  EXPECT_EQ(index->KnownTombstone("gone", 2), std::optional<bool>(true));
  auto live = IsStoredTombstone(index, locator, dir, "live", 1, nullptr);
  ASSERT_TRUE(live.ok()) << live.status().ToString();
  EXPECT_FALSE(*live);

  // A revision the index does not hold: Corruption naming the store.
  auto missing = IsStoredTombstone(index, locator, dir, "live", 7, nullptr);
  EXPECT_TRUE(missing.status().IsCorruption()) << missing.status().ToString();
}

}  // namespace
}  // namespace cairn

// Copyright (c) Cairn authors.
//
// FollowerRefresh beside a live writer in the same process: each Run lists
// what the writer made durable since, publishes the new end under the
// state lock, and indexes no further than IndexEnd while the writer lives.
#include "engine/src/follower_refresh.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "cairn/cairn.h"
#include "engine/io/file_system.h"
#include "engine/src/record_locator.h"
#include "engine/src/recovery.h"
#include "engine/src/segment_log.h"
#include "engine/src/watermark.h"
#include "tests/engine/recovered_log.h"
#include "tests/support/store_test_util.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using engine::FollowerRefresh;

TEST(FollowerRefreshTest, IndexEndIsTheTablesPlusTheFollowersMemTables) {
  testing::TempDir tmp;
  Options options = testing::SmallOptions();
  options.index_memtable_events = 100;
  index::IndexOptions index_options;
  std::atomic<uint64_t> durable{0};
  auto index = index::PersistentIndex::Open(
      io::PosixFileSystem(), tmp.Sub("index"), 1, 0, index_options,
      [](uint64_t, uint32_t) -> Result<std::string_view> {
        return std::string_view();
      },
      &durable);
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  EXPECT_EQ(FollowerRefresh::IndexEnd(**index, options),
            (*index)->tables_end() +
                index::PersistentIndex::kFollowerMemTables * 100);
}

TEST(FollowerRefreshTest, EachRunListsWhatTheWriterMadeDurable) {
  testing::TempDir tmp;
  const std::string dir = tmp.Sub("store");
  Options options = testing::SmallOptions();
  auto writer = Store::Open(dir, options);
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  auto append = [&](int n) {
    for (int i = 0; i < n; ++i) {
      auto r =
          (*writer)->Append("s", ExpectedVersion::Any(), testing::Events(2));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
  };
  append(5);

  // The follower's pieces, as a read-only open makes them.
  Options reader = options;
  reader.read_only = true;
  auto watermark = engine::Watermark::Open(io::PosixFileSystem(), dir, 0,
                                           /*writable=*/false);
  ASSERT_TRUE(watermark.ok()) << watermark.status().ToString();
  testing::RecoveredLog recovered;
  CAIRN_ASSERT_OK(recovered.Open(dir, reader, /*read_only=*/true,
                                 (*watermark)->visible_next()));
  engine::SegmentLog* log = recovered.log.get();
  engine::Recovery& recovery = *recovered.recovery;
  std::unique_ptr<index::PersistentIndex> index = recovery.TakeIndex();
  std::unique_ptr<index::LinkIndex> links = recovery.TakeLinks();
  ASSERT_EQ(index->next_position(), 10u);

  std::shared_mutex state_mu;
  std::atomic<uint64_t> listed{log->next_position()};
  std::vector<uint64_t> published;
  FollowerRefresh::Target target;
  target.log = log;
  target.index = index.get();
  target.links = links.get();
  target.state_mu = &state_mu;
  target.listed_end = &listed;
  target.publish = [&](uint64_t next) {
    published.push_back(next);
    listed = next;
  };
  FollowerRefresh refresh(io::PosixFileSystem(), dir, reader, watermark->get(),
                          target);

  CAIRN_ASSERT_OK(refresh.Run());  // nothing new: nothing published
  EXPECT_TRUE(published.empty());
  append(3);
  CAIRN_ASSERT_OK(refresh.Run());
  ASSERT_EQ(published, std::vector<uint64_t>({16}));
  auto last = index->LastRevision("s");
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_EQ(*last, std::optional<uint64_t>(15));
  ASSERT_NE(links, nullptr);
  EXPECT_EQ(links->next_position(), 16u);
  CAIRN_ASSERT_OK((*writer)->Close());
}

}  // namespace
}  // namespace cairn

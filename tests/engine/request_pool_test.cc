// Copyright (c) Cairn authors.
//
// The pool of commit requests (request_pool.h): a request comes back
// cleared with its buffers, and the pool keeps no more than its bounds.
#include "engine/src/request_pool.h"

#include <gtest/gtest.h>

#include <memory>
#include <utility>
#include <vector>

namespace cairn::engine {
namespace {

TEST(RequestPoolTest, ARequestComesBackClearedWithItsBuffers) {
  RequestPool pool;
  std::unique_ptr<CommitRequest> request = pool.Take();
  request->is_sync = true;
  request->action = [] { return Status::Ok(); };
  request->stream = "a-stream-name-longer-than-small-strings";
  request->expected = ExpectedVersion::Exact(3);
  request->ids.push_back(EventId::Generate());
  request->client_ids = true;
  request->records.assign(1000, 'x');
  request->record_sizes.push_back(1000);
  request->done = [](const Result<AppendResult>&) {};
  request->result = AppendResult{};
  request->owner_expected = ExpectedVersion::NoStream();
  request->tombstone = true;
  const CommitRequest* const address = request.get();
  const size_t records_capacity = request->records.capacity();
  pool.Give(std::move(request));
  EXPECT_EQ(pool.pooled(), 1u);
  EXPECT_GE(pool.pooled_bytes(), records_capacity);

  std::unique_ptr<CommitRequest> again = pool.Take();
  EXPECT_EQ(again.get(), address);
  EXPECT_EQ(pool.pooled(), 0u);
  EXPECT_EQ(pool.pooled_bytes(), 0u);
  EXPECT_FALSE(again->is_sync);
  EXPECT_FALSE(again->action);
  EXPECT_TRUE(again->stream.empty());
  EXPECT_TRUE(again->expected == ExpectedVersion::Any());
  EXPECT_TRUE(again->ids.empty());
  EXPECT_FALSE(again->client_ids);
  EXPECT_TRUE(again->records.empty());
  EXPECT_EQ(again->records.capacity(), records_capacity);
  EXPECT_TRUE(again->record_sizes.empty());
  EXPECT_FALSE(again->done);
  EXPECT_FALSE(again->result.has_value());
  EXPECT_FALSE(again->owner_expected.has_value());
  EXPECT_FALSE(again->tombstone);
}

TEST(RequestPoolTest, KeepsAtMostItsCountOfRequests) {
  RequestPool pool;
  std::vector<std::unique_ptr<CommitRequest>> taken;
  for (size_t i = 0; i < kMaxPooledRequests + 10; ++i) {
    taken.push_back(pool.Take());
  }
  for (auto& request : taken) pool.Give(std::move(request));
  EXPECT_EQ(pool.pooled(), kMaxPooledRequests);
}

TEST(RequestPoolTest, KeepsAtMostItsBytesOfBuffers) {
  RequestPool pool;
  std::unique_ptr<CommitRequest> big = pool.Take();
  big->records.reserve(kMaxPooledBytes + 1);
  pool.Give(std::move(big));
  EXPECT_EQ(pool.pooled(), 0u);
  EXPECT_EQ(pool.pooled_bytes(), 0u);

  // Requests of a quarter of the budget each: four fit, not five.
  std::vector<std::unique_ptr<CommitRequest>> taken;
  for (int i = 0; i < 5; ++i) {
    taken.push_back(pool.Take());
    taken.back()->records.reserve(kMaxPooledBytes / 4 - 64);
  }
  for (auto& request : taken) pool.Give(std::move(request));
  EXPECT_EQ(pool.pooled(), 4u);
  EXPECT_LE(pool.pooled_bytes(), kMaxPooledBytes);
}

}  // namespace
}  // namespace cairn::engine

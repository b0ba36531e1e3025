// Copyright (c) Cairn authors.
#include "cairn/types.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <optional>
#include <set>
#include <vector>

namespace cairn {
namespace {

TEST(ExpectedVersionTest, RoundTrips) {
  for (auto v : {ExpectedVersion::Any(), ExpectedVersion::NoStream(),
                 ExpectedVersion::StreamExists(), ExpectedVersion::Exact(0),
                 ExpectedVersion::Exact(123456789)}) {
    auto parsed = ExpectedVersion::Parse(v.ToString());
    ASSERT_TRUE(parsed.has_value()) << v.ToString();
    EXPECT_EQ(*parsed, v);
  }
}

TEST(ExpectedVersionTest, RejectsGarbage) {
  EXPECT_FALSE(ExpectedVersion::Parse("").has_value());
  EXPECT_FALSE(ExpectedVersion::Parse("-1").has_value());
  EXPECT_FALSE(ExpectedVersion::Parse("12x").has_value());
  EXPECT_FALSE(ExpectedVersion::Parse("anything").has_value());
}

TEST(EventIdTest, GenerateIsUniqueVersion4) {
  std::set<EventId> seen;
  for (int i = 0; i < 10000; ++i) {
    EventId id = EventId::Generate();
    EXPECT_FALSE(id.IsNil());
    EXPECT_EQ(id.bytes()[6] >> 4, 4);
    EXPECT_TRUE(seen.insert(id).second);
  }
}

// A forked child must not repeat its parent's ids: with client-side ids a
// repeated id turns a different event into an idempotent "retry".
TEST(EventIdTest, GenerateIsUniqueAcrossFork) {
  (void)EventId::Generate();  // this thread's generator exists before fork
  constexpr int kCount = 64;
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    for (int i = 0; i < kCount; ++i) {
      const EventId id = EventId::Generate();
      if (write(fds[1], id.bytes().data(), 16) != 16) _exit(2);
    }
    _exit(0);
  }
  close(fds[1]);
  std::set<EventId> parent;
  for (int i = 0; i < kCount; ++i) parent.insert(EventId::Generate());
  std::vector<EventId> from_child;
  std::array<uint8_t, 16> bytes;
  while (read(fds[0], bytes.data(), bytes.size()) ==
         static_cast<ssize_t>(bytes.size())) {
    from_child.emplace_back(bytes);
  }
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_EQ(from_child.size(), static_cast<size_t>(kCount));
  for (const EventId& id : from_child) {
    EXPECT_EQ(parent.count(id), 0u) << id.ToString() << " repeated in child";
  }
}

TEST(EventIdTest, ParseAndFormat) {
  auto id = EventId::Parse("5F1C0E2A-9B3D-4C1E-8A7F-0123456789AB");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->ToString(), "5f1c0e2a-9b3d-4c1e-8a7f-0123456789ab");
  EXPECT_FALSE(EventId::Parse("5f1c0e2a9b3d4c1e8a7f0123456789ab").has_value());
  EXPECT_FALSE(
      EventId::Parse("5f1c0e2a-9b3d-4c1e-8a7f-0123456789ag").has_value());
  EXPECT_TRUE(EventId().IsNil());
}

TEST(StrongTypesTest, Compare) {
  EXPECT_LT(StreamRevision(1), StreamRevision(2));
  EXPECT_EQ(GlobalPosition(7), GlobalPosition(7));
}

TEST(ExpectedVersionTest, AllowsFollowsEachKind) {
  const std::optional<uint64_t> none;
  EXPECT_TRUE(ExpectedVersion::Any().Allows(none));
  EXPECT_TRUE(ExpectedVersion::Any().Allows(7));
  EXPECT_TRUE(ExpectedVersion::NoStream().Allows(none));
  EXPECT_FALSE(ExpectedVersion::NoStream().Allows(0));
  EXPECT_FALSE(ExpectedVersion::StreamExists().Allows(none));
  EXPECT_TRUE(ExpectedVersion::StreamExists().Allows(0));
  EXPECT_TRUE(ExpectedVersion::Exact(3).Allows(3));
  EXPECT_FALSE(ExpectedVersion::Exact(3).Allows(2));
  EXPECT_FALSE(ExpectedVersion::Exact(0).Allows(none));
}

}  // namespace
}  // namespace cairn

// Copyright (c) Cairn authors.
#include "server/process_settings.h"

#include <absl/synchronization/mutex.h>
#include <gtest/gtest.h>

namespace cairn::server {
namespace {

// Debian's abseil is built without NDEBUG: its deadlock detector tracks the
// order of every lock of an absl::Mutex and, by default, aborts the process
// on a cycle. Once the settings are applied it tracks nothing, so locks
// taken in both orders pass (and no lock pays for the tracking).
TEST(ProcessSettingsTest, LockOrderIsNotTrackedOnceApplied) {
  ApplyGrpcProcessSettings();
  ApplyGrpcProcessSettings();  // a second call changes nothing
  absl::Mutex a;
  absl::Mutex b;
  int taken = 0;
  {
    absl::MutexLock first(&a);
    absl::MutexLock second(&b);
    ++taken;
  }
  {
    absl::MutexLock first(&b);
    absl::MutexLock second(&a);
    ++taken;
  }
  EXPECT_EQ(taken, 2);
}

}  // namespace
}  // namespace cairn::server

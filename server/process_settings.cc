// Copyright (c) Cairn authors.
#include "server/process_settings.h"

#include <absl/synchronization/mutex.h>

namespace cairn::server {

void ApplyGrpcProcessSettings() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

}  // namespace cairn::server

// Copyright (c) Cairn authors.
#include "cairn/store.h"

#include <memory>
#include <string>
#include <utility>

#include "engine/src/store_impl.h"

namespace cairn {

Result<std::unique_ptr<Store>> Store::Open(const std::string& path,
                                           const Options& options) {
  return engine::StoreImpl::Open(io::PosixFileSystem(), path, options);
}

std::future<Result<AppendResult>> Store::AppendFuture(
    std::string stream, ExpectedVersion expected,
    std::vector<EventData> events) {
  auto promise = std::make_shared<std::promise<Result<AppendResult>>>();
  auto future = promise->get_future();
  AppendAsync(std::move(stream), expected, std::move(events),
              [promise](Result<AppendResult> result) {
                promise->set_value(std::move(result));
              });
  return future;
}

Result<AppendResult> Store::SetStreamMetadata(std::string_view stream,
                                              ExpectedVersion expected,
                                              const StreamMetadata& metadata) {
  auto json = metadata.ToJson();
  if (!json.ok()) return json.status();
  return SetStreamMetadataJson(stream, expected, *json);
}

Status ScavengeOptions::Validate() const {
  if (throttle_percent < kMinThrottlePercent ||
      throttle_percent > kMaxThrottlePercent) {
    return Status::InvalidArgument("the scavenge's throttle_percent must be " +
                                   std::to_string(kMinThrottlePercent) +
                                   " to " +
                                   std::to_string(kMaxThrottlePercent) +
                                   ", not " + std::to_string(throttle_percent));
  }
  return Status::Ok();
}

}  // namespace cairn

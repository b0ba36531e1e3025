// Copyright (c) Cairn authors.
//
// Scavenging, the swap: a committed scavenged segment takes the place of
// the sealed segment it rewrote (docs/architecture.md, "Scavenging",
// step 5), with no I/O under the state lock.
#include <memory>
#include <mutex>
#include <shared_mutex>

#include "engine/src/store_impl.h"
#include "segment/scavenged_segment.h"

namespace cairn::engine {

Result<std::shared_ptr<Segment>> StoreImpl::LoadScavengedSegment(
    uint64_t number, uint32_t generation) {
  auto loaded = log_->LoadGeneration(number, generation);
  if (!loaded.ok()) return loaded.status();
  std::shared_ptr<Segment> successor = std::move(loaded.value());
  // Verified whole before it is listed: readers of a scavenged segment
  // check each record they use, but nothing else scans it.
  auto pinned = log_->Pin(successor);
  if (!pinned.ok()) return pinned.status();
  segment::SegmentHeader header;
  segment::ScavengedFields fields;
  Status s =
      segment::ScanScavengedSegment(pinned->data(), pinned->mapped_size(),
                                    successor->path, nullptr, &header, &fields);
  if (!s.ok()) return s;
  return successor;
}

Status StoreImpl::SwapScavengedSegment(uint64_t number, uint32_t generation) {
  auto successor = LoadScavengedSegment(number, generation);
  if (!successor.ok()) return successor.status();
  std::shared_ptr<Segment> old;
  // On the commit thread, the only one that changes the segment list.
  Status s = Barrier([&] {
    std::unique_lock<std::shared_mutex> lock(state_mu_);
    auto replaced = log_->Replace(std::move(successor.value()));
    if (!replaced.ok()) return replaced.status();
    old = std::move(replaced.value());
    return Status::Ok();
  });
  // `old` goes here, without the lock: its mapping is unmapped now unless
  // a reader still holds it.
  return s;
}

}  // namespace cairn::engine

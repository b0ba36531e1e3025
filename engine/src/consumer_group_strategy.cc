// Copyright (c) Cairn authors.
//
// Which member a consumer group hands an event to (ConsumerStrategy in
// cairn/subscription.h): rendezvous hashing for kOrderedByStream's owners
// and the pinned strategies, first or next member with a free slot for
// kDispatchToSingle and kRoundRobin.
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/src/consumer_group.h"

namespace cairn::engine {
namespace {

uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// The event's "$correlationId" (KurrentDB's PinnedByCorrelation key), or
// its stream when the metadata is not JSON or has none.
std::string CorrelationKey(const RecordedEvent& event) {
  if (event.metadata.empty()) return event.stream;
  auto json = nlohmann::json::parse(event.metadata, nullptr,
                                    /*allow_exceptions=*/false);
  if (!json.is_object()) return event.stream;
  auto it = json.find("$correlationId");
  if (it == json.end() || !it->is_string()) return event.stream;
  return it->get<std::string>();
}

}  // namespace

uint64_t ConsumerGroup::PickOwner(const std::string& stream) const {
  // Rendezvous hashing: when a member joins, only the streams it wins move
  // (once drained); when one leaves, only its streams do.
  const uint64_t h = std::hash<std::string>{}(stream);
  uint64_t best = 0;
  uint64_t best_score = 0;
  for (const auto& [id, member] : members_) {
    uint64_t score = Mix(h ^ Mix(id));
    if (best == 0 || score > best_score) {
      best = id;
      best_score = score;
    }
  }
  return best;
}

uint64_t ConsumerGroup::PickMember(const RecordedEvent& event) {
  switch (options_.strategy) {
    case ConsumerStrategy::kPinned:
    case ConsumerStrategy::kOrderedByStream:
      return PickOwner(event.stream);
    case ConsumerStrategy::kPinnedByCorrelation:
      return PickOwner(CorrelationKey(event));
    case ConsumerStrategy::kDispatchToSingle:
    case ConsumerStrategy::kRoundRobin:
      break;
  }
  const uint64_t slots = std::max<uint32_t>(options_.max_in_flight, 1);
  auto load = [](const Member& m) {
    return m.queue.size() + m.in_flight.size();
  };
  // DispatchToSingle looks from the oldest member, RoundRobin from the one
  // after the last pick; the first with a free slot wins, else the least
  // loaded (the dispatcher's flow control keeps that bounded).
  auto start = options_.strategy == ConsumerStrategy::kRoundRobin
                   ? members_.lower_bound(rr_next_)
                   : members_.begin();
  uint64_t least = 0;
  uint64_t least_load = UINT64_MAX;
  for (size_t i = 0; i < members_.size(); ++i, ++start) {
    if (start == members_.end()) start = members_.begin();
    const uint64_t used = load(start->second);
    if (used < slots) {
      least = start->first;
      break;
    }
    if (used < least_load) {
      least = start->first;
      least_load = used;
    }
  }
  rr_next_ = least + 1;
  return least;
}

}  // namespace cairn::engine

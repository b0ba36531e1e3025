// Copyright (c) Cairn authors.
#include "engine/src/scavenge_remap.h"

#include <algorithm>
#include <cassert>

namespace cairn::engine {
namespace {

// A not-yet-known next offset (replaced by Finish). No record starts
// there: a record takes room before a segment's end, which is below it.
constexpr uint32_t kUnset = UINT32_MAX;

// The unit covering `position`, or null.
const UnitRemap* Find(const std::vector<UnitRemap>& units, uint64_t position) {
  auto it = std::upper_bound(
      units.begin(), units.end(), position,
      [](uint64_t p, const UnitRemap& u) { return p < u.first(); });
  if (it == units.begin()) return nullptr;
  --it;
  return it->Covers(position) ? &*it : nullptr;
}

}  // namespace

UnitRemap::UnitRemap(uint64_t first, uint64_t end)
    : first_(first), end_(end), next_(end - first, kUnset) {}

void UnitRemap::Keep(uint64_t position, uint32_t offset) {
  assert(offset != kUnset);
  next_[position - first_] = offset;
}

void UnitRemap::Finish(uint32_t records_end) {
  records_end_ = records_end;
  uint32_t next = records_end;
  for (size_t i = next_.size(); i-- > 0;) {
    if (next_[i] != kUnset) {
      next = next_[i];
    } else {
      next_[i] = next;
    }
  }
}

std::optional<uint32_t> UnitRemap::Offset(uint64_t position) const {
  const size_t i = position - first_;
  const uint32_t after = i + 1 < next_.size() ? next_[i + 1] : records_end_;
  if (next_[i] == after) return std::nullopt;
  return next_[i];
}

uint32_t UnitRemap::Anchor(uint64_t position) const {
  return next_[position - first_];
}

index::PositionRemap BatchRemap(const std::vector<UnitRemap>& units) {
  index::PositionRemap remap;
  // Only asked about rewritten positions (`rewritten` says which).
  remap.offset = [&units](uint64_t position) {
    return Find(units, position)->Offset(position);
  };
  remap.anchor = [&units](uint64_t position) {
    return Find(units, position)->Anchor(position);
  };
  remap.rewritten = [&units](uint64_t position) {
    return Find(units, position) != nullptr;
  };
  return remap;
}

}  // namespace cairn::engine

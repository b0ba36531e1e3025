// Copyright (c) Cairn authors.
#include "engine/src/scavenge_remap.h"

#include <algorithm>

namespace cairn::engine {
namespace {

// A not-yet-known next offset (replaced by Finish).
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
    : first_(first),
      end_(end),
      next_(end - first, kUnset),
      kept_(end - first, false) {}

void UnitRemap::Keep(uint64_t position, uint32_t offset) {
  next_[position - first_] = offset;
  kept_[position - first_] = true;
}

void UnitRemap::Finish(uint32_t records_end) {
  uint32_t next = records_end;
  for (size_t i = next_.size(); i-- > 0;) {
    if (kept_[i]) {
      next = next_[i];
    } else {
      next_[i] = next;
    }
  }
}

std::optional<uint32_t> UnitRemap::Offset(uint64_t position) const {
  if (!kept_[position - first_]) return std::nullopt;
  return next_[position - first_];
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

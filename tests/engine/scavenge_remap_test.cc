// Copyright (c) Cairn authors.
//
// UnitRemap and BatchRemap: where each position of a rewritten segment
// went, and the anchor the index stores for a removed one.
#include "engine/src/scavenge_remap.h"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

namespace cairn::engine {
namespace {

// Positions [100, 106) of a segment; 101, 102 and 105 removed.
UnitRemap Sample() {
  UnitRemap remap(100, 106);
  remap.Keep(100, 64);
  remap.Keep(103, 200);
  remap.Keep(104, 290);
  remap.Finish(400);
  return remap;
}

TEST(UnitRemapTest, KeptPositionsHaveTheirNewOffsets) {
  const UnitRemap remap = Sample();
  EXPECT_EQ(remap.Offset(100), std::optional<uint32_t>(64));
  EXPECT_EQ(remap.Offset(103), std::optional<uint32_t>(200));
  EXPECT_EQ(remap.Offset(104), std::optional<uint32_t>(290));
}

TEST(UnitRemapTest, RemovedPositionsHaveNoneAndAnchorOnTheNextKept) {
  const UnitRemap remap = Sample();
  EXPECT_EQ(remap.Offset(101), std::nullopt);
  EXPECT_EQ(remap.Offset(102), std::nullopt);
  EXPECT_EQ(remap.Offset(105), std::nullopt);  // the last one
  EXPECT_EQ(remap.Anchor(101), 200u);
  EXPECT_EQ(remap.Anchor(102), 200u);
  EXPECT_EQ(remap.Anchor(103), 200u);
  EXPECT_EQ(remap.Anchor(105), 400u);  // the end of the records
  EXPECT_TRUE(remap.Covers(100));
  EXPECT_TRUE(remap.Covers(105));
  EXPECT_FALSE(remap.Covers(106));
  EXPECT_FALSE(remap.Covers(99));
}

TEST(UnitRemapTest, EverythingRemovedOrEverythingKept) {
  UnitRemap none(0, 3);
  none.Finish(4096);
  for (uint64_t p = 0; p < 3; ++p) {
    EXPECT_EQ(none.Offset(p), std::nullopt);
    EXPECT_EQ(none.Anchor(p), 4096u);
  }
  UnitRemap all(10, 13);
  all.Keep(10, 4096);
  all.Keep(11, 4200);
  all.Keep(12, 4300);
  all.Finish(4400);
  EXPECT_EQ(all.Offset(10), std::optional<uint32_t>(4096));
  EXPECT_EQ(all.Offset(11), std::optional<uint32_t>(4200));
  EXPECT_EQ(all.Offset(12), std::optional<uint32_t>(4300));
}

// Offsets near the top of a 4 GiB segment stay exact.
TEST(UnitRemapTest, OffsetsUseAllThirtyTwoBits) {
  UnitRemap remap(0, 3);
  remap.Keep(0, 0x80000000u);
  remap.Keep(2, 0xFFFFFF00u);
  remap.Finish(0xFFFFFFF0u);
  EXPECT_EQ(remap.Offset(0), std::optional<uint32_t>(0x80000000u));
  EXPECT_EQ(remap.Offset(1), std::nullopt);
  EXPECT_EQ(remap.Anchor(1), 0xFFFFFF00u);
  EXPECT_EQ(remap.Offset(2), std::optional<uint32_t>(0xFFFFFF00u));
}

TEST(UnitRemapTest, MemoryIsAWordPerPosition) {
  EXPECT_EQ(UnitRemap::MemoryFor(1000), 4000u);
}

TEST(BatchRemapTest, AsksTheUnitThatCoversAPosition) {
  std::vector<UnitRemap> units;
  units.push_back(Sample());  // [100, 106)
  UnitRemap later(200, 202);
  later.Keep(201, 4096);
  later.Finish(5000);
  units.push_back(std::move(later));
  const index::PositionRemap remap = BatchRemap(units);
  EXPECT_TRUE(remap.rewritten(100));
  EXPECT_TRUE(remap.rewritten(201));
  EXPECT_FALSE(remap.rewritten(99));
  EXPECT_FALSE(remap.rewritten(150));  // between the units
  EXPECT_FALSE(remap.rewritten(202));
  EXPECT_EQ(remap.offset(103), std::optional<uint32_t>(200));
  EXPECT_EQ(remap.offset(200), std::nullopt);
  EXPECT_EQ(remap.anchor(200), 4096u);
  EXPECT_EQ(remap.offset(201), std::optional<uint32_t>(4096));
}

}  // namespace
}  // namespace cairn::engine

// Copyright (c) Cairn authors.
#include "index/link_index.h"

#include <utility>

#include "index/link_streams.h"

namespace cairn::index {
namespace {

constexpr uint64_t kSlotsPerEvent = 2;
constexpr uint64_t kCategorySlot = 0;
constexpr uint64_t kTypeSlot = 1;
// The slots of one event are consecutive, its category's first.
static_assert(kTypeSlot == kCategorySlot + 1 && kTypeSlot < kSlotsPerEvent);

uint64_t SlotOf(uint64_t position, uint64_t kind) {
  return position * kSlotsPerEvent + kind;
}

// The name a slot is kept under: its category or type stream, "" if none.
std::string SlotName(const EventKey& key, uint64_t kind) {
  LinkStreamNames names = LinkStreamsOf(key.stream, key.type);
  return kind == kCategorySlot ? std::move(names.category)
                               : std::move(names.type);
}

}  // namespace

Result<std::unique_ptr<LinkIndex>> LinkIndex::Open(
    io::FileSystem* fs, const std::string& dir, uint64_t store_id,
    uint64_t first_position, const IndexOptions& options, EventKeyReader keys) {
  std::unique_ptr<LinkIndex> link(new LinkIndex());
  link->dir_ = dir;
  // The PersistentIndex checks attributions against the log by name: the
  // name of a slot is derived from the record it points at.
  NameReader names = [keys = std::move(keys)](
                         uint64_t slot,
                         uint32_t offset) -> Result<std::string_view> {
    auto key = keys(slot / kSlotsPerEvent, offset);
    if (!key.ok()) return key.status();
    thread_local std::string name;
    name = SlotName(*key, slot % kSlotsPerEvent);
    std::string_view view = name;
    return view;
  };
  const std::atomic<uint64_t>* durable =
      options.read_only ? nullptr : &link->durable_slots_;
  IndexOptions slot_options = options;
  if (slot_options.log_events) {
    // A damaged block is rebuilt from the events' slots (PersistentIndex).
    slot_options.slots_per_event = kSlotsPerEvent;
    slot_options.slot_name = [](const LoggedEvent& e, uint32_t k) {
      return SlotName(EventKey{e.stream, e.type}, k);
    };
  }
  auto index =
      PersistentIndex::Open(fs, dir, store_id, first_position * kSlotsPerEvent,
                            slot_options, std::move(names), durable);
  if (!index.ok()) return index.status();
  link->index_ = std::move(index.value());
  return link;
}

LinkIndex::~LinkIndex() {
  // The index's threads read durable_slots_: stop them first.
  index_.reset();
}

std::optional<uint64_t> LinkIndex::last_indexed_position() const {
  const uint64_t next = index_->next_position();
  if (next == 0) return std::nullopt;
  return (next - 1) / kSlotsPerEvent;
}

std::optional<uint64_t> LinkIndex::loaded_last_position() const {
  auto slot = index_->loaded_last_position();
  if (!slot) return std::nullopt;
  return *slot / kSlotsPerEvent;
}

namespace {

StagedTables InSlots(const StagedTables& staged) {
  StagedTables slots = staged;
  slots.first_position = SlotOf(staged.first_position, kCategorySlot);
  slots.end_position = SlotOf(staged.end_position, kCategorySlot);
  return slots;
}

}  // namespace

void LinkIndex::FreezeBelow(uint64_t end) {
  index_->FreezeBelow(SlotOf(end, kCategorySlot));
}

Status LinkIndex::WaitListed(uint64_t end, const std::atomic<bool>* stop) {
  return index_->WaitListed(SlotOf(end, kCategorySlot), stop);
}

Status LinkIndex::StageRewrite(uint64_t first, uint64_t end,
                               const PositionRemap& remap,
                               StagedTables* staged) {
  PositionRemap slots;
  slots.offset = [&remap](uint64_t slot) {
    return remap.offset(slot / kSlotsPerEvent);
  };
  // The first kept slot at or after a slot is one of the first kept event
  // at or after its event.
  slots.anchor = [&remap](uint64_t slot) {
    return remap.anchor(slot / kSlotsPerEvent);
  };
  if (remap.rewritten) {
    slots.rewritten = [&remap](uint64_t slot) {
      return remap.rewritten(slot / kSlotsPerEvent);
    };
  }
  StagedTables in_slots;
  Status s = index_->StageRewrite(SlotOf(first, kCategorySlot),
                                  SlotOf(end, kCategorySlot), slots, &in_slots);
  if (!s.ok()) return s;
  *staged = in_slots;
  // Tables end between events: both ends are even.
  staged->first_position = in_slots.first_position / kSlotsPerEvent;
  staged->end_position = in_slots.end_position / kSlotsPerEvent;
  return Status::Ok();
}

Status LinkIndex::InstallRewrite(const StagedTables& staged) {
  return index_->InstallRewrite(InSlots(staged));
}

Status LinkIndex::ListRewrite(const StagedTables& staged,
                              PersistentIndex::ListedRewrite* listed) {
  return index_->ListRewrite(InSlots(staged), listed);
}

Status LinkIndex::InstallStaged(io::FileSystem* fs, const std::string& dir,
                                const StagedTables& staged) {
  return InstallStagedTables(fs, dir, InSlots(staged));
}

Status LinkIndex::Reset(uint64_t first_position) {
  return index_->Reset(first_position * kSlotsPerEvent);
}

Status LinkIndex::Add(std::string_view stream, std::string_view type,
                      uint64_t position, uint32_t offset, const EventId& id) {
  const uint64_t next = index_->next_position();
  if (next >= SlotOf(position + 1, kCategorySlot)) return Status::Ok();
  if (next < SlotOf(position, kCategorySlot)) {
    return Status::Corruption(dir_, 0,
                              "link index expected position " +
                                  std::to_string(next / 2) + ", got " +
                                  std::to_string(position));
  }
  LinkStreamNames names = LinkStreamsOf(stream, type);
  for (uint64_t kind = next % kSlotsPerEvent; kind < kSlotsPerEvent; ++kind) {
    const std::string& name =
        kind == kCategorySlot ? names.category : names.type;
    auto last = index_->LastRevision(name);
    if (!last.ok()) return last.status();
    const uint64_t revision = last->has_value() ? **last + 1 : 0;
    Status s = index_->Add(name, revision, SlotOf(position, kind), offset, id);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status LinkIndex::SkipRemoved(uint64_t end, uint32_t anchor) {
  return index_->SkipRemoved(SlotOf(end, kCategorySlot), anchor);
}

Result<std::optional<uint64_t>> LinkIndex::LastRevision(
    std::string_view stream) const {
  return index_->LastRevision(stream);
}

Status LinkIndex::Read(std::string_view stream, uint64_t from,
                       Direction direction, uint64_t max_count,
                       std::vector<IndexedEvent>* out) const {
  const size_t first = out->size();
  Status s = index_->Read(stream, from, direction, max_count, out);
  for (size_t i = first; i < out->size(); ++i) {
    (*out)[i].position /= kSlotsPerEvent;
  }
  return s;
}

void LinkIndex::SetDurable(uint64_t next_position) {
  durable_slots_.store(next_position * kSlotsPerEvent,
                       std::memory_order_release);
}

}  // namespace cairn::index

// Copyright (c) Cairn authors.
#include "engine/src/watermark.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bit>
#include <climits>
#include <cstdint>
#include <cstring>
#include <ctime>

namespace cairn::engine {
namespace {

constexpr char kMagic[8] = {'C', 'A', 'I', 'R', 'N', 'W', 'M', 'K'};
constexpr size_t kVersionOffset = 8;
constexpr size_t kStoreIdOffset = 16;
constexpr size_t kDurableOffset = 24;
constexpr size_t kVisibleOffset = 32;
constexpr size_t kSequenceOffset = 40;

// A futex shared between processes (no FUTEX_PRIVATE_FLAG): the word lives
// in a MAP_SHARED mapping of the watermark file.
int64_t Futex(const std::atomic<uint32_t>* word, int op, uint32_t value,
              const struct timespec* timeout) {
  return syscall(SYS_futex, reinterpret_cast<const uint32_t*>(word), op, value,
                 timeout, nullptr, 0);
}

static_assert(std::endian::native == std::endian::little,
              "the watermark's fields are little-endian (docs/format.md)");
static_assert(std::atomic<uint64_t>::is_always_lock_free,
              "the watermark relies on lock-free 8-byte atomics shared "
              "between processes");

}  // namespace

std::atomic<uint64_t>* Watermark::Field(size_t offset) const {
  // The mapping is page-aligned, so every field is 8-byte aligned; an
  // atomic<uint64_t> has the layout of a uint64_t on this platform.
  return reinterpret_cast<std::atomic<uint64_t>*>(base_ + offset);
}

Result<std::unique_ptr<Watermark>> Watermark::Open(io::FileSystem* fs,
                                                   const std::string& dir,
                                                   uint64_t store_id,
                                                   bool writable) {
  std::string path = io::JoinPath(dir, kWatermarkFileName);
  std::unique_ptr<Watermark> wm(new Watermark());
  if (writable) {
    bool existed = fs->Exists(path);
    auto file = fs->OpenFile(path, io::OpenMode::kCreate);
    if (!file.ok()) return file.status();
    wm->file_ = std::move(file.value());
    auto size = wm->file_->Size();
    if (!size.ok()) return size.status();
    bool fresh = !existed || *size < kWatermarkSize;
    if (fresh) {
      Status s = wm->file_->Allocate(kWatermarkSize);
      if (!s.ok()) return s;
    }
    auto region = wm->file_->MapShared(kWatermarkSize);
    if (!region.ok()) return region.status();
    wm->shared_ = std::move(region.value());
    wm->base_ = wm->shared_->data();
    bool valid = std::memcmp(wm->base_, kMagic, sizeof(kMagic)) == 0 &&
                 wm->Field(kStoreIdOffset)->load() == store_id;
    if (fresh || !valid) {
      // A missing or foreign watermark says nothing: start from zero (the
      // writer publishes the recovered position right after open). Every
      // word is written with an 8-byte atomic store, like every later
      // update: a reader in another process may look at the mapping
      // meanwhile, and must see each word whole, old or new.
      for (size_t at = 0; at < kWatermarkSize; at += sizeof(uint64_t)) {
        wm->Field(at)->store(0, std::memory_order_relaxed);
      }
      uint64_t magic = 0;
      std::memcpy(&magic, kMagic, sizeof(magic));
      wm->Field(0)->store(magic, std::memory_order_relaxed);
      // The version is a u32 at kVersionOffset, the next 4 bytes zero: on
      // this little-endian platform one 8-byte store writes both.
      wm->Field(kVersionOffset)
          ->store(kWatermarkVersion, std::memory_order_relaxed);
      wm->Field(kStoreIdOffset)->store(store_id);
      if (!existed) {
        // Make the name durable so a later reader finds the file; its
        // contents stay a hint.
        Status s = fs->SyncDir(dir);
        if (!s.ok()) return s;
      }
    }
    return wm;
  }
  auto file = fs->OpenFile(path, io::OpenMode::kReadOnly);
  if (!file.ok()) return file.status();
  wm->file_ = std::move(file.value());
  auto size = wm->file_->Size();
  if (!size.ok()) return size.status();
  if (*size < kWatermarkSize) {
    return Status::Corruption(path, 0, "watermark file is too short");
  }
  auto region = wm->file_->Map(0, kWatermarkSize);
  if (!region.ok()) return region.status();
  wm->mapped_ = std::move(region.value());
  // Read-only mapping: loads only, never stores.
  wm->base_ = const_cast<uint8_t*>(wm->mapped_->data());
  if (std::memcmp(wm->base_, kMagic, sizeof(kMagic)) != 0) {
    return Status::Corruption(path, 0, "bad watermark magic");
  }
  uint32_t version = 0;
  std::memcpy(&version, wm->base_ + kVersionOffset, sizeof(version));
  if (version != kWatermarkVersion) {
    return Status::NotSupported("watermark version " + std::to_string(version) +
                                " is not supported");
  }
  return wm;
}

uint64_t Watermark::durable_next() const {
  return Field(kDurableOffset)->load(std::memory_order_acquire);
}
uint64_t Watermark::visible_next() const {
  return Field(kVisibleOffset)->load(std::memory_order_acquire);
}
uint64_t Watermark::store_id() const {
  return Field(kStoreIdOffset)->load(std::memory_order_relaxed);
}

std::atomic<uint32_t>* Watermark::SequenceWord() const {
  return reinterpret_cast<std::atomic<uint32_t>*>(base_ + kSequenceOffset);
}

void Watermark::Publish(uint64_t durable_next, uint64_t visible_next) {
  Field(kDurableOffset)->store(durable_next, std::memory_order_release);
  Field(kVisibleOffset)->store(visible_next, std::memory_order_release);
  SequenceWord()->fetch_add(1, std::memory_order_release);
  WakeAll();
}

uint32_t Watermark::sequence() const {
  return SequenceWord()->load(std::memory_order_acquire);
}

void Watermark::Wait(uint32_t seen, std::chrono::milliseconds timeout) const {
  struct timespec ts;
  ts.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  ts.tv_nsec =
      static_cast<decltype(ts.tv_nsec)>((timeout.count() % 1000) * 1000000);
  // Returns at once if the word already moved on (EAGAIN), on a wake, or
  // after the timeout; all are fine for a caller that re-checks.
  (void)Futex(SequenceWord(), FUTEX_WAIT, seen, &ts);
}

void Watermark::WakeAll() const {
  (void)Futex(SequenceWord(), FUTEX_WAKE, INT_MAX, nullptr);
}

}  // namespace cairn::engine

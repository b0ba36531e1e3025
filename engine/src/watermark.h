// Copyright (c) Cairn authors.
//
// The watermark file: a 4 KiB file mapped shared by the writer and by
// read-only openers in other processes. The writer publishes, with 8-byte
// atomic stores, how far the log is durable and how far other processes may
// read. It is never fsynced: it is a hint that is only ever behind the
// truth, never ahead (the writer stores a position only after the records
// below it are durable). Format: docs/format.md.
#ifndef CAIRN_ENGINE_SRC_WATERMARK_H_
#define CAIRN_ENGINE_SRC_WATERMARK_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "cairn/result.h"
#include "engine/io/file_system.h"

namespace cairn::engine {

inline constexpr char kWatermarkFileName[] = "watermark";
inline constexpr size_t kWatermarkSize = 4096;
inline constexpr uint32_t kWatermarkVersion = 1;

class Watermark {
 public:
  // Opens (creating with `create`) DIR/watermark. A writer passes
  // writable = true; a reader maps it read-only.
  static Result<std::unique_ptr<Watermark>> Open(io::FileSystem* fs,
                                                 const std::string& dir,
                                                 uint64_t store_id,
                                                 bool writable);

  // Every position below this was fdatasynced by the writer.
  uint64_t durable_next() const;
  // Positions below this may be read by other processes.
  uint64_t visible_next() const;
  void Publish(uint64_t durable_next, uint64_t visible_next);
  uint64_t store_id() const;

  // Change notification for followers, in this process or others: every
  // Publish bumps a 32-bit sequence and wakes futex waiters on it.
  uint32_t sequence() const;
  // Waits until the sequence differs from `seen` or `timeout` passes
  // (spurious returns are possible; callers re-check their condition).
  void Wait(uint32_t seen, std::chrono::milliseconds timeout) const;
  // Wakes every waiter (e.g. to let a subscription notice Stop()).
  void WakeAll() const;

 private:
  Watermark() = default;
  std::atomic<uint64_t>* Field(size_t offset) const;
  std::atomic<uint32_t>* SequenceWord() const;

  std::unique_ptr<io::File> file_;
  std::unique_ptr<io::SharedRegion> shared_;  // writer
  std::unique_ptr<io::MappedRegion> mapped_;  // reader
  uint8_t* base_ = nullptr;
};

}  // namespace cairn::engine

#endif  // CAIRN_ENGINE_SRC_WATERMARK_H_

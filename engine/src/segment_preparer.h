// Copyright (c) Cairn authors.
//
// Prepares the next segment file in the background: preallocated and
// zero-filled with real writes, then synced. Why zero-fill: an fdatasync
// after writing into fallocate'd (unwritten) extents must also commit the
// extent conversion to the file-system journal; measured on this machine's
// ext4 that makes every group commit ~2x slower and throughput 5x lower.
// Writing the zeros once, off the commit path, leaves later fdatasyncs
// pure data flushes.
//
// A spare is named "<segment file>.spare" so that nothing mistakes it for a
// segment. It only ever holds zeros (and, briefly during a roll, a header),
// so any leftover spare is safe to reuse or delete.
#ifndef CAIRN_ENGINE_SRC_SEGMENT_PREPARER_H_
#define CAIRN_ENGINE_SRC_SEGMENT_PREPARER_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "cairn/status.h"
#include "engine/io/file_system.h"

namespace cairn::engine {

// The size and alignment of the zero writes. Writes of 2 MiB at 2 MiB
// offsets let the page cache hold the segment in 2 MiB folios, which the
// kernel maps as huge pages: random reads across the log then rarely miss
// the TLB. Smaller writes leave folios too small to map that way
// (docs/architecture.md).
inline constexpr size_t kPrepareWriteSize = size_t{2} << 20;

// Writes zeros over [begin, end) of `file` with real writes (not
// fallocate, so the range stays as cheap to sync into as a prepared
// segment), in writes that end at multiples of kPrepareWriteSize. `stop`
// (if given) is checked before each write: when set, the result is Closed.
Status WriteZeros(io::File* file, uint64_t begin, uint64_t end,
                  const std::atomic<bool>* stop = nullptr);

// Creates `path` (replacing any old file), preallocates `size` bytes, writes
// zeros over all of them (WriteZeros) and syncs. `stop` (if
// given) aborts early: the unfinished file is removed and the result is Closed.
Status PrepareZeroedFile(io::FileSystem* fs, const std::string& path,
                         uint64_t size,
                         const std::atomic<bool>* stop = nullptr);

std::string SpareFileName(uint64_t segment_number);

class SegmentPreparer {
 public:
  SegmentPreparer(io::FileSystem* fs, std::string dir, uint64_t size);
  ~SegmentPreparer();  // Stop()
  SegmentPreparer(const SegmentPreparer&) = delete;
  SegmentPreparer& operator=(const SegmentPreparer&) = delete;

  // Starts preparing the spare for segment `number` unless it is already
  // prepared or being prepared. Never blocks on I/O.
  void Request(uint64_t number);
  // Marks an existing spare for `number` (found at open) as ready.
  void Adopt(uint64_t number);
  // True if the spare for `number` is ready; the caller then owns it. If
  // it is being prepared right now, waits for that to finish (preparing it
  // a second time concurrently would have two writers on one file).
  bool TakeReady(uint64_t number);

  // Tells the thread to stop, without waiting: a zero-fill in progress
  // ends after its current write. Lets the store's Close() overlap that
  // with its other work; later requests are ignored.
  void RequestStop();
  // Stops and joins the thread: it does no I/O once this returns. The
  // store calls it before releasing the writer lock, since a file written
  // after that could be adopted by the next writer while still being
  // written. Idempotent.
  void Stop();

 private:
  void Run();

  io::FileSystem* const fs_;
  const std::string dir_;
  const uint64_t size_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<uint64_t> wanted_;   // guarded by mu_: queued request
  std::optional<uint64_t> working_;  // guarded by mu_: being prepared
  std::optional<uint64_t> ready_;    // guarded by mu_
  std::atomic<bool> stop_{false};
  std::mutex join_mu_;
  std::thread thread_;
};

}  // namespace cairn::engine

#endif  // CAIRN_ENGINE_SRC_SEGMENT_PREPARER_H_

// Copyright (c) Cairn authors.
//
// The raw limits of the disk under a benchmark directory, measured with
// plain POSIX calls so that Cairn's figures can be read as a fraction of
// what the same device delivers in the same run:
// - durable small writes: 4 KiB pwrite + fdatasync in a loop over blocks
//   written before (the cheapest durable write the device offers: data and
//   a cache flush, no file-system metadata). This is the headline rate.
// - the same into fresh blocks of a file preallocated with fallocate, as
//   Cairn's segments are: on ext4 and xfs the first write to such a block
//   also commits the extent change to the journal, so this rate is lower;
//   it shows what an engine writing into new space pays at best.
// - durable bandwidth: 1 MiB pwrite + fdatasync per write, sequentially
//   into fresh preallocated space.
// - optionally, the same with writes of the size one synchronous batch
//   append puts on disk: the best a single writer of such appends can get.
// - optionally, the durable small writes again beside a sequential bulk
//   writer: the disk's own share of what a scavenge does to appends.
#ifndef CAIRN_TOOLS_BENCH_RAW_H_
#define CAIRN_TOOLS_BENCH_RAW_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "cairn/status.h"
#include "tools/bench/stats.h"

namespace cairn::tools::bench {

// The durable small write: its size, and the span of written blocks the
// loop overwrites in turn (the headline fsync_per_sec and its latency).
inline constexpr size_t kRawSyncBlock = 4096;
inline constexpr uint64_t kRawRewriteSpan = 16ull << 20;

// `size` incompressible bytes (the same for every call), so that no layer
// below can make a write cheaper than real data would be.
std::string IncompressibleBytes(size_t size);

struct RawLimits {
  // 4 KiB pwrite + fdatasync over written blocks.
  uint64_t fsync_ops = 0;
  double fsync_seconds = 0;
  double fsync_per_sec = 0;
  LatencyHistogram fsync_latency_ns;
  // 4 KiB pwrite + fdatasync into fresh preallocated blocks.
  double fresh_fsync_per_sec = 0;
  LatencyHistogram fresh_fsync_latency_ns;
  // 1 MiB pwrite + fdatasync; MB are 10^6 bytes.
  uint64_t write_bytes = 0;
  double write_seconds = 0;
  double write_mb_per_sec = 0;
  // The 4 KiB loop over written blocks again, while another thread writes
  // 1 MiB + fdatasync sequentially (MeasureSyncBesideWriter; empty if not
  // measured), and that writer's bandwidth: what the disk itself does to a
  // small durable write's latency beside a bulk writer.
  LatencyHistogram beside_writer_fsync_latency_ns;
  double beside_writer_mb_per_sec = 0;
  // pwrite + fdatasync of append_write_bytes (0 if not measured).
  uint64_t append_write_bytes = 0;
  double append_writes_per_sec = 0;
  double append_write_mb_per_sec = 0;
};

// Progress callback: the phase ("raw fdatasync", "raw bandwidth") and the
// fraction of it done.
using RawProgress = std::function<void(const char* phase, double fraction)>;

// Runs each measurement for about `seconds` in files created in `dir`
// (removed afterwards) and fills *out. `append_bytes` > 0 adds the
// measurement with writes of that size.
Status MeasureRawLimits(const std::string& dir, double seconds,
                        uint64_t append_bytes, const RawProgress& progress,
                        RawLimits* out);

// Fills the beside_writer figures of *out, for about `seconds`.
Status MeasureSyncBesideWriter(const std::string& dir, double seconds,
                               const RawProgress& progress, RawLimits* out);

}  // namespace cairn::tools::bench

#endif  // CAIRN_TOOLS_BENCH_RAW_H_

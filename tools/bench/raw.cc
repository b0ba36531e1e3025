// Copyright (c) Cairn authors.
#include "tools/bench/raw.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>

namespace cairn::tools::bench {

std::string IncompressibleBytes(size_t size) {
  std::string bytes(size, '\0');
  std::mt19937_64 rng(42);
  for (size_t i = 0; i < size; i += 8) {
    uint64_t v = rng();
    std::memcpy(bytes.data() + i, &v, std::min<size_t>(8, size - i));
  }
  return bytes;
}

namespace {

constexpr size_t kLargeWrite = 1 << 20;
// Writes before the timed loop: the first writes to a new file pay for
// things a steady state does not (inode and extent updates, cold caches).
constexpr int kWarmupWrites = 8;

// A file that is closed and removed when this goes away.
class ScratchFile {
 public:
  ScratchFile() = default;
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;
  ~ScratchFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
  }

  Status Create(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) return Status::IOError("cannot create " + path, errno);
    path_ = path;
    return Status::Ok();
  }

  // Makes sure [0, size) is allocated, as Cairn preallocates its segments
  // (fallocate mode 0: blocks reserved, reading as zeros).
  Status EnsureAllocated(uint64_t size) {
    if (size <= allocated_) return Status::Ok();
    int rc = ::posix_fallocate(fd_, 0, static_cast<off_t>(size));
    if (rc != 0) return Status::IOError("cannot preallocate " + path_, rc);
    allocated_ = size;
    return Status::Ok();
  }

  Status Write(uint64_t offset, const void* data, size_t size) {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
      ssize_t n = ::pwrite(fd_, p, size, static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Status::IOError("pwrite " + path_, errno);
      }
      p += n;
      offset += static_cast<uint64_t>(n);
      size -= static_cast<size_t>(n);
    }
    return Status::Ok();
  }

  Status Sync() {
    if (::fdatasync(fd_) != 0) {
      return Status::IOError("fdatasync " + path_, errno);
    }
    return Status::Ok();
  }

 private:
  int fd_ = -1;
  std::string path_;
  uint64_t allocated_ = 0;
};

struct LoopSpec {
  const char* file;
  const char* phase;
  size_t block;
  // 0: each write goes to the next block of space preallocated with
  // fallocate, which grows by `chunk` bytes outside the timed part.
  // Otherwise the first `rewrite_span` bytes are written and synced
  // untimed, then overwritten block after block, wrapping around.
  uint64_t chunk = 0;
  uint64_t rewrite_span = 0;
};

// Sequential pwrite + fdatasync of `spec.block` bytes for about `seconds`
// of timed writes. Records per-write latency when `latency` is not null.
Status SyncedWriteLoop(const std::string& dir, const LoopSpec& spec,
                       double seconds, const RawProgress& progress,
                       LatencyHistogram* latency, uint64_t* writes,
                       double* elapsed) {
  ScratchFile file;
  Status s = file.Create(dir + "/" + spec.file);
  if (!s.ok()) return s;
  const std::string buffer = IncompressibleBytes(spec.block);
  if (spec.rewrite_span > 0) {
    s = file.EnsureAllocated(spec.rewrite_span);
    for (uint64_t off = 0; s.ok() && off < spec.rewrite_span;
         off += spec.block) {
      s = file.Write(off, buffer.data(), spec.block);
    }
    if (s.ok()) s = file.Sync();
    if (!s.ok()) return s;
  }
  uint64_t offset = 0;
  auto write_next = [&](int64_t* took) -> Status {
    if (spec.rewrite_span > 0) {
      if (offset + spec.block > spec.rewrite_span) offset = 0;
    } else {
      const uint64_t want =
          (offset + spec.block + spec.chunk - 1) / spec.chunk * spec.chunk;
      Status g = file.EnsureAllocated(want);
      if (!g.ok()) return g;
    }
    const int64_t start = NowNanos();
    Status w = file.Write(offset, buffer.data(), spec.block);
    if (w.ok()) w = file.Sync();
    *took = NowNanos() - start;
    offset += spec.block;
    return w;
  };
  int64_t took = 0;
  for (int i = 0; i < kWarmupWrites; ++i) {
    s = write_next(&took);
    if (!s.ok()) return s;
  }
  const auto budget = static_cast<int64_t>(seconds * 1e9);
  int64_t timed = 0;
  int64_t next_progress = 0;
  uint64_t n = 0;
  while (timed < budget || n == 0) {
    s = write_next(&took);
    if (!s.ok()) return s;
    timed += took;
    ++n;
    if (latency != nullptr) latency->Record(static_cast<uint64_t>(took));
    if (progress && timed >= next_progress) {
      progress(spec.phase,
               static_cast<double>(timed) / static_cast<double>(budget));
      next_progress = timed + 200'000'000;
    }
  }
  *writes = n;
  *elapsed = static_cast<double>(timed) / 1e9;
  return Status::Ok();
}

// 1 MiB pwrite + fdatasync into fresh preallocated space until `stop`;
// adds the bytes written to *bytes.
Status SequentialWriter(const std::string& dir, const std::atomic<bool>* stop,
                        uint64_t* bytes) {
  ScratchFile file;
  Status s = file.Create(dir + "/raw-beside-writer.dat");
  if (!s.ok()) return s;
  const std::string buffer = IncompressibleBytes(kLargeWrite);
  constexpr uint64_t kChunk = 256ull << 20;
  for (uint64_t offset = 0; !stop->load(); offset += kLargeWrite) {
    s = file.EnsureAllocated((offset + kLargeWrite + kChunk - 1) / kChunk *
                             kChunk);
    if (s.ok()) s = file.Write(offset, buffer.data(), kLargeWrite);
    if (s.ok()) s = file.Sync();
    if (!s.ok()) return s;
    *bytes += kLargeWrite;
  }
  return Status::Ok();
}

}  // namespace

Status MeasureSyncBesideWriter(const std::string& dir, double seconds,
                               const RawProgress& progress, RawLimits* out) {
  std::atomic<bool> stop{false};
  uint64_t written = 0;
  Status writer = Status::Ok();
  const int64_t start = NowNanos();
  std::thread other([&] { writer = SequentialWriter(dir, &stop, &written); });
  LoopSpec rewrite{"raw-fdatasync-beside.dat",
                   "raw 4 KiB fdatasync beside a writer", kRawSyncBlock};
  rewrite.rewrite_span = kRawRewriteSpan;
  uint64_t ops = 0;
  double timed = 0;
  Status s =
      SyncedWriteLoop(dir, rewrite, seconds, progress,
                      &out->beside_writer_fsync_latency_ns, &ops, &timed);
  stop.store(true);
  other.join();
  if (!s.ok()) return s;
  if (!writer.ok()) return writer;
  const double elapsed = static_cast<double>(NowNanos() - start) / 1e9;
  out->beside_writer_mb_per_sec =
      elapsed > 0 ? static_cast<double>(written) / 1e6 / elapsed : 0;
  return Status::Ok();
}

Status MeasureRawLimits(const std::string& dir, double seconds,
                        uint64_t append_bytes, const RawProgress& progress,
                        RawLimits* out) {
  LoopSpec rewrite{"raw-fdatasync.dat", "raw 4 KiB fdatasync", kRawSyncBlock};
  rewrite.rewrite_span = kRawRewriteSpan;
  Status s =
      SyncedWriteLoop(dir, rewrite, seconds, progress, &out->fsync_latency_ns,
                      &out->fsync_ops, &out->fsync_seconds);
  if (!s.ok()) return s;
  out->fsync_per_sec = static_cast<double>(out->fsync_ops) / out->fsync_seconds;

  LoopSpec fresh{"raw-fdatasync-fresh.dat",
                 "raw 4 KiB fdatasync (fresh blocks)", kRawSyncBlock};
  fresh.chunk = 16ull << 20;
  uint64_t ops = 0;
  double fresh_seconds = 0;
  s = SyncedWriteLoop(dir, fresh, seconds, progress,
                      &out->fresh_fsync_latency_ns, &ops, &fresh_seconds);
  if (!s.ok()) return s;
  out->fresh_fsync_per_sec = static_cast<double>(ops) / fresh_seconds;

  LoopSpec bandwidth{"raw-bandwidth.dat", "raw 1 MiB fdatasync", kLargeWrite};
  bandwidth.chunk = 256ull << 20;
  uint64_t writes = 0;
  s = SyncedWriteLoop(dir, bandwidth, seconds, progress, nullptr, &writes,
                      &out->write_seconds);
  if (!s.ok()) return s;
  out->write_bytes = writes * kLargeWrite;
  out->write_mb_per_sec =
      static_cast<double>(out->write_bytes) / 1e6 / out->write_seconds;

  if (append_bytes == 0) return Status::Ok();
  // Into blocks written once before (as Cairn's zero-filled segments
  // are), like the 4 KiB loop: fresh, unwritten extents add the journaling
  // of their conversion to every fdatasync, which Cairn does not pay.
  LoopSpec appends{"raw-appends.dat", "raw batch-sized fdatasync",
                   static_cast<size_t>(append_bytes)};
  appends.rewrite_span = 64ull << 20;
  double append_seconds = 0;
  s = SyncedWriteLoop(dir, appends, seconds, progress, nullptr, &writes,
                      &append_seconds);
  if (!s.ok()) return s;
  out->append_write_bytes = append_bytes;
  out->append_writes_per_sec = static_cast<double>(writes) / append_seconds;
  out->append_write_mb_per_sec =
      out->append_writes_per_sec * static_cast<double>(append_bytes) / 1e6;
  return Status::Ok();
}

}  // namespace cairn::tools::bench

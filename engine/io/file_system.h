// Copyright (c) Cairn authors.
//
// The one I/O seam: every file operation of the engine goes through a
// FileSystem. Implementations: POSIX (production), in-memory (tests), and a
// fault-injecting wrapper (reliability tests) that can drop unsynced data,
// tear writes and fail operations.
#ifndef CAIRN_ENGINE_IO_FILE_SYSTEM_H_
#define CAIRN_ENGINE_IO_FILE_SYSTEM_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/result.h"
#include "cairn/status.h"

namespace cairn::io {

// A read-only view of a file's bytes (mmap in POSIX). The bytes stay valid
// until the region is destroyed. Reading past the file's current size is
// undefined, so callers map only what they know exists.
class MappedRegion {
 public:
  virtual ~MappedRegion() = default;
  virtual const uint8_t* data() const = 0;
  virtual size_t size() const = 0;
};

// A writable, shared, memory-mapped region (used for the small watermark
// file that other processes read). Stores become visible to other mappers
// of the same file at once; they are not durable until Sync().
class SharedRegion {
 public:
  virtual ~SharedRegion() = default;
  virtual uint8_t* data() = 0;
  virtual size_t size() const = 0;
};

class File {
 public:
  virtual ~File() = default;
  // Writes all of `data` at `offset` (pwrite loop). ENOSPC -> NoSpace.
  virtual Status Write(uint64_t offset, const void* data, size_t size) = 0;
  // Reads up to `size` bytes at `offset` into `out`; sets *read to the
  // number read (short only at end of file).
  virtual Status Read(uint64_t offset, void* out, size_t size,
                      size_t* read) = 0;
  // fdatasync: data written so far (and the size) reach stable storage.
  // After a failure the file's state is unknown; callers never retry.
  virtual Status Sync() = 0;
  // Reserves space so writes below `size` can not fail for lack of space
  // and mapping the range can not SIGBUS (fallocate, mode 0). Grows the
  // file to `size` if smaller; never shrinks it.
  virtual Status Allocate(uint64_t size) = 0;
  virtual Status Truncate(uint64_t size) = 0;
  // Drops the cached pages of [offset, offset + size) that are clean, so
  // later reads and mappings fetch them from the device (posix_fadvise
  // POSIX_FADV_DONTNEED). Dirty pages, and pages a process has mapped,
  // stay cached. Why it matters: when an fdatasync fails, Linux marks the
  // pages it could not write clean, and they stay readable from the cache
  // although the device never got them. Advisory: success does not
  // promise that every page was dropped.
  virtual Status DropCache(uint64_t offset, uint64_t size) = 0;
  virtual Result<uint64_t> Size() = 0;
  // Maps [offset, offset + size) read-only and shared.
  virtual Result<std::unique_ptr<MappedRegion>> Map(uint64_t offset,
                                                    size_t size) = 0;
  // Maps [0, size) read-write and shared; the file must be at least `size`
  // bytes and opened writable.
  virtual Result<std::unique_ptr<SharedRegion>> MapShared(size_t size) = 0;
  // Closes the descriptor, reporting close() errors. Destruction closes
  // too, but ignores errors.
  virtual Status Close() = 0;
};

enum class OpenMode : uint8_t {
  kReadOnly,        // must exist
  kReadWrite,       // must exist
  kCreate,          // read-write; created if missing
  kCreateExclusive  // read-write; fails if it exists
};

// An advisory exclusive lock on a file, released on destruction.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  virtual Result<std::unique_ptr<File>> OpenFile(const std::string& path,
                                                 OpenMode mode) = 0;
  // Creates one directory level; OK if it already exists.
  virtual Status CreateDir(const std::string& path) = 0;
  // fsyncs a directory so entries created, renamed or removed in it are
  // durable.
  virtual Status SyncDir(const std::string& path) = 0;
  // Names (not paths) of the entries in `path`, excluding "." and "..".
  virtual Result<std::vector<std::string>> ListDir(const std::string& path) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  virtual bool Exists(const std::string& path) = 0;
  // Takes an exclusive lock on `path` (created if missing) without
  // blocking; Locked if another process (or FileLock) holds it.
  virtual Result<std::unique_ptr<FileLock>> LockFile(
      const std::string& path) = 0;
  // True if some other holder currently has the lock on `path` (used by
  // read-only openers to learn whether a writer is live). Best effort.
  virtual bool IsLocked(const std::string& path) = 0;
};

// The process-wide POSIX file system (never destroyed).
FileSystem* PosixFileSystem();

// Joins two path components with one '/'.
std::string JoinPath(std::string_view dir, std::string_view name);

}  // namespace cairn::io

#endif  // CAIRN_ENGINE_IO_FILE_SYSTEM_H_

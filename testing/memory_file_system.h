// Copyright (c) Cairn authors.
//
// An in-memory FileSystem for tests that models what survives a power
// loss, so crash recovery can be tested without killing processes.
//
// Durability model (the POSIX one, made strict):
//  - Every file has current bytes (what reads and maps see) and durable
//    bytes. File::Sync makes the file's current data and size durable.
//  - Every directory has a current and a durable set of entries. Creating,
//    renaming or removing a name changes only the current set; SyncDir
//    makes the current set durable. Syncing a file does not make its name
//    durable, and syncing a directory does not make the directory's own
//    name (in its parent) durable.
//  - A failed writeback (FailWriteback) leaves written bytes readable but
//    clean and never durable, until File::DropCache or a crash shows the
//    durable bytes again (Linux after a failed fdatasync).
//  - SimulateCrash() reverts everything to its durable state: unsynced
//    data is lost, unsynced new names vanish (with everything below them),
//    unsynced removals and renames are undone. File handles, locks and
//    mappings from before the crash become stale: their operations fail
//    with IOError, and mapped memory stays readable (frozen) until the
//    region is destroyed. The file system itself is usable afterwards, as
//    after a reboot.
//
// Paths are plain strings: "/a/b" and "a/b" name different trees (both
// roots always exist), repeated and trailing slashes are ignored, and "."
// or ".." get no special meaning.
//
// Memory behind a mapping never moves: Allocate(size) reserves the
// capacity up front, and a Write, Truncate or Allocate that would need
// more capacity while a mapping of the file is alive fails with
// IOError("would move mapped memory"). The engine allocates before it
// maps, so this only trips on engine bugs.
//
// Thread-safe: one mutex guards the whole tree. Mapped memory is read
// without it, exactly as the page cache is.
#ifndef CAIRN_TESTING_MEMORY_FILE_SYSTEM_H_
#define CAIRN_TESTING_MEMORY_FILE_SYSTEM_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/io/file_system.h"

namespace cairn::io {

class MemoryFileSystem final : public FileSystem {
 public:
  MemoryFileSystem();
  ~MemoryFileSystem() override;
  MemoryFileSystem(const MemoryFileSystem&) = delete;
  MemoryFileSystem& operator=(const MemoryFileSystem&) = delete;

  Result<std::unique_ptr<File>> OpenFile(const std::string& path,
                                         OpenMode mode) override;
  Status CreateDir(const std::string& path) override;
  Status SyncDir(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& path) override;
  Status RemoveFile(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  bool Exists(const std::string& path) override;
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override;
  bool IsLocked(const std::string& path) override;

  // Loses everything not made durable (see the model above).
  void SimulateCrash();

  // Models a failed writeback of `path`, as Linux leaves it after an
  // fdatasync reports an error: the bytes written since the file's last
  // Sync stay readable (and mapped) as they are, but they are clean and
  // never reach durable storage: a later Sync does not persist them, and
  // DropCache (of unmapped pages) or SimulateCrash brings back the durable
  // bytes. Rewriting such a byte makes it dirty again. Size changes stay
  // pending. No-op for a missing file.
  void FailWriteback(const std::string& path);

  // Number of operations performed so far through this file system and
  // its files, regions excluded. A hook for fault injection: "fail the
  // N-th operation" tests can first count a clean run.
  uint64_t operation_count() const;

  // DropCache drops only the whole units of this size (aligned in the
  // file) that lie inside its range, and the file's last partial unit when
  // the range reaches the end: as Linux, which drops only folios wholly
  // inside the range, with the largest folio the engine's 2 MiB writes
  // create.
  static constexpr uint64_t kCacheUnit = uint64_t{2} << 20;

  // Largest size a file may reach; beyond it writes fail with NoSpace
  // instead of exhausting the test process's memory.
  static constexpr uint64_t kMaxFileSize = uint64_t{4} << 30;

  struct State;  // shared with the File, FileLock and region objects

 private:
  std::shared_ptr<State> state_;
};

// A fresh in-memory file system, as a FileSystem.
std::unique_ptr<FileSystem> NewMemoryFileSystem();

}  // namespace cairn::io

#endif  // CAIRN_TESTING_MEMORY_FILE_SYSTEM_H_

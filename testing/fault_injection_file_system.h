// Copyright (c) Cairn authors.
//
// FaultInjectionFileSystem: a FileSystem wrapper for reliability tests that
// fails chosen operations and, over a MemoryFileSystem, simulates a power
// loss harsher than MemoryFileSystem::SimulateCrash alone.
//
// Error injection (any base): "fail the N-th write / sync / allocate ..."
// with EIO (Status::IOError) or ENOSPC (Status::NoSpace), once or from then
// on, optionally applying a prefix of a failing write first (a short write
// before the error), and random failures with a per-operation probability.
// Counters per operation kind let a test count a clean run first and then
// sweep N = 1, 2, 3, ...
//
// A failed File::Sync (over a MemoryFileSystem) behaves as on Linux: the
// file's writes since its last successful Sync never reach the device;
// they stay readable in the cache, clean, so no later Sync persists them,
// until File::DropCache or a power loss shows the durable bytes again
// (MemoryFileSystem::FailWriteback).
//
// Power loss (base must be a MemoryFileSystem): every write since its
// file's last successful Sync is remembered. Crash() then
//  1. persists, per directory with unsynced changes, either nothing or the
//     directory as it is now (a journal that happened to commit),
//  2. snapshots each live shared mapping (the page cache may write it back
//     at any time without an msync),
//  3. calls the base's SimulateCrash() (everything reverts to durable), and
//  4. re-applies a random subset of the remembered writes, in order: each
//     is dropped, kept whole, or torn at 512-byte sector granularity (a
//     prefix of its sectors, or an arbitrary subset: sectors reach the
//     platter out of order), and a kept one may get one flipped bit
//     (garbage written during the power cut). Re-applied bytes are synced
//     in the base: they "reached the platter".
// Writes to a file whose name was never made durable are re-applied only if
// step 1 persisted its directory. Every choice is drawn from the seed given
// at construction mixed with what the choice is about (the crash number and
// the file path, directory or operation count of that path), never from a
// sequence shared between files: I/O on other files (a background thread)
// does not change the choices made for a file, so the I/O of one thread
// replays exactly from the seed.
//
// Thread-safe: one mutex serialises every forwarded operation, which makes
// Crash() (and a crash triggered inside an operation) atomic with respect
// to the engine's I/O. Handles opened before a crash are stale afterwards,
// as the base's are. Mapped memory is not intercepted (reads of mappings
// cost nothing, stores to shared mappings are picked up at a crash).
#ifndef CAIRN_TESTING_FAULT_INJECTION_FILE_SYSTEM_H_
#define CAIRN_TESTING_FAULT_INJECTION_FILE_SYSTEM_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/io/file_system.h"
#include "testing/memory_file_system.h"

namespace cairn::io {

// The operations that can be counted and failed.
enum class FaultOp : uint8_t {
  kWrite,
  kSync,      // File::Sync
  kAllocate,  // File::Allocate
  kTruncate,
  kRead,
  kOpen,  // FileSystem::OpenFile (any mode)
  kCreateDir,
  kSyncDir,
  kRemove,
  kRename,
  kLock,
  kMap,  // File::Map and File::MapShared
};
inline constexpr size_t kFaultOpCount = 12;
const char* FaultOpName(FaultOp op);

enum class FaultError : uint8_t {
  kIO,       // Status::IOError with EIO
  kNoSpace,  // Status::NoSpace (ENOSPC)
};

// Fails the `nth` (1-based) operation of kind `op` whose path ends with
// `path_suffix` (empty: any path), and with `sticky` every later one too.
struct FaultRule {
  FaultOp op = FaultOp::kWrite;
  uint64_t nth = 1;
  FaultError error = FaultError::kIO;
  bool sticky = false;
  // kWrite only: before failing, apply a random prefix (possibly empty) of
  // the bytes, as a pwrite loop that wrote some bytes before the error.
  bool partial_write = false;
  // With partial_write: exactly this many bytes (capped below the write's
  // size) instead of a random number.
  uint64_t partial_bytes = UINT64_MAX;
  std::string path_suffix;

  // Every operation of kind `op` from the next one on fails with `error`
  // (a dead device, a full disk), until ClearFaults().
  static FaultRule Always(FaultOp op, FaultError error = FaultError::kIO) {
    FaultRule rule;
    rule.op = op;
    rule.error = error;
    rule.sticky = true;
    return rule;
  }
};

struct CrashOptions {
  // Fate of each unsynced write: kept whole / torn / dropped (the rest).
  double keep_whole = 0.35;
  double keep_torn = 0.35;
  // Chance that a kept or torn write gets one flipped bit.
  double flip_bit = 0.15;
  // Chance that a directory with unsynced changes is persisted as it is.
  double persist_dir = 0.5;
  // Chance that a live shared mapping is written back as it is.
  double persist_shared = 0.5;

  // The plain power loss of MemoryFileSystem::SimulateCrash: every write
  // since its file's last Sync and every directory change since its last
  // SyncDir is lost; nothing is torn or flipped. For tests whose oracle is
  // "exactly what was synced survives".
  static CrashOptions LoseUnsynced() {
    return {.keep_whole = 0,
            .keep_torn = 0,
            .flip_bit = 0,
            .persist_dir = 0,
            .persist_shared = 0};
  }
};

struct CrashReport {
  uint64_t unsynced_writes = 0;
  uint64_t kept_whole = 0;
  uint64_t torn = 0;
  uint64_t dropped = 0;  // includes writes to files whose name was lost
  uint64_t bits_flipped = 0;
  uint64_t dirs_persisted = 0;
  uint64_t shared_persisted = 0;
  std::string ToString() const;
};

class FaultInjectionFileSystem final : public FileSystem {
 public:
  // Error injection and power loss over an in-memory file system.
  FaultInjectionFileSystem(MemoryFileSystem* base, uint64_t seed);
  // Error injection only (e.g. over the POSIX file system); Crash() must
  // not be called.
  FaultInjectionFileSystem(FileSystem* base, uint64_t seed);
  ~FaultInjectionFileSystem() override;
  FaultInjectionFileSystem(const FaultInjectionFileSystem&) = delete;
  FaultInjectionFileSystem& operator=(const FaultInjectionFileSystem&) = delete;

  // --- error injection ---
  void AddRule(const FaultRule& rule);
  // Each operation of kind `op` fails with this probability (seeded RNG);
  // failing writes apply a random prefix first if `partial_write`.
  void SetRandomFailure(FaultOp op, double probability, FaultError error,
                        bool partial_write = false);
  // Removes every rule and random failure (e.g. "space was freed").
  void ClearFaults();
  // Sync calls made on a file handle after a Sync of that same handle
  // failed: each one is an fsync retry (fsyncgate), which the engine must
  // never do.
  uint64_t retried_syncs() const;
  // SyncDir calls on a directory after a SyncDir of it failed.
  uint64_t retried_dir_syncs() const;
  // The same, of the directory `path` only.
  uint64_t retried_dir_syncs(const std::string& path) const;
  // Operations of kind `op` attempted so far (failed ones included).
  uint64_t count(FaultOp op) const;
  // Faults injected so far, and the message of the last one.
  uint64_t faults_injected() const;
  std::string last_fault() const;

  // --- power loss ---
  void set_crash_options(const CrashOptions& options);
  // Simulates a power loss now (see the file comment). The machine then
  // stays off: every operation fails with IOError (EIO) and Exists and
  // IsLocked answer false, so threads of the "dead" process can not act on
  // the rebooted disk, until PowerOn().
  CrashReport Crash();
  // Boots the machine again. Handles from before the crash stay stale.
  void PowerOn();
  // Runs Crash() inside the `n`-th (1-based, counted from now) mutating
  // operation (write, sync, allocate, truncate, open, create directory,
  // remove, rename, lock, directory sync) on a path ending with
  // `path_suffix`, before that operation takes effect; it and every later
  // one fail until PowerOn(). 0 disarms. (A suffix such as ".seg" counts
  // only the operations of one thread, which keeps the crash point
  // reproducible while other threads do I/O too.)
  void CrashAtMutation(uint64_t n, std::string path_suffix = "");
  bool crashed_by_trigger() const;
  // Disarms the trigger (as CrashAtMutation(0)) and returns whether it had
  // fired, in one step: background threads of the store may reach the
  // trigger between a separate check and the disarm.
  bool DisarmCrash();
  // Sum of all crash reports so far.
  CrashReport total_report() const;
  // Mutating operations counted by CrashAtMutation so far.
  uint64_t mutations() const;

  // --- deterministic interleavings ---
  // The next write (kWrite) or file sync (kSync) on a path ending with
  // `path_suffix` blocks before it takes effect until Release().
  // WaitUntilHeld() returns once one is blocked. Lets a test queue work
  // behind a busy commit thread without timing.
  void HoldNext(FaultOp op, std::string path_suffix = "");
  void WaitUntilHeld();
  void Release();

  // --- FileSystem ---
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

  struct Shared;  // state shared with files and regions

 private:
  std::shared_ptr<Shared> shared_;
};

}  // namespace cairn::io

#endif  // CAIRN_TESTING_FAULT_INJECTION_FILE_SYSTEM_H_

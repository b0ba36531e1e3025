// Copyright (c) Cairn authors.
//
// A thin FileSystem wrapper for engine tests that fails chosen operations:
// every fdatasync after the N-th, or space allocation with ENOSPC. (The
// reliability harness has the full fault injector; this is the minimum the
// engine's fail-stop tests need.)
#ifndef CAIRN_TESTS_SUPPORT_FAULTY_FILE_SYSTEM_H_
#define CAIRN_TESTS_SUPPORT_FAULTY_FILE_SYSTEM_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "engine/io/file_system.h"

namespace cairn::testing {

class FaultyFileSystem : public io::FileSystem {
 public:
  explicit FaultyFileSystem(io::FileSystem* base) : base_(base) {}

  // Syncs after this many more succeed fail with EIO (-1: never).
  std::atomic<int> syncs_until_failure{-1};
  // File::Allocate fails with ENOSPC while set.
  std::atomic<bool> allocate_no_space{false};
  std::atomic<int> sync_calls{0};

  Result<std::unique_ptr<io::File>> OpenFile(const std::string& path,
                                             io::OpenMode mode) override;
  Status CreateDir(const std::string& path) override {
    return base_->CreateDir(path);
  }
  Status SyncDir(const std::string& path) override {
    return base_->SyncDir(path);
  }
  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    return base_->ListDir(path);
  }
  Status RemoveFile(const std::string& path) override {
    return base_->RemoveFile(path);
  }
  Status Rename(const std::string& from, const std::string& to) override {
    return base_->Rename(from, to);
  }
  bool Exists(const std::string& path) override { return base_->Exists(path); }
  Result<std::unique_ptr<io::FileLock>> LockFile(
      const std::string& path) override {
    return base_->LockFile(path);
  }
  bool IsLocked(const std::string& path) override {
    return base_->IsLocked(path);
  }

  // Consumes one sync: true if it must fail.
  bool NextSyncFails();

 private:
  io::FileSystem* base_;
};

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_SUPPORT_FAULTY_FILE_SYSTEM_H_

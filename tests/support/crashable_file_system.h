// Copyright (c) Cairn authors.
//
// One "incarnation" of a process on top of a MemoryFileSystem that can lose
// power. Crash() kills the incarnation between two file operations: every
// later operation through it (or through files it opened) fails, as it
// would in a dead process, and the memory file system loses what was not
// synced. The next incarnation is a new CrashableFileSystem over the same
// memory file system.
#ifndef CAIRN_TESTS_SUPPORT_CRASHABLE_FILE_SYSTEM_H_
#define CAIRN_TESTS_SUPPORT_CRASHABLE_FILE_SYSTEM_H_

#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "engine/io/file_system.h"
#include "testing/memory_file_system.h"

namespace cairn::testing {

class CrashableFileSystem : public io::FileSystem {
 public:
  explicit CrashableFileSystem(io::MemoryFileSystem* base) : base_(base) {}

  // Power loss now. Waits for file operations in progress to finish.
  void Crash();

  // Runs `op` unless the incarnation is dead.
  template <typename F>
  auto Guard(F&& op) -> decltype(op()) {
    std::shared_lock<std::shared_mutex> lock(mu_);
    if (dead_) return Dead();
    return op();
  }

  Result<std::unique_ptr<io::File>> OpenFile(const std::string& path,
                                             io::OpenMode mode) override;
  Status CreateDir(const std::string& path) override {
    return Guard([&] { return base_->CreateDir(path); });
  }
  Status SyncDir(const std::string& path) override {
    return Guard([&] { return base_->SyncDir(path); });
  }
  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    return Guard([&] { return base_->ListDir(path); });
  }
  Status RemoveFile(const std::string& path) override {
    return Guard([&] { return base_->RemoveFile(path); });
  }
  Status Rename(const std::string& from, const std::string& to) override {
    return Guard([&] { return base_->Rename(from, to); });
  }
  bool Exists(const std::string& path) override {
    std::shared_lock<std::shared_mutex> lock(mu_);
    return !dead_ && base_->Exists(path);
  }
  Result<std::unique_ptr<io::FileLock>> LockFile(
      const std::string& path) override {
    return Guard([&] { return base_->LockFile(path); });
  }
  bool IsLocked(const std::string& path) override {
    std::shared_lock<std::shared_mutex> lock(mu_);
    return !dead_ && base_->IsLocked(path);
  }

 private:
  static Status Dead() { return Status::IOError("the process lost power"); }

  io::MemoryFileSystem* base_;
  std::shared_mutex mu_;
  bool dead_ = false;  // guarded by mu_
};

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_SUPPORT_CRASHABLE_FILE_SYSTEM_H_

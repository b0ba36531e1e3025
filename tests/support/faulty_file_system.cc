// Copyright (c) Cairn authors.
#include "tests/support/faulty_file_system.h"

#include <cerrno>

namespace cairn::testing {
namespace {

class FaultyFile : public io::FileWrapper {
 public:
  FaultyFile(std::unique_ptr<io::File> base, FaultyFileSystem* fs)
      : FileWrapper(std::move(base)), fs_(fs) {}
  Status Sync() override {
    if (fs_->NextSyncFails()) {
      return Status::IOError("injected fsync failure", EIO);
    }
    return target()->Sync();
  }
  Status Allocate(uint64_t size) override {
    if (fs_->allocate_no_space) return Status::NoSpace("injected ENOSPC");
    return target()->Allocate(size);
  }

 private:
  FaultyFileSystem* fs_;
};

}  // namespace

bool FaultyFileSystem::NextSyncFails() {
  ++sync_calls;
  int left = syncs_until_failure.load();
  if (left < 0) return false;
  if (left == 0) return true;
  syncs_until_failure.store(left - 1);
  return false;
}

Result<std::unique_ptr<io::File>> FaultyFileSystem::OpenFile(
    const std::string& path, io::OpenMode mode) {
  auto file = target()->OpenFile(path, mode);
  if (!file.ok()) return file.status();
  return std::unique_ptr<io::File>(
      std::make_unique<FaultyFile>(std::move(file.value()), this));
}

}  // namespace cairn::testing

// Copyright (c) Cairn authors.
#include "tests/support/faulty_file_system.h"

#include <cerrno>

namespace cairn::testing {
namespace {

class FaultyFile : public io::File {
 public:
  FaultyFile(std::unique_ptr<io::File> base, FaultyFileSystem* fs)
      : base_(std::move(base)), fs_(fs) {}
  Status Write(uint64_t offset, const void* data, size_t size) override {
    return base_->Write(offset, data, size);
  }
  Status Read(uint64_t offset, void* out, size_t size, size_t* read) override {
    return base_->Read(offset, out, size, read);
  }
  Status Sync() override {
    if (fs_->NextSyncFails())
      return Status::IOError("injected fsync failure", EIO);
    return base_->Sync();
  }
  Status Allocate(uint64_t size) override {
    if (fs_->allocate_no_space) return Status::NoSpace("injected ENOSPC");
    return base_->Allocate(size);
  }
  Status Truncate(uint64_t size) override { return base_->Truncate(size); }
  Status DropCache(uint64_t offset, uint64_t size) override {
    return base_->DropCache(offset, size);
  }
  Result<uint64_t> Size() override { return base_->Size(); }
  Result<std::unique_ptr<io::MappedRegion>> Map(uint64_t offset,
                                                size_t size) override {
    return base_->Map(offset, size);
  }
  Result<std::unique_ptr<io::SharedRegion>> MapShared(size_t size) override {
    return base_->MapShared(size);
  }
  Status Close() override { return base_->Close(); }

 private:
  std::unique_ptr<io::File> base_;
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
  auto file = base_->OpenFile(path, mode);
  if (!file.ok()) return file.status();
  return std::unique_ptr<io::File>(
      std::make_unique<FaultyFile>(std::move(file.value()), this));
}

}  // namespace cairn::testing

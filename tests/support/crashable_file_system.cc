// Copyright (c) Cairn authors.
#include "tests/support/crashable_file_system.h"

#include <mutex>

namespace cairn::testing {
namespace {

class CrashableFile : public io::File {
 public:
  CrashableFile(std::unique_ptr<io::File> base, CrashableFileSystem* fs)
      : base_(std::move(base)), fs_(fs) {}
  Status Write(uint64_t offset, const void* data, size_t size) override {
    return fs_->Guard([&] { return base_->Write(offset, data, size); });
  }
  Status Read(uint64_t offset, void* out, size_t size, size_t* read) override {
    return fs_->Guard([&] { return base_->Read(offset, out, size, read); });
  }
  Status Sync() override {
    return fs_->Guard([&] { return base_->Sync(); });
  }
  Status Allocate(uint64_t size) override {
    return fs_->Guard([&] { return base_->Allocate(size); });
  }
  Status Truncate(uint64_t size) override {
    return fs_->Guard([&] { return base_->Truncate(size); });
  }
  Status DropCache(uint64_t offset, uint64_t size) override {
    return fs_->Guard([&] { return base_->DropCache(offset, size); });
  }
  Result<uint64_t> Size() override {
    return fs_->Guard([&] { return base_->Size(); });
  }
  Result<std::unique_ptr<io::MappedRegion>> Map(uint64_t offset,
                                                size_t size) override {
    return fs_->Guard([&] { return base_->Map(offset, size); });
  }
  Result<std::unique_ptr<io::SharedRegion>> MapShared(size_t size) override {
    return fs_->Guard([&] { return base_->MapShared(size); });
  }
  Status Close() override { return base_->Close(); }

 private:
  std::unique_ptr<io::File> base_;
  CrashableFileSystem* fs_;
};

}  // namespace

void CrashableFileSystem::Crash() {
  std::unique_lock<std::shared_mutex> lock(mu_);
  dead_ = true;
  base_->SimulateCrash();
}

Result<std::unique_ptr<io::File>> CrashableFileSystem::OpenFile(
    const std::string& path, io::OpenMode mode) {
  return Guard([&]() -> Result<std::unique_ptr<io::File>> {
    auto file = base_->OpenFile(path, mode);
    if (!file.ok()) return file.status();
    return std::unique_ptr<io::File>(
        std::make_unique<CrashableFile>(std::move(file.value()), this));
  });
}

}  // namespace cairn::testing

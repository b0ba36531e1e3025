// Copyright (c) Cairn authors.
//
// FileSystemWrapper and FileWrapper forward every call to another file
// system or file. A test double derives from them and overrides only what
// it changes (a fault, a gate, a counter), so that a new method of the I/O
// seam needs no change in every double.
#ifndef CAIRN_TESTING_FILE_SYSTEM_WRAPPER_H_
#define CAIRN_TESTING_FILE_SYSTEM_WRAPPER_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/io/file_system.h"

namespace cairn::io {

class FileWrapper : public File {
 public:
  explicit FileWrapper(std::unique_ptr<File> target)
      : target_(std::move(target)) {}

  Status Write(uint64_t offset, const void* data, size_t size) override {
    return target_->Write(offset, data, size);
  }
  Status Read(uint64_t offset, void* out, size_t size, size_t* read) override {
    return target_->Read(offset, out, size, read);
  }
  Status Sync() override { return target_->Sync(); }
  Status Allocate(uint64_t size) override { return target_->Allocate(size); }
  Status Truncate(uint64_t size) override { return target_->Truncate(size); }
  Status DropCache(uint64_t offset, uint64_t size) override {
    return target_->DropCache(offset, size);
  }
  Result<uint64_t> Size() override { return target_->Size(); }
  Result<std::unique_ptr<MappedRegion>> Map(uint64_t offset,
                                            size_t size) override {
    return target_->Map(offset, size);
  }
  Result<std::unique_ptr<SharedRegion>> MapShared(size_t size) override {
    return target_->MapShared(size);
  }
  Status Close() override { return target_->Close(); }

 protected:
  File* target() const { return target_.get(); }

 private:
  std::unique_ptr<File> target_;
};

// Forwards to `target`, which must outlive the wrapper.
class FileSystemWrapper : public FileSystem {
 public:
  explicit FileSystemWrapper(FileSystem* target) : target_(target) {}

  Result<std::unique_ptr<File>> OpenFile(const std::string& path,
                                         OpenMode mode) override {
    return target_->OpenFile(path, mode);
  }
  Status CreateDir(const std::string& path) override {
    return target_->CreateDir(path);
  }
  Status SyncDir(const std::string& path) override {
    return target_->SyncDir(path);
  }
  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    return target_->ListDir(path);
  }
  Status RemoveFile(const std::string& path) override {
    return target_->RemoveFile(path);
  }
  Status Rename(const std::string& from, const std::string& to) override {
    return target_->Rename(from, to);
  }
  bool Exists(const std::string& path) override {
    return target_->Exists(path);
  }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    return target_->LockFile(path);
  }
  bool IsLocked(const std::string& path) override {
    return target_->IsLocked(path);
  }

 protected:
  FileSystem* target() const { return target_; }

 private:
  FileSystem* const target_;
};

}  // namespace cairn::io

#endif  // CAIRN_TESTING_FILE_SYSTEM_WRAPPER_H_

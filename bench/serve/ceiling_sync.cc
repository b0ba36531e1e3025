// Copyright (c) Cairn authors.
#include "bench/serve/ceiling_sync.h"

#include <utility>

namespace cairn::bench::serve {

Result<std::unique_ptr<CeilingSync>> CeilingSync::Open(io::FileSystem* fs,
                                                       const std::string& dir) {
  const std::string path = io::JoinPath(dir, "ceiling-sync.dat");
  auto file = fs->OpenFile(path, io::OpenMode::kCreate);
  if (!file.ok()) return file.status();
  std::unique_ptr<CeilingSync> sync(
      new CeilingSync(fs, path, std::move(file).value()));
  Status s = sync->file_->Truncate(0);
  if (s.ok()) s = sync->file_->Allocate(kSpan);
  for (uint64_t at = 0; s.ok() && at < kSpan; at += kBlock) {
    s = sync->file_->Write(at, sync->block_.data(), kBlock);
  }
  if (s.ok()) s = sync->file_->Sync();
  if (s.ok()) s = fs->SyncDir(dir);
  if (!s.ok()) return s;
  return sync;
}

CeilingSync::CeilingSync(io::FileSystem* fs, std::string path,
                         std::unique_ptr<io::File> file)
    : fs_(fs),
      path_(std::move(path)),
      block_(tools::bench::IncompressibleBytes(kBlock)),
      file_(std::move(file)) {}

CeilingSync::~CeilingSync() {
  file_.reset();
  (void)fs_->RemoveFile(path_);
}

Status CeilingSync::Sync() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!failed_.ok()) return failed_;
  if (offset_ + kBlock > kSpan) offset_ = 0;
  Status s = file_->Write(offset_, block_.data(), kBlock);
  if (s.ok()) s = file_->Sync();
  if (!s.ok()) {
    failed_ = s;
    return s;
  }
  offset_ += kBlock;
  ++syncs_;
  return Status::Ok();
}

uint64_t CeilingSync::syncs() {
  std::lock_guard<std::mutex> lock(mu_);
  return syncs_;
}

}  // namespace cairn::bench::serve

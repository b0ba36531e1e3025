// Copyright (c) Cairn authors.
#include "engine/src/checkpoint_store.h"

#include <cstring>

#include "segment/checksum.h"

namespace cairn::engine {
namespace {

constexpr char kMagic[8] = {'C', 'A', 'I', 'R', 'N', 'C', 'K', 'P'};
constexpr uint32_t kVersion = 1;
constexpr size_t kFileSize = 32;
constexpr uint64_t kChecksumSeed = 0x434b5054;  // "CKPT"

}  // namespace

CheckpointStore::CheckpointStore(io::FileSystem* fs, std::string store_dir,
                                 FailStop* fail_stop)
    : fs_(fs),
      store_dir_(std::move(store_dir)),
      dir_(io::JoinPath(store_dir_, kCheckpointDirName)),
      fail_stop_(fail_stop) {}

Status CheckpointStore::Synced(Status status) {
  if (!status.ok()) fail_stop_->Fail(status);
  return status;
}

Status CheckpointStore::ValidateName(std::string_view name) {
  if (name.empty() || name.size() > 200) {
    return Status::InvalidArgument("checkpoint name must be 1..200 bytes");
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) {
      return Status::InvalidArgument(
          "checkpoint names use only letters, digits, '.', '_' and '-'");
    }
  }
  if (name == "." || name == "..") {
    return Status::InvalidArgument("checkpoint name must not be . or ..");
  }
  return Status::Ok();
}

Status CheckpointStore::Save(std::string_view name, uint64_t position) {
  Status s = ValidateName(name);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  // Checked under the lock: a save that failed an fsync meanwhile stops
  // this one from syncing again.
  if (fail_stop_->failed()) return fail_stop_->Gate();
  if (!fs_->Exists(dir_)) {
    s = fs_->CreateDir(dir_);
    if (s.ok()) s = Synced(fs_->SyncDir(store_dir_));
    if (!s.ok()) return s;
  }
  uint8_t bytes[kFileSize] = {};
  std::memcpy(bytes, kMagic, sizeof(kMagic));
  std::memcpy(bytes + 8, &kVersion, sizeof(kVersion));
  std::memcpy(bytes + 16, &position, sizeof(position));
  uint64_t sum = segment::Checksum64(bytes, 24, kChecksumSeed);
  std::memcpy(bytes + 24, &sum, sizeof(sum));

  std::string final_path = io::JoinPath(dir_, std::string(name) + ".ckpt");
  std::string temp_path = final_path + ".tmp";
  auto file = fs_->OpenFile(temp_path, io::OpenMode::kCreate);
  if (!file.ok()) return file.status();
  s = (*file)->Truncate(0);
  if (s.ok()) s = (*file)->Write(0, bytes, sizeof(bytes));
  if (s.ok()) s = Synced((*file)->Sync());
  if (s.ok()) s = (*file)->Close();
  if (s.ok()) s = fs_->Rename(temp_path, final_path);
  if (s.ok()) s = Synced(fs_->SyncDir(dir_));
  return s;
}

Result<std::optional<uint64_t>> CheckpointStore::Load(std::string_view name) {
  Status s = ValidateName(name);
  if (!s.ok()) return s;
  std::string path = io::JoinPath(dir_, std::string(name) + ".ckpt");
  if (!fs_->Exists(path)) return std::optional<uint64_t>();
  auto file = fs_->OpenFile(path, io::OpenMode::kReadOnly);
  if (!file.ok()) return file.status();
  uint8_t bytes[kFileSize];
  size_t got = 0;
  s = (*file)->Read(0, bytes, sizeof(bytes), &got);
  if (!s.ok()) return s;
  uint64_t sum = 0;
  std::memcpy(&sum, bytes + 24, sizeof(sum));
  if (got != kFileSize || std::memcmp(bytes, kMagic, sizeof(kMagic)) != 0 ||
      sum != segment::Checksum64(bytes, 24, kChecksumSeed)) {
    return Status::Corruption(path, 0, "checkpoint file does not verify");
  }
  uint32_t version = 0;
  std::memcpy(&version, bytes + 8, sizeof(version));
  if (version != kVersion) {
    return Status::NotSupported("checkpoint version " +
                                std::to_string(version) + " is not supported");
  }
  uint64_t position = 0;
  std::memcpy(&position, bytes + 16, sizeof(position));
  return std::optional<uint64_t>(position);
}

Status CheckpointStore::Remove(std::string_view name) {
  Status s = ValidateName(name);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  if (fail_stop_->failed()) return fail_stop_->Gate();
  std::string path = io::JoinPath(dir_, std::string(name) + ".ckpt");
  if (!fs_->Exists(path)) return Status::Ok();
  s = fs_->RemoveFile(path);
  // Durable like a save: a crash after this returns never brings it back.
  if (s.ok()) s = Synced(fs_->SyncDir(dir_));
  return s;
}

}  // namespace cairn::engine

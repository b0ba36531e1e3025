// Copyright (c) Cairn authors.
#include "engine/src/small_file.h"

#include <algorithm>

namespace cairn::engine {

Result<std::string> ReadSmallFile(io::FileSystem* fs, const std::string& path,
                                  size_t limit) {
  std::string bytes;
  auto read = ReadFileInto(fs, path, limit, &bytes);
  if (!read.ok()) return read.status();
  bytes.resize(read->size());
  return bytes;
}

Result<std::string_view> ReadFileInto(io::FileSystem* fs,
                                      const std::string& path, size_t limit,
                                      std::string* buffer) {
  auto file = fs->OpenFile(path, io::OpenMode::kReadOnly);
  if (!file.ok()) return file.status();
  auto size = (*file)->Size();
  if (!size.ok()) return size.status();
  if (*size > limit) {
    return Status::InvalidArgument(path + " is larger than expected");
  }
  if (buffer->size() < *size) buffer->resize(*size);
  size_t got = 0;
  Status s = (*file)->Read(0, buffer->data(), *size, &got);
  if (!s.ok()) return s;
  return std::string_view(buffer->data(), got);
}

Status WriteFileSynced(io::FileSystem* fs, const std::string& path,
                       std::string_view bytes) {
  return WriteFileSyncedInPieces(fs, path, bytes, 0, {});
}

Status WriteFileSyncedInPieces(io::FileSystem* fs, const std::string& path,
                               std::string_view bytes, size_t bytes_per_sync,
                               const std::function<void()>& after_each) {
  auto file = fs->OpenFile(path, io::OpenMode::kCreate);
  if (!file.ok()) return file.status();
  // A leftover file (of a stopped run) may be longer than `bytes`.
  Status s = (*file)->Truncate(0);
  const size_t piece = bytes_per_sync == 0 ? bytes.size() : bytes_per_sync;
  size_t done = 0;
  // An empty file still gets its one fdatasync.
  do {
    const size_t n = std::min(piece, bytes.size() - done);
    if (s.ok()) s = (*file)->Write(done, bytes.data() + done, n);
    if (s.ok()) s = (*file)->Sync();
    if (!s.ok()) break;
    done += n;
    if (after_each) after_each();
  } while (done < bytes.size());
  if (s.ok()) s = (*file)->Close();
  return s;
}

Status ReplaceFile(io::FileSystem* fs, const std::string& dir,
                   const std::string& name, std::string_view temp_suffix,
                   std::string_view bytes) {
  const std::string path = io::JoinPath(dir, name);
  const std::string temp = path + std::string(temp_suffix);
  Status s = WriteFileSynced(fs, temp, bytes);
  if (s.ok()) s = fs->Rename(temp, path);
  if (s.ok()) s = fs->SyncDir(dir);
  return s;
}

}  // namespace cairn::engine

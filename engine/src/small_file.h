// Copyright (c) Cairn authors.
//
// Small whole-file reads and crash-safe replacements of the store's small
// text files (BACKUP, SCAVENGE), through the file-system interface.
#ifndef CAIRN_ENGINE_SRC_SMALL_FILE_H_
#define CAIRN_ENGINE_SRC_SMALL_FILE_H_

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "cairn/result.h"
#include "engine/io/file_system.h"

namespace cairn::engine {

// The bytes of `path`; InvalidArgument if it is larger than `limit` (it is
// then not the small file it should be).
Result<std::string> ReadSmallFile(io::FileSystem* fs, const std::string& path,
                                  size_t limit);

// ReadSmallFile into a buffer that only grows: the view of *buffer's
// first bytes holds the file. A caller reading file after file through one
// buffer allocates (and the kernel zero-fills) its pages once, not per
// file.
Result<std::string_view> ReadFileInto(io::FileSystem* fs,
                                      const std::string& path, size_t limit,
                                      std::string* buffer);

// Makes `path` (created if missing) hold exactly `bytes`, fdatasynced.
// The caller fsyncs the directory if the file is new.
Status WriteFileSynced(io::FileSystem* fs, const std::string& path,
                       std::string_view bytes);

// WriteFileSynced `bytes_per_sync` bytes at a time (all at once when 0):
// each piece is written and fdatasynced before the next, and `after_each`
// (may be empty) runs after each fdatasync. A failure ends the write; the
// caller does not trust the file then.
Status WriteFileSyncedInPieces(io::FileSystem* fs, const std::string& path,
                               std::string_view bytes, size_t bytes_per_sync,
                               const std::function<void()>& after_each);

// Writes `bytes` to dir/name crash-safely: a temporary file (name +
// `temp_suffix`), fdatasynced, renamed over dir/name, the directory
// fsynced. After a crash, dir/name holds either its old or its new bytes.
Status ReplaceFile(io::FileSystem* fs, const std::string& dir,
                   const std::string& name, std::string_view temp_suffix,
                   std::string_view bytes);

}  // namespace cairn::engine

#endif  // CAIRN_ENGINE_SRC_SMALL_FILE_H_

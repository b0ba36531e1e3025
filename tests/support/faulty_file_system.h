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

#include "engine/io/file_system.h"
#include "testing/file_system_wrapper.h"

namespace cairn::testing {

class FaultyFileSystem : public io::FileSystemWrapper {
 public:
  explicit FaultyFileSystem(io::FileSystem* base) : FileSystemWrapper(base) {}

  // Syncs after this many more succeed fail with EIO (-1: never).
  std::atomic<int> syncs_until_failure{-1};
  // File::Allocate fails with ENOSPC while set.
  std::atomic<bool> allocate_no_space{false};
  std::atomic<int> sync_calls{0};

  Result<std::unique_ptr<io::File>> OpenFile(const std::string& path,
                                             io::OpenMode mode) override;

  // Consumes one sync: true if it must fail.
  bool NextSyncFails();
};

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_SUPPORT_FAULTY_FILE_SYSTEM_H_

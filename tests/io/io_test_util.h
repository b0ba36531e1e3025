// Copyright (c) Cairn authors.
//
// Small helpers shared by the io tests.
#ifndef CAIRN_TESTS_IO_IO_TEST_UTIL_H_
#define CAIRN_TESTS_IO_IO_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

#include "engine/io/file_system.h"

namespace cairn::io::testing_util {

inline const Status& AsStatus(const Status& s) { return s; }
template <typename T>
const Status& AsStatus(const Result<T>& r) {
  return r.status();
}

// Assert / expect that a Status or Result is OK, printing it otherwise.
#define IO_ASSERT_OK(expr)                                                   \
  do {                                                                       \
    const auto& io_assert_ok_value = (expr);                                 \
    const ::cairn::Status& io_assert_ok_status =                             \
        ::cairn::io::testing_util::AsStatus(io_assert_ok_value);             \
    ASSERT_TRUE(io_assert_ok_status.ok()) << io_assert_ok_status.ToString(); \
  } while (0)
#define IO_EXPECT_OK(expr)                                                   \
  do {                                                                       \
    const auto& io_expect_ok_value = (expr);                                 \
    const ::cairn::Status& io_expect_ok_status =                             \
        ::cairn::io::testing_util::AsStatus(io_expect_ok_value);             \
    EXPECT_TRUE(io_expect_ok_status.ok()) << io_expect_ok_status.ToString(); \
  } while (0)

// A fresh directory under the test temp dir, removed with its contents on
// destruction, so tests never see each other's files.
class ScopedTempDir {
 public:
  ScopedTempDir() {
    std::string pattern = ::testing::TempDir();
    if (pattern.empty() || pattern.back() != '/') pattern += '/';
    pattern += "cairn_io_XXXXXX";
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~ScopedTempDir() {
    if (path_.empty()) return;
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;

  // Empty if mkdtemp failed.
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline Status WriteString(File& file, uint64_t offset, const std::string& s) {
  return file.Write(offset, s.data(), s.size());
}

// Reads [offset, offset + max) and returns what was there; "<error: …>"
// on failure so comparisons show the reason.
inline std::string ReadString(File& file, uint64_t offset, size_t max) {
  std::string out(max, '\0');
  size_t n = 0;
  Status s = file.Read(offset, out.data(), max, &n);
  if (!s.ok()) return "<error: " + s.ToString() + ">";
  out.resize(n);
  return out;
}

// The whole current contents of the file at `path`.
inline std::string ReadFile(FileSystem& fs, const std::string& path) {
  auto file = fs.OpenFile(path, OpenMode::kReadOnly);
  if (!file.ok()) return "<error: " + file.status().ToString() + ">";
  auto size = (*file)->Size();
  if (!size.ok()) return "<error: " + size.status().ToString() + ">";
  return ReadString(**file, 0, static_cast<size_t>(*size));
}

}  // namespace cairn::io::testing_util

#endif  // CAIRN_TESTS_IO_IO_TEST_UTIL_H_

// Copyright (c) Cairn authors.
//
// A fresh directory per test, removed when the test ends.
#ifndef CAIRN_TESTS_SUPPORT_TEMP_DIR_H_
#define CAIRN_TESTS_SUPPORT_TEMP_DIR_H_

#include <string>

namespace cairn::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path()/name
  std::string Sub(const std::string& name) const;

 private:
  std::string path_;
};

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_SUPPORT_TEMP_DIR_H_

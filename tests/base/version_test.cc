// Copyright (c) Cairn authors.
#include "cairn/version.h"

#include <gtest/gtest.h>

#include <string>

namespace cairn {
namespace {

TEST(VersionTest, LibraryAndHeaderAgree) {
  EXPECT_STREQ(Version(), CAIRN_VERSION_STRING);
  EXPECT_EQ(std::string(Version()), std::to_string(CAIRN_VERSION_MAJOR) + "." +
                                        std::to_string(CAIRN_VERSION_MINOR) +
                                        "." +
                                        std::to_string(CAIRN_VERSION_PATCH));
  EXPECT_EQ(CAIRN_VERSION_NUMBER, CAIRN_VERSION_MAJOR * 10000 +
                                      CAIRN_VERSION_MINOR * 100 +
                                      CAIRN_VERSION_PATCH);
}

}  // namespace
}  // namespace cairn

// Copyright (c) Cairn authors.
//
// Small helpers shared by the engine tests.
#ifndef CAIRN_TESTS_SUPPORT_STORE_TEST_UTIL_H_
#define CAIRN_TESTS_SUPPORT_STORE_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "cairn/cairn.h"

namespace cairn::testing {

inline EventData Event(std::string type, std::string data = "{}",
                       EventId id = EventId()) {
  EventData e;
  e.id = id;
  e.type = std::move(type);
  e.data = std::move(data);
  return e;
}

inline std::vector<EventData> Events(int n, const std::string& type = "E") {
  std::vector<EventData> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(
        Event(type, "{\"i\":" + std::to_string(i) + "}", EventId::Generate()));
  }
  return out;
}

// Options for tests: small segments so rolling is exercised.
inline Options SmallOptions() {
  Options o;
  o.segment_size = 256 * 1024;
  return o;
}

inline ReadAllOptions AllUpTo(uint64_t max_count) {
  ReadAllOptions o;
  o.max_count = max_count;
  return o;
}

inline ReadStreamOptions StreamUpTo(uint64_t max_count) {
  ReadStreamOptions o;
  o.max_count = max_count;
  return o;
}

#define CAIRN_ASSERT_OK(expr)              \
  do {                                     \
    const ::cairn::Status _s = (expr);     \
    ASSERT_TRUE(_s.ok()) << _s.ToString(); \
  } while (0)

// `lhs` names a new variable, so it can not be parenthesised.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define CAIRN_ASSERT_OK_AND_ASSIGN(lhs, expr)                         \
  auto lhs##_result = (expr);                                         \
  ASSERT_TRUE(lhs##_result.ok()) << lhs##_result.status().ToString(); \
  auto lhs = std::move(lhs##_result).value()
// NOLINTEND(bugprone-macro-parentheses)

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_SUPPORT_STORE_TEST_UTIL_H_

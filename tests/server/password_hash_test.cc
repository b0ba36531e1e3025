// Copyright (c) Cairn authors.
#include "server/password_hash.h"

#include <gtest/gtest.h>

#include <string>

namespace cairn::server {
namespace {

TEST(PasswordHashTest, VerifiesTheHashedPasswordOnly) {
  auto hash = HashPassword("changeit", MinimumPasswordHashCost());
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_EQ(hash.value().find("changeit"), std::string::npos);
  auto right = VerifyPassword(hash.value(), "changeit");
  ASSERT_TRUE(right.ok()) << right.status().ToString();
  EXPECT_TRUE(right.value());
  auto wrong = VerifyPassword(hash.value(), "changeiT");
  ASSERT_TRUE(wrong.ok());
  EXPECT_FALSE(wrong.value());
  auto empty = VerifyPassword(hash.value(), "");
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty.value());
}

TEST(PasswordHashTest, SaltsEveryHash) {
  auto first = HashPassword("secret", MinimumPasswordHashCost());
  auto second = HashPassword("secret", MinimumPasswordHashCost());
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(first.value(), second.value());
  EXPECT_TRUE(VerifyPassword(second.value(), "secret").value());
}

TEST(PasswordHashTest, InteractiveCostIsArgon2idWithServerLimits) {
  const PasswordHashCost cost = InteractivePasswordHashCost();
  EXPECT_GE(cost.passes, 2u);
  EXPECT_GE(cost.memory_bytes, 64u << 20);
  EXPECT_LE(cost.memory_bytes, 256u << 20);
  auto hash = HashPassword("changeit");
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(hash.value().rfind("$argon2id$v=19$m=65536,t=2,p=1$", 0), 0u)
      << hash.value();
  EXPECT_TRUE(VerifyPassword(hash.value(), "changeit").value());
}

TEST(PasswordHashTest, TamperedHashNeverVerifies) {
  auto hash = HashPassword("changeit", MinimumPasswordHashCost());
  ASSERT_TRUE(hash.ok());
  // A changed hash byte: well formed, so a mismatch.
  std::string flipped = hash.value();
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  auto verified = VerifyPassword(flipped, "changeit");
  EXPECT_FALSE(verified.ok() && verified.value());
  // A changed salt: a different hash, so a mismatch.
  std::string salted = hash.value();
  const size_t salt = salted.rfind('$') - 2;
  salted[salt] = salted[salt] == 'A' ? 'B' : 'A';
  verified = VerifyPassword(salted, "changeit");
  EXPECT_FALSE(verified.ok() && verified.value());
}

TEST(PasswordHashTest, MalformedOrCostlyHashIsCorruption) {
  const std::string bad[] = {
      "",
      "changeit",
      "$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
      "$argon2id$v=19$m=8,t=1$c2FsdHNhbHQ$aGFzaGhhc2g",
      "$argon2id$v=19$m=,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
      "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ",
      "$argon2id$v=19$m=8,t=1,p=1$$aGFzaGhhc2g",
      // 16 GiB of memory, or 1000 passes: refused before libsodium runs.
      "$argon2id$v=19$m=16777216,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
      "$argon2id$v=19$m=65536,t=1000,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
      "$argon2id$v=19$m=65536,t=2,p=4$c2FsdHNhbHQ$aGFzaGhhc2g",
      std::string(200, 'x'),
  };
  for (const std::string& hash : bad) {
    auto verified = VerifyPassword(hash, "changeit");
    ASSERT_FALSE(verified.ok()) << hash;
    EXPECT_TRUE(verified.status().IsCorruption()) << hash;
  }
}

}  // namespace
}  // namespace cairn::server

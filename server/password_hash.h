// Copyright (c) Cairn authors.
//
// Password hashes for the server's users: libsodium's Argon2id
// (crypto_pwhash), stored as the self-describing string libsodium writes
// ("$argon2id$v=19$m=<KiB>,t=<passes>,p=1$<salt>$<hash>"), so that the
// cost can change without breaking stored hashes. A password is never kept
// or stored in clear; only these strings are.
#ifndef CAIRN_SERVER_PASSWORD_HASH_H_
#define CAIRN_SERVER_PASSWORD_HASH_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cairn/result.h"

namespace cairn::server {

// The Argon2id cost of a new hash.
struct PasswordHashCost {
  uint64_t passes = 0;
  size_t memory_bytes = 0;
};

// libsodium's interactive limits (2 passes, 64 MiB): about a tenth of a
// second per hash on a server core, which the server pays only when it
// sees a login/password pair it has not verified yet (authenticator.h).
PasswordHashCost InteractivePasswordHashCost();
// libsodium's minimum cost, for tests only: it offers no protection.
PasswordHashCost MinimumPasswordHashCost();

// A new hash of `password` with a random salt.
Result<std::string> HashPassword(
    std::string_view password,
    PasswordHashCost cost = InteractivePasswordHashCost());

// Whether `password` matches `hash`. A hash that is not a well-formed
// Argon2id string, or whose cost exceeds what HashPassword's callers use
// (at most 1 GiB of memory and 16 passes, so that a planted hash cannot
// make the server spend unbounded memory or time), is Corruption: a damaged
// record, never "wrong password".
Result<bool> VerifyPassword(std::string_view hash, std::string_view password);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_PASSWORD_HASH_H_

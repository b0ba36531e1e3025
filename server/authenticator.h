// Copyright (c) Cairn authors.
//
// Who a call is: the principal named by the HTTP Basic credentials in the
// call's `authorization` metadata, checked against the users in the store
// (user_store.h), as KurrentDB authenticates every gRPC call. A call
// without credentials is the anonymous principal; wrong credentials, an
// unknown, disabled or deleted user, or a scheme other than Basic answer
// UNAUTHENTICATED. With authentication off (`cairn serve --insecure`, as
// KurrentDB's insecure mode), every call is the unrestricted principal and
// credentials are not read.
//
// Bounded cost: Argon2id runs only for a (login, password) pair not
// verified against the user's current hash before. A small cache keeps
// verified pairs, keyed by the login and a keyed BLAKE2b digest of the
// password (never the password), each with the hash it matched; a cached
// pair counts only while the user's stored hash is that hash, so a
// password change, reset or delete invalidates it at once. Disabled state
// is read from the store on every call. At most `concurrent_hashes`
// verifications run at once (each holds 64 MiB); a call beyond them is
// answered "Server Is Too Busy" (UNAVAILABLE, which the clients retry).
#ifndef CAIRN_SERVER_AUTHENTICATOR_H_
#define CAIRN_SERVER_AUTHENTICATOR_H_

#include <grpcpp/grpcpp.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cairn/store.h"
#include "server/rpc_error.h"
#include "server/user_store.h"

namespace cairn::server {

struct Principal {
  // Empty for the anonymous principal.
  std::string login;
  std::vector<std::string> groups;
  // Authentication is off: the call may do anything.
  bool unrestricted = false;

  bool anonymous() const { return login.empty() && !unrestricted; }
  bool InGroup(std::string_view group) const;
  bool IsAdmin() const { return unrestricted || InGroup(kAdminsGroup); }
};

class Authenticator {
 public:
  struct Limits {
    size_t cached_pairs = 256;
    size_t concurrent_hashes = 4;
  };

  // `enabled` false: every call is unrestricted (--insecure).
  Authenticator(Store* store, bool enabled, Limits limits);
  Authenticator(const Authenticator&) = delete;
  Authenticator& operator=(const Authenticator&) = delete;

  bool enabled() const { return enabled_; }

  // The principal of the call `rpc`; on failure the error to answer.
  RpcError Authenticate(const grpc::ServerContextBase& rpc, Principal* out);
  // The same from the `authorization` metadata value (nullopt: none).
  RpcError Authenticate(std::optional<std::string_view> authorization,
                        Principal* out);

  // Runs `work` (an Argon2id hash or verification, 64 MiB) in one of the
  // concurrent_hashes slots that logins use too, or answers "Server Is Too
  // Busy" when none is free: the Users service's hashes are bounded with
  // the logins'.
  RpcError InHashSlot(const std::function<RpcError()>& work);

  // Argon2id verifications run so far, and pairs cached now (for tests).
  uint64_t hashes_verified() const { return hashes_verified_.load(); }
  size_t cached_pairs() const;

 private:
  using Digest = std::array<unsigned char, 32>;
  struct Entry {
    std::string key;
    std::string hash;
  };

  std::string CacheKey(std::string_view login, std::string_view password);
  bool CachedMatch(const std::string& key, const std::string& hash);
  void Remember(const std::string& key, const std::string& hash);
  RpcError Verify(const StoredUser& user, std::string_view password);

  UserStore users_;
  const bool enabled_;
  const Limits limits_;
  // The BLAKE2b key of the cache's password digests, random per process.
  Digest digest_key_{};
  mutable std::mutex mu_;
  // Most recently used first.
  std::list<Entry> lru_;
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  std::atomic<size_t> hashing_{0};
  std::atomic<uint64_t> hashes_verified_{0};
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_AUTHENTICATOR_H_

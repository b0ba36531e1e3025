// Copyright (c) Cairn authors.
#include "server/authenticator.h"

#include <sodium.h>

#include <algorithm>
#include <cctype>

#include "server/password_hash.h"

namespace cairn::server {

namespace {

constexpr std::string_view kBasic = "basic ";

// "Basic base64(login:password)" -> login and password; false if the
// value is anything else.
bool ParseBasic(std::string_view value, std::string* login,
                std::string* password) {
  if (value.size() < kBasic.size()) return false;
  for (size_t i = 0; i < kBasic.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(value[i])) != kBasic[i]) {
      return false;
    }
  }
  std::string_view encoded = value.substr(kBasic.size());
  while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
  std::string decoded(encoded.size(), '\0');
  size_t length = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(decoded.data()),
                        decoded.size(), encoded.data(), encoded.size(), nullptr,
                        &length, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    return false;
  }
  decoded.resize(length);
  const size_t colon = decoded.find(':');
  if (colon == std::string::npos || colon == 0) return false;
  *login = decoded.substr(0, colon);
  *password = decoded.substr(colon + 1);
  sodium_memzero(decoded.data(), decoded.size());
  return true;
}

}  // namespace

bool Principal::InGroup(std::string_view group) const {
  return std::find(groups.begin(), groups.end(), group) != groups.end();
}

Authenticator::Authenticator(Store* store, bool enabled, Limits limits)
    : users_(store), enabled_(enabled), limits_(limits) {
  if (sodium_init() >= 0) {
    randombytes_buf(digest_key_.data(), digest_key_.size());
  }
}

RpcError Authenticator::Authenticate(const grpc::ServerContextBase& rpc,
                                     Principal* out) {
  const auto& metadata = rpc.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return Authenticate(std::nullopt, out);
  return Authenticate(std::string_view(it->second.data(), it->second.size()),
                      out);
}

RpcError Authenticator::Authenticate(
    std::optional<std::string_view> authorization, Principal* out) {
  *out = Principal();
  if (!enabled_) {
    out->unrestricted = true;
    return Ok();
  }
  if (!authorization) return Ok();  // anonymous
  std::string login;
  std::string password;
  if (!ParseBasic(*authorization, &login, &password)) return Unauthenticated();
  Result<std::optional<StoredUser>> found = users_.Find(login);
  RpcError outcome = Ok();
  if (!found.ok()) {
    // A login no stream name can hold (too long, control characters) is
    // no user's.
    outcome = found.status().IsInvalidArgument()
                  ? Unauthenticated()
                  : FromStoreStatus(found.status());
  } else if (!found.value() || found.value()->record.disabled) {
    outcome = Unauthenticated();
  } else {
    outcome = Verify(*found.value(), password);
  }
  sodium_memzero(password.data(), password.size());
  if (outcome.code != grpc::StatusCode::OK) return outcome;
  out->login = std::move(login);
  out->groups = std::move(found.value()->record.groups);
  return Ok();
}

RpcError Authenticator::Verify(const StoredUser& user,
                               std::string_view password) {
  const std::string& hash = user.record.password_hash;
  if (hash.empty()) return Unauthenticated();
  const std::string key = CacheKey(user.record.login, password);
  if (CachedMatch(key, hash)) return Ok();
  RpcError outcome = InHashSlot([&] {
    Result<bool> verified = VerifyPassword(hash, password);
    hashes_verified_.fetch_add(1);
    if (!verified.ok()) return FromStoreStatus(verified.status());
    return verified.value() ? Ok() : Unauthenticated();
  });
  if (IsOk(outcome)) Remember(key, hash);
  return outcome;
}

RpcError Authenticator::InHashSlot(const std::function<RpcError()>& work) {
  if (hashing_.fetch_add(1) >= limits_.concurrent_hashes) {
    hashing_.fetch_sub(1);
    return TooBusy();
  }
  RpcError outcome = work();
  hashing_.fetch_sub(1);
  return outcome;
}

std::string Authenticator::CacheKey(std::string_view login,
                                    std::string_view password) {
  Digest digest{};
  crypto_generichash(digest.data(), digest.size(),
                     reinterpret_cast<const unsigned char*>(password.data()),
                     password.size(), digest_key_.data(), digest_key_.size());
  std::string key(login);
  key.push_back('\0');
  key.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  return key;
}

bool Authenticator::CachedMatch(const std::string& key,
                                const std::string& hash) {
  std::lock_guard lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) return false;
  if (it->second->hash != hash) {
    // The password changed since: the pair no longer counts.
    lru_.erase(it->second);
    index_.erase(it);
    return false;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  return true;
}

void Authenticator::Remember(const std::string& key, const std::string& hash) {
  if (limits_.cached_pairs == 0) return;
  std::lock_guard lock(mu_);
  auto it = index_.find(key);
  if (it != index_.end()) {
    it->second->hash = hash;
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  if (lru_.size() >= limits_.cached_pairs) {
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
  lru_.push_front({key, hash});
  index_[key] = lru_.begin();
}

size_t Authenticator::cached_pairs() const {
  std::lock_guard lock(mu_);
  return lru_.size();
}

}  // namespace cairn::server

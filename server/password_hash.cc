// Copyright (c) Cairn authors.
#include "server/password_hash.h"

#include <sodium.h>

#include <charconv>
#include <vector>

namespace cairn::server {

namespace {

constexpr std::string_view kPrefix = "$argon2id$v=19$";
constexpr uint64_t kMaxMemoryKib = 1ull << 20;  // 1 GiB
constexpr uint64_t kMaxPasses = 16;

Status InitSodium() {
  // sodium_init is thread-safe and idempotent; a static runs it once.
  static const int result = sodium_init();
  if (result < 0) return Status::IOError("libsodium failed to initialise");
  return Status::Ok();
}

Status BadHash(std::string_view why) {
  return Status::Corruption("password hash", 0, why);
}

// Reads "<key>=<decimal>" at the front of `text` and advances past it.
bool ReadParameter(std::string_view* text, std::string_view key,
                   uint64_t* value) {
  if (text->substr(0, key.size()) != key) return false;
  text->remove_prefix(key.size());
  const char* end = text->data() + text->size();
  auto [ptr, ec] = std::from_chars(text->data(), end, *value);
  if (ec != std::errc() || ptr == text->data()) return false;
  text->remove_prefix(static_cast<size_t>(ptr - text->data()));
  return true;
}

// Checks the form and the cost of `hash` before libsodium reads it.
Status CheckHash(std::string_view hash) {
  if (hash.size() >= crypto_pwhash_STRBYTES) return BadHash("too long");
  if (hash.substr(0, kPrefix.size()) != kPrefix) {
    return BadHash("not an Argon2id v19 hash");
  }
  std::string_view rest = hash.substr(kPrefix.size());
  uint64_t memory_kib = 0;
  uint64_t passes = 0;
  uint64_t lanes = 0;
  if (!ReadParameter(&rest, "m=", &memory_kib) ||
      !ReadParameter(&rest, ",t=", &passes) ||
      !ReadParameter(&rest, ",p=", &lanes) || rest.substr(0, 1) != "$") {
    return BadHash("malformed parameters");
  }
  if (memory_kib == 0 || memory_kib > kMaxMemoryKib || passes == 0 ||
      passes > kMaxPasses || lanes != 1) {
    return BadHash("parameters out of bounds");
  }
  rest.remove_prefix(1);
  const size_t dollar = rest.find('$');
  if (dollar == 0 || dollar == std::string_view::npos ||
      dollar + 1 == rest.size()) {
    return BadHash("missing salt or hash");
  }
  return Status::Ok();
}

}  // namespace

PasswordHashCost InteractivePasswordHashCost() {
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE,
          crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

PasswordHashCost MinimumPasswordHashCost() {
  return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};
}

Result<std::string> HashPassword(std::string_view password,
                                 PasswordHashCost cost) {
  if (Status s = InitSodium(); !s.ok()) return s;
  std::vector<char> out(crypto_pwhash_STRBYTES);
  if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(),
                            cost.passes, cost.memory_bytes,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::IOError("password hashing ran out of memory");
  }
  return std::string(out.data());
}

Result<bool> VerifyPassword(std::string_view hash, std::string_view password) {
  if (Status s = InitSodium(); !s.ok()) return s;
  if (Status s = CheckHash(hash); !s.ok()) return s;
  const std::string terminated(hash);
  return crypto_pwhash_str_verify(terminated.c_str(), password.data(),
                                  password.size()) == 0;
}

}  // namespace cairn::server

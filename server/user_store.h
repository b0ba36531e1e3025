// Copyright (c) Cairn authors.
//
// The server's users, kept in system streams as KurrentDB keeps them:
// `$user-<login>` holds the user's record, one JSON event per change
// (`$UserCreated`, then `$UserUpdated`), the newest being the current one;
// `$users` lists the logins, one `$User` event (data: the login) per
// creation. Deleting a user soft-deletes its stream; its `$User` event
// stays, and a listing skips logins whose stream reads as not found.
//
// A record holds the password's Argon2id hash (password_hash.h), never
// the password. Every change names the revision it was read at, so two
// concurrent changes of one user never silently overwrite each other.
#ifndef CAIRN_SERVER_USER_STORE_H_
#define CAIRN_SERVER_USER_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/result.h"
#include "cairn/store.h"

namespace cairn::server {

inline constexpr std::string_view kUsersStream = "$users";
inline constexpr std::string_view kAdminsGroup = "$admins";
inline constexpr std::string_view kOpsGroup = "$ops";

// "$user-<login>".
std::string UserStream(std::string_view login);

struct UserRecord {
  std::string login;
  std::string full_name;
  std::vector<std::string> groups;
  bool disabled = false;
  // Argon2id (password_hash.h); empty: the user cannot log in.
  std::string password_hash;

  bool InGroup(std::string_view group) const;
};

// The record as stored: KurrentDB's field names (LoginName, FullName,
// Groups, Disabled), with the hash in PasswordHash.
std::string UserRecordToJson(const UserRecord& record);
// Corruption if `text` is not a user record (JSON).
Result<UserRecord> UserRecordFromJson(std::string_view text);

struct StoredUser {
  UserRecord record;
  // Of the record's event in `$user-<login>`.
  StreamRevision revision;
  int64_t updated_us = 0;
};

class UserStore {
 public:
  explicit UserStore(Store* store) : store_(store) {}

  // The user's current record; nullopt if it was never created or was
  // deleted.
  Result<std::optional<StoredUser>> Find(std::string_view login);
  // WrongExpectedVersion if the user exists.
  Status Create(const UserRecord& record);
  // Replaces the record of a user read (Find) at `read_at`;
  // WrongExpectedVersion if it changed or was deleted since.
  Status Update(const UserRecord& record, StreamRevision read_at);
  // Deletes a user read at `read_at`; WrongExpectedVersion as Update.
  Status Delete(std::string_view login, StreamRevision read_at);
  // Every login `$users` lists, each once, in the order of creation
  // (deleted users included: Find tells).
  Result<std::vector<std::string>> Logins();

 private:
  Store* store_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_USER_STORE_H_

// Copyright (c) Cairn authors.
#include "server/bootstrap.h"

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/event.h"
#include "server/password_hash.h"
#include "server/user_store.h"

namespace cairn::server {

namespace {

// KurrentDB's well-known default password of both default users.
constexpr std::string_view kDefaultPassword = "changeit";

struct BootstrapUser {
  std::string_view login;
  std::string_view full_name;
  std::string_view group;
  // Fixed ids of its `$UserCreated` and `$User` events.
  std::string_view created_id;
  std::string_view listed_id;
};

constexpr BootstrapUser kUsers[] = {
    {"admin", "KurrentDB Administrator", "$admins",
     "f212ff13-9ad7-42f1-a7c8-b07fd9700bb2",
     "8ba639da-c4ab-4d5a-8e42-952710d7f52a"},
    {"ops", "KurrentDB Operations", "$ops",
     "463cc14a-a8bc-4210-a8fc-263192592f30",
     "d71958f1-bd11-4f16-9117-9e3611b3b250"},
};
constexpr std::string_view kSettingsId = "9b443d18-ab90-462a-8036-20a009062a88";

// A user stream is written by admins only, as in KurrentDB.
constexpr std::string_view kUserStreamMetadata =
    R"({"$acl":{"$w":"$admins","$d":"$admins","$mw":"$admins"}})";
constexpr std::string_view kSettings =
    R"({"$userStreamAcl":{"$r":"$all","$w":"$all","$d":"$all","$mr":"$all",)"
    R"("$mw":"$all"},"$systemStreamAcl":{"$r":"$admins","$w":"$admins",)"
    R"("$d":"$admins","$mr":"$admins","$mw":"$admins"}})";

EventData Event(std::string_view id, std::string_view type, std::string data,
                ContentType content_type) {
  EventData event;
  event.id = *EventId::Parse(id);
  event.type = std::string(type);
  event.data = std::move(data);
  event.content_type = content_type;
  return event;
}

// Appends `event` as the first event of `stream`, unless the stream
// exists (then the event was written before, or the stream is someone
// else's to keep).
Status WriteFirst(Store* store, std::string_view stream,
                  const EventData& event) {
  Result<AppendResult> result =
      store->Append(stream, ExpectedVersion::NoStream(),
                    std::span<const EventData>(&event, 1));
  if (result.ok() || result.status().IsWrongExpectedVersion()) {
    return Status::Ok();
  }
  return result.status();
}

}  // namespace

Status WriteBootstrapEvents(Store* store) {
  for (const BootstrapUser& user : kUsers) {
    const std::string stream = "$user-" + std::string(user.login);
    Result<AppendResult> metadata = store->SetStreamMetadataJson(
        stream, ExpectedVersion::NoStream(), kUserStreamMetadata);
    if (!metadata.ok() && !metadata.status().IsWrongExpectedVersion()) {
      return metadata.status();
    }
    // Hashing costs a tenth of a second: only for a user not written yet.
    Result<std::optional<StreamRevision>> written =
        store->GetStreamRevision(stream);
    if (!written.ok()) return written.status();
    if (written.value()) continue;
    Result<std::string> hash = HashPassword(kDefaultPassword);
    if (!hash.ok()) return hash.status();
    UserRecord record;
    record.login = std::string(user.login);
    record.full_name = std::string(user.full_name);
    record.groups = {std::string(user.group)};
    record.password_hash = std::move(hash.value());
    Status s = WriteFirst(store, stream,
                          Event(user.created_id, "$UserCreated",
                                UserRecordToJson(record), ContentType::kJson));
    if (!s.ok()) return s;
  }
  // `$users` lists the logins, one `$User` event each, in one append.
  std::vector<EventData> listed;
  for (const BootstrapUser& user : kUsers) {
    listed.push_back(Event(user.listed_id, "$User", std::string(user.login),
                           ContentType::kBinary));
  }
  Result<AppendResult> users =
      store->Append("$users", ExpectedVersion::NoStream(), listed);
  if (!users.ok() && !users.status().IsWrongExpectedVersion()) {
    return users.status();
  }
  return WriteFirst(store, "$settings",
                    Event(kSettingsId, "$settings", std::string(kSettings),
                          ContentType::kJson));
}

Result<std::vector<std::string>> UsersWithDefaultPassword(Store* store) {
  UserStore users(store);
  std::vector<std::string> logins;
  for (const BootstrapUser& user : kUsers) {
    Result<std::optional<StoredUser>> found = users.Find(user.login);
    if (!found.ok()) return found.status();
    if (!found.value() || found.value()->record.disabled) continue;
    Result<bool> same =
        VerifyPassword(found.value()->record.password_hash, kDefaultPassword);
    if (!same.ok()) return same.status();
    if (same.value()) logins.emplace_back(user.login);
  }
  return logins;
}

}  // namespace cairn::server

// Copyright (c) Cairn authors.
#include "server/user_store.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <span>

#include "cairn/event.h"

namespace cairn::server {

namespace {

using nlohmann::json;

Status NotAUserRecord(std::string_view why) {
  return Status::Corruption("user record", 0, why);
}

EventData UserEvent(std::string_view type, std::string data,
                    ContentType content_type) {
  EventData event;
  event.type = std::string(type);
  event.data = std::move(data);
  event.content_type = content_type;
  return event;
}

Status AppendOne(Store* store, std::string_view stream,
                 ExpectedVersion expected, const EventData& event) {
  return store->Append(stream, expected, std::span<const EventData>(&event, 1))
      .status();
}

}  // namespace

std::string UserStream(std::string_view login) {
  return "$user-" + std::string(login);
}

bool UserRecord::InGroup(std::string_view group) const {
  return std::find(groups.begin(), groups.end(), group) != groups.end();
}

std::string UserRecordToJson(const UserRecord& record) {
  json out = {{"LoginName", record.login},
              {"FullName", record.full_name},
              {"Groups", record.groups},
              {"Disabled", record.disabled},
              {"PasswordHash", record.password_hash}};
  return out.dump();
}

Result<UserRecord> UserRecordFromJson(std::string_view text) {
  json in = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!in.is_object()) return NotAUserRecord("not a JSON object");
  UserRecord record;
  auto login = in.find("LoginName");
  if (login == in.end() || !login->is_string()) {
    return NotAUserRecord("no LoginName");
  }
  record.login = login->get<std::string>();
  if (auto it = in.find("FullName"); it != in.end()) {
    if (!it->is_string()) return NotAUserRecord("FullName is not a string");
    record.full_name = it->get<std::string>();
  }
  if (auto it = in.find("Groups"); it != in.end()) {
    if (!it->is_array()) return NotAUserRecord("Groups is not an array");
    for (const json& group : *it) {
      if (!group.is_string()) return NotAUserRecord("a group is no string");
      record.groups.push_back(group.get<std::string>());
    }
  }
  if (auto it = in.find("Disabled"); it != in.end()) {
    if (!it->is_boolean()) return NotAUserRecord("Disabled is not a bool");
    record.disabled = it->get<bool>();
  }
  if (auto it = in.find("PasswordHash"); it != in.end()) {
    if (!it->is_string()) return NotAUserRecord("PasswordHash is no string");
    record.password_hash = it->get<std::string>();
  }
  return record;
}

Result<std::optional<StoredUser>> UserStore::Find(std::string_view login) {
  ReadStreamOptions options;
  options.direction = Direction::kBackward;
  options.max_count = 1;
  Result<ReadStreamResult> read =
      store_->ReadStream(UserStream(login), options);
  if (!read.ok()) {
    if (read.status().IsNotFound()) return std::optional<StoredUser>();
    return read.status();
  }
  if (read.value().events.empty()) return std::optional<StoredUser>();
  const RecordedEvent& event = read.value().events.front();
  Result<UserRecord> record = UserRecordFromJson(event.data);
  if (!record.ok()) return record.status();
  if (record.value().login != login) {
    return NotAUserRecord("LoginName names another user");
  }
  return std::optional<StoredUser>(
      StoredUser{std::move(record.value()), event.revision, event.created_us});
}

Status UserStore::Create(const UserRecord& record) {
  const std::string stream = UserStream(record.login);
  // A deleted user's stream keeps its revisions: a new user continues it.
  Result<std::optional<StreamRevision>> stored =
      store_->GetStreamRevision(stream);
  if (!stored.ok()) return stored.status();
  Result<std::optional<StoredUser>> existing = Find(record.login);
  if (!existing.ok()) return existing.status();
  if (existing.value()) {
    return Status::WrongExpectedVersion(
        "no stream", existing.value()->revision.value(), "the user exists");
  }
  const ExpectedVersion expected =
      stored.value() ? ExpectedVersion::Exact(stored.value()->value())
                     : ExpectedVersion::NoStream();
  // Listed first: a crash in between leaves a listed login without a
  // user, which listings skip, never a user no listing shows.
  Status listed =
      AppendOne(store_, kUsersStream, ExpectedVersion::Any(),
                UserEvent("$User", record.login, ContentType::kBinary));
  if (!listed.ok()) return listed;
  return AppendOne(
      store_, stream, expected,
      UserEvent("$UserCreated", UserRecordToJson(record), ContentType::kJson));
}

Status UserStore::Update(const UserRecord& record, StreamRevision read_at) {
  return AppendOne(
      store_, UserStream(record.login), ExpectedVersion::Exact(read_at.value()),
      UserEvent("$UserUpdated", UserRecordToJson(record), ContentType::kJson));
}

Status UserStore::Delete(std::string_view login, StreamRevision read_at) {
  return store_
      ->Delete(UserStream(login), ExpectedVersion::Exact(read_at.value()))
      .status();
}

Result<std::vector<std::string>> UserStore::Logins() {
  std::vector<std::string> logins;
  std::set<std::string, std::less<>> seen;
  ReadStreamOptions options;
  options.from = StreamRevision(0);
  while (true) {
    Result<ReadStreamResult> read = store_->ReadStream(kUsersStream, options);
    if (!read.ok()) {
      if (read.status().IsNotFound()) break;
      return read.status();
    }
    for (const RecordedEvent& event : read.value().events) {
      if (event.type != "$User") continue;
      if (seen.insert(event.data).second) logins.push_back(event.data);
    }
    if (read.value().end_of_stream || read.value().events.empty()) break;
    options.from =
        StreamRevision(read.value().events.back().revision.value() + 1);
  }
  return logins;
}

}  // namespace cairn::server

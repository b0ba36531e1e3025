// Copyright (c) Cairn authors.
#include "server/stream_access.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cairn/stream_metadata.h"

namespace cairn::server {

namespace {

using Roles = std::vector<std::string>;
using nlohmann::json;

constexpr std::string_view kAllStream = "$all";
constexpr std::string_view kSettingsStream = "$settings";
constexpr std::string_view kEveryone = "$all";

const std::optional<Roles>& RolesOf(const StreamAcl& acl, StreamRight right) {
  switch (right) {
    case StreamRight::kRead:
      return acl.read;
    case StreamRight::kWrite:
      return acl.write;
    case StreamRight::kDelete:
      return acl.delete_;
    case StreamRight::kMetaRead:
      return acl.meta_read;
    case StreamRight::kMetaWrite:
      return acl.meta_write;
  }
  return acl.read;
}

const char* KeyOf(StreamRight right) {
  switch (right) {
    case StreamRight::kRead:
      return "$r";
    case StreamRight::kWrite:
      return "$w";
    case StreamRight::kDelete:
      return "$d";
    case StreamRight::kMetaRead:
      return "$mr";
    case StreamRight::kMetaWrite:
      return "$mw";
  }
  return "$r";
}

// The roles of `right` in the default ACL of `$settings` for system or
// user streams: nullopt if the settings name none; false if they cannot
// be read as settings (then nothing is allowed).
bool SettingsRoles(Store* store, bool system, StreamRight right,
                   std::optional<Roles>* roles, RpcError* failure) {
  ReadStreamOptions options;
  options.direction = Direction::kBackward;
  options.max_count = 1;
  Result<ReadStreamResult> read = store->ReadStream(kSettingsStream, options);
  if (!read.ok()) {
    if (read.status().IsNotFound()) return true;
    *failure = FromStoreStatus(read.status());
    return false;
  }
  if (read.value().events.empty()) return true;
  json settings = json::parse(read.value().events.front().data, nullptr, false);
  if (!settings.is_object()) return false;
  auto acl = settings.find(system ? "$systemStreamAcl" : "$userStreamAcl");
  if (acl == settings.end()) return true;
  if (!acl->is_object()) return false;
  auto value = acl->find(KeyOf(right));
  if (value == acl->end()) return true;
  Roles out;
  if (value->is_string()) {
    out.push_back(value->get<std::string>());
  } else if (value->is_array()) {
    for (const json& role : *value) {
      if (!role.is_string()) return false;
      out.push_back(role.get<std::string>());
    }
  } else {
    return false;
  }
  *roles = std::move(out);
  return true;
}

bool Matches(const Principal& principal, const Roles& roles) {
  for (const std::string& role : roles) {
    if (role == kEveryone || role == principal.login ||
        principal.InGroup(role)) {
      return true;
    }
  }
  return false;
}

}  // namespace

RpcError StreamAccess::Check(const Principal& principal,
                             std::string_view stream, StreamRight right) const {
  if (principal.IsAdmin()) return Ok();
  if (principal.anonymous()) return AccessDenied();
  if (stream.starts_with("$$")) {
    stream.remove_prefix(2);
    if (right == StreamRight::kRead) right = StreamRight::kMetaRead;
    if (right == StreamRight::kWrite) right = StreamRight::kMetaWrite;
  }
  if (stream == kAllStream &&
      (right == StreamRight::kWrite || right == StreamRight::kDelete)) {
    return AccessDenied();
  }
  std::optional<Roles> roles;
  if (stream != kAllStream) {
    Result<StreamMetadataResult> metadata = store_->GetStreamMetadata(stream);
    if (metadata.ok()) {
      if (metadata.value().metadata.acl) {
        roles = RolesOf(*metadata.value().metadata.acl, right);
      }
    } else if (!metadata.status().IsStreamDeleted() &&
               !metadata.status().IsInvalidArgument()) {
      // A tombstoned stream or a name with no metadata ($ce-, $et-) has
      // no $acl: the defaults apply (and the call answers the rest).
      return FromStoreStatus(metadata.status(), stream);
    }
  }
  const bool system = stream.starts_with("$");
  if (!roles) {
    RpcError failure = AccessDenied();
    if (!SettingsRoles(store_, system, right, &roles, &failure)) {
      return failure;
    }
  }
  if (!roles) roles = Roles{std::string(system ? "$admins" : "$all")};
  return Matches(principal, *roles) ? Ok() : AccessDenied();
}

}  // namespace cairn::server

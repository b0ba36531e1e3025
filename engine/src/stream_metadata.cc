// Copyright (c) Cairn authors.
//
// StreamMetadata's JSON codec. KurrentDB's StreamMetadata decides what is
// valid: integers for the limits, role strings or arrays for $acl, and any
// other property kept as it is.
#include "engine/src/stream_metadata.h"

#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cairn {
namespace {

using Json = nlohmann::ordered_json;

constexpr uint64_t kMaxLong = std::numeric_limits<int64_t>::max();

Status Invalid(std::string_view property, std::string_view why) {
  return Status::InvalidArgument("stream metadata: " + std::string(property) +
                                 " " + std::string(why));
}

// A KurrentDB long: an integer in [min, 2^63 - 1].
Result<uint64_t> ReadLong(const Json& value, std::string_view property,
                          uint64_t min) {
  if (!value.is_number_integer()) {
    return Invalid(property, "must be an integer");
  }
  if (value.is_number_unsigned()) {
    auto v = value.get<uint64_t>();
    if (v >= min && v <= kMaxLong) return v;
  } else {
    auto v = value.get<int64_t>();
    if (v >= 0 && static_cast<uint64_t>(v) >= min) {
      return static_cast<uint64_t>(v);
    }
  }
  return Invalid(property, "must be between " + std::to_string(min) + " and " +
                               std::to_string(kMaxLong));
}

Result<std::vector<std::string>> ReadRoles(const Json& value,
                                           std::string_view property) {
  std::vector<std::string> roles;
  if (value.is_string()) {
    roles.push_back(value.get<std::string>());
    return roles;
  }
  if (!value.is_array()) {
    return Invalid(property, "must be a role string or an array of them");
  }
  for (const Json& role : value) {
    if (!role.is_string()) {
      return Invalid(property, "must hold only role strings");
    }
    roles.push_back(role.get<std::string>());
  }
  return roles;
}

// Calls visit(name, field) for each right of `acl` (const or not).
template <typename Acl, typename Visit>
void ForEachRight(Acl& acl, Visit visit) {
  visit("$r", acl.read);
  visit("$w", acl.write);
  visit("$d", acl.delete_);
  visit("$mr", acl.meta_read);
  visit("$mw", acl.meta_write);
}

Result<StreamAcl> ReadAcl(const Json& value) {
  if (!value.is_object()) return Invalid("$acl", "must be an object");
  StreamAcl acl;
  Status status;
  ForEachRight(acl, [&](const char* name, auto& field) {
    auto it = value.find(name);
    if (!status.ok() || it == value.end()) return;
    auto roles = ReadRoles(*it, std::string("$acl.") + name);
    if (roles.ok()) {
      field = std::move(roles.value());
    } else {
      status = roles.status();
    }
  });
  if (!status.ok()) return status;
  return acl;
}

Json WriteAcl(const StreamAcl& acl) {
  Json out = Json::object();
  ForEachRight(acl, [&](const char* name, const auto& field) {
    if (field) out[name] = *field;
  });
  return out;
}

Result<Json> ParseObject(std::string_view json) {
  Json doc = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return Status::InvalidArgument("stream metadata is not valid JSON");
  }
  if (!doc.is_object()) {
    return Status::InvalidArgument("stream metadata must be a JSON object");
  }
  return doc;
}

}  // namespace

Result<StreamMetadata> StreamMetadata::FromJson(std::string_view json) {
  auto parsed = ParseObject(json);
  if (!parsed.ok()) return parsed.status();
  StreamMetadata m;
  for (const auto& [key, value] : parsed->items()) {
    if (key == "$maxCount" || key == "$maxAge" || key == "$cacheControl" ||
        key == "$tb") {
      auto v = ReadLong(value, key, key == "$tb" ? 0 : 1);
      if (!v.ok()) return v.status();
      std::optional<uint64_t>* field = key == "$maxCount" ? &m.max_count
                                       : key == "$maxAge" ? &m.max_age_seconds
                                       : key == "$tb"
                                           ? &m.truncate_before
                                           : &m.cache_control_seconds;
      *field = *v;
    } else if (key == "$acl") {
      auto acl = ReadAcl(value);
      if (!acl.ok()) return acl.status();
      m.acl = std::move(acl.value());
    } else {
      m.custom.emplace_back(key, value.dump());
    }
  }
  return m;
}

Result<std::string> StreamMetadata::ToJson() const {
  Json out = Json::object();
  const std::pair<const char*, const std::optional<uint64_t>*> limits[] = {
      {"$maxCount", &max_count},
      {"$maxAge", &max_age_seconds},
      {"$tb", &truncate_before},
      {"$cacheControl", &cache_control_seconds}};
  for (const auto& [name, field] : limits) {
    if (*field) out[name] = **field;
  }
  if (acl) out["$acl"] = WriteAcl(*acl);
  for (const auto& [name, text] : custom) {
    Json value = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) {
      return Invalid(name, "is not one JSON value");
    }
    out[name] = std::move(value);
  }
  std::string json = out.dump();
  // The same rules as a JSON written by hand (ranges, reserved names).
  auto check = FromJson(json);
  if (!check.ok()) return check.status();
  return json;
}

namespace engine {

Result<std::string> WithTruncateBefore(std::string_view json,
                                       uint64_t truncate_before) {
  auto parsed = ParseObject(json);
  if (!parsed.ok()) return parsed.status();
  (*parsed)["$tb"] = truncate_before;
  return parsed->dump();
}

}  // namespace engine
}  // namespace cairn

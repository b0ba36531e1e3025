// Copyright (c) Cairn authors.
//
// The snapshot header codec. nlohmann/json stays private to the engine, as
// in stream_metadata.cc.
#include "engine/src/snapshots.h"

#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "cairn/text.h"
#include "engine/src/validation.h"

namespace cairn::engine {
namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kRevisionKey = "revision";
constexpr const char* kSchemaKey = "schema";

Status Malformed(std::string_view why) {
  return Status::InvalidArgument("snapshot header: " + std::string(why));
}

}  // namespace

Status ValidateSnapshotSchema(std::string_view schema) {
  if (schema.size() > kMaxSnapshotSchemaLength) {
    return Status::InvalidArgument("snapshot schema is " +
                                   std::to_string(schema.size()) +
                                   " bytes, more than the limit of " +
                                   std::to_string(kMaxSnapshotSchemaLength));
  }
  if (!IsUtf8Text(schema)) {
    return Status::InvalidArgument(
        "snapshot schema must be valid UTF-8 without control characters");
  }
  return Status::Ok();
}

std::string EncodeSnapshotHeader(const SnapshotHeader& header) {
  Json json = Json::object();
  json[kRevisionKey] = header.revision;
  json[kSchemaKey] = header.schema;
  return json.dump();
}

Result<SnapshotHeader> DecodeSnapshotHeader(std::string_view text) {
  Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return Malformed("not a JSON object");
  }
  auto revision = json.find(kRevisionKey);
  if (revision == json.end() || !revision->is_number_unsigned()) {
    return Malformed("\"revision\" is missing or not an unsigned integer");
  }
  auto schema = json.find(kSchemaKey);
  if (schema == json.end() || !schema->is_string()) {
    return Malformed("\"schema\" is missing or not a string");
  }
  SnapshotHeader header;
  header.revision = revision->get<uint64_t>();
  header.schema = schema->get<std::string>();
  return header;
}

}  // namespace cairn::engine

// Copyright (c) Cairn authors.
//
// A consumer group's names: its key among the store's groups, the name of
// its checkpoint, and the removal of its durable state.
#include <string>

#include "engine/src/checkpoint_store.h"
#include "engine/src/consumer_group.h"

namespace cairn::engine {
namespace {

constexpr size_t kMaxNameBytes = 200;

bool Plain(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '-';
}

}  // namespace

std::string ConsumerGroup::Key(std::string_view group,
                               std::optional<std::string_view> stream) {
  std::string key(stream.value_or("$all"));
  key += "::";
  key += group;
  return key;
}

Status ConsumerGroup::ValidateNames(std::string_view group,
                                    std::optional<std::string_view> stream) {
  if (group.empty() || group.size() > kMaxNameBytes) {
    return Status::InvalidArgument("a group name must be 1..200 bytes");
  }
  // The key, its checkpoint's and its parked stream's names join the
  // stream and the group with "::": a group holding it would share them
  // with another group (group "b::c" of stream "a" and group "c" of stream
  // "a::b").
  if (group.find("::") != std::string_view::npos) {
    return Status::InvalidArgument("a group name must not contain '::'");
  }
  if (stream && (stream->empty() || *stream == "$all")) {
    return Status::InvalidArgument(
        "a stream group follows a named stream other than $all");
  }
  return CheckpointStore::ValidateName(CheckpointName(group, stream));
}

std::string ConsumerGroup::CheckpointName(
    std::string_view group, std::optional<std::string_view> stream) {
  std::string plain = "group-";
  plain += group;
  // The name $all groups always had, so that their checkpoints stay.
  if (!stream && CheckpointStore::ValidateName(plain).ok()) return plain;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string name = "psub-";
  for (char c : Key(group, stream)) {
    if (Plain(c)) {
      name += c;
    } else {
      const auto byte = static_cast<unsigned char>(c);
      name += '_';
      name += kHex[byte >> 4];
      name += kHex[byte & 0xf];
    }
  }
  return name;
}

Status ConsumerGroup::Forget(StoreImpl& store, std::string_view group,
                             std::optional<std::string_view> stream) {
  Status s = store.checkpoints().Remove(CheckpointName(group, stream));
  if (!s.ok()) return s;
  const std::string parked = ParkedStreamName(group, stream.value_or("$all"));
  // A group that never parked anything has no parked stream.
  auto last = store.GetStreamRevision(parked);
  if (!last.ok()) return last.status();
  if (!last->has_value()) return Status::Ok();
  return store.Delete(parked, ExpectedVersion::Any()).status();
}

}  // namespace cairn::engine

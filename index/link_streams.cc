// Copyright (c) Cairn authors.
#include "index/link_streams.h"

namespace cairn::index {

std::optional<std::string_view> CategoryOf(std::string_view stream) {
  if (stream.empty() || stream.front() == '$') return std::nullopt;
  const size_t dash = stream.find('-');
  if (dash == std::string_view::npos || dash == 0) return std::nullopt;
  return stream.substr(0, dash);
}

bool IsSystemEventType(std::string_view type) {
  return !type.empty() && type.front() == '$';
}

bool IsLinkStreamName(std::string_view stream) {
  return stream.starts_with(kCategoryStreamPrefix) ||
         stream.starts_with(kTypeStreamPrefix);
}

LinkStreamNames LinkStreamsOf(std::string_view stream, std::string_view type) {
  LinkStreamNames names;
  if (auto category = CategoryOf(stream)) {
    names.category.reserve(kCategoryStreamPrefix.size() + category->size());
    names.category.append(kCategoryStreamPrefix).append(*category);
  }
  const bool system_stream = !stream.empty() && stream.front() == '$';
  if (!system_stream && !type.empty() && !IsSystemEventType(type)) {
    names.type.reserve(kTypeStreamPrefix.size() + type.size());
    names.type.append(kTypeStreamPrefix).append(type);
  }
  return names;
}

}  // namespace cairn::index

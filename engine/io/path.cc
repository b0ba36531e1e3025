// Copyright (c) Cairn authors.
#include <string>
#include <string_view>

#include "engine/io/file_system.h"

namespace cairn::io {

std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (!out.empty() && out.back() != '/') out.push_back('/');
  out += name;
  return out;
}

}  // namespace cairn::io

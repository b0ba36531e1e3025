// Copyright (c) Cairn authors.
#include "inspect/status_finding.h"

#include <string>
#include <utility>

namespace cairn::inspect {

StatusFinding FindingOf(const std::string& file, const Status& s) {
  const CorruptionInfo* where = s.corruption();
  if (where == nullptr) return {file, 0, s.ToString()};
  std::string message = s.message();
  const std::string suffix = " (file " + where->file + ", offset " +
                             std::to_string(where->offset) + ")";
  if (message.ends_with(suffix)) message.resize(message.size() - suffix.size());
  return {where->file, where->offset, std::move(message)};
}

}  // namespace cairn::inspect

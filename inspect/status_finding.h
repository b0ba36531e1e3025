// Copyright (c) Cairn authors.
//
// A Status from the segment or index layer as a finding of `cairn verify`:
// the file and offset it names, and its message. Status::Corruption appends
// " (file F, offset O)" to its message; a finding carries both apart, so
// the message drops that suffix.
#ifndef CAIRN_INSPECT_STATUS_FINDING_H_
#define CAIRN_INSPECT_STATUS_FINDING_H_

#include <cstdint>
#include <string>

#include "cairn/status.h"

namespace cairn::inspect {

struct StatusFinding {
  std::string file;
  uint64_t offset = 0;
  std::string message;
};

// The location of a corruption, or `file` at offset 0 with the whole
// status for any other error.
StatusFinding FindingOf(const std::string& file, const Status& s);

}  // namespace cairn::inspect

#endif  // CAIRN_INSPECT_STATUS_FINDING_H_

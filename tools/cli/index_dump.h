// Copyright (c) Cairn authors.
//
// `cairn dump` of index files (DIR/index/MANIFEST, DIR/index/NNN.idx):
// their decoded structure with checksum status, also for damaged files, as
// the inspection API (cairn/inspect.h) reads it.
#ifndef CAIRN_TOOLS_CLI_INDEX_DUMP_H_
#define CAIRN_TOOLS_CLI_INDEX_DUMP_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "tools/cli/command.h"
#include "tools/jsonl/json_writer.h"

namespace cairn::tools {

// One JSON line of `cairn dump --json`: {"kind":KIND,"file":FILE,...}.
class DumpLine : public json::LineWriter {
 public:
  DumpLine(std::string* out, std::string_view kind, std::string_view file)
      : LineWriter(out) {
    S("kind", kind);
    S("file", file);
  }
};

struct IndexDumpCounts {
  uint64_t problems = 0;  // damage found
  uint64_t errors = 0;    // files that could not be read
};

// Dumps one index file to `out` (text, or JSON Lines with `json`).
IndexDumpCounts DumpIndexFile(const Io& io, const std::string& path, bool json,
                              OutputBuffer* out);

}  // namespace cairn::tools

#endif  // CAIRN_TOOLS_CLI_INDEX_DUMP_H_

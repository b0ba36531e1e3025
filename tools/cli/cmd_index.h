// Copyright (c) Cairn authors.
//
// Parts of `cairn index` that tests reach directly.
#ifndef CAIRN_TOOLS_CLI_CMD_INDEX_H_
#define CAIRN_TOOLS_CLI_CMD_INDEX_H_

#include <string>

#include "cairn/options.h"

namespace cairn::tools {

// The progress line `cairn index rebuild` shows on a terminal:
// "rebuilding index [#####.....] 45%  1.2M events  512.0 MiB of 1024.0 MiB".
std::string RebuildProgressLine(const OpenProgress& progress);

}  // namespace cairn::tools

#endif  // CAIRN_TOOLS_CLI_CMD_INDEX_H_

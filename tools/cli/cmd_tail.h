// Copyright (c) Cairn authors.
#ifndef CAIRN_TOOLS_CLI_CMD_TAIL_H_
#define CAIRN_TOOLS_CLI_CMD_TAIL_H_

#include "tools/cli/command.h"

namespace cairn::tools {

// cairn tail DIR [--from start|end|POS] [--stream S] [--stream-prefix P]
//                [--type-prefix T] [--json] [--limit N]
Command AddTailCommand(CLI::App& app, const Io& io);

}  // namespace cairn::tools

#endif  // CAIRN_TOOLS_CLI_CMD_TAIL_H_

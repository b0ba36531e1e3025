// Copyright (c) Cairn authors.
//
// cairn bench --workload NAME [--duration S] [--dir DIR] [--event-size B]
//             [--events N] [--streams N] [--durability MODE]
//             [--raw-duration S] [--json]
//
// Measures Cairn on this machine: first the raw limits of the disk under
// the benchmark directory (4 KiB write+fdatasync rate, 1 MiB durable
// bandwidth), then the workload(s) against fresh stores in the same
// directory, and reports both side by side. docs/benchmarks.md describes
// the workloads and the figures of a reference run.
#ifndef CAIRN_TOOLS_CLI_CMD_BENCH_H_
#define CAIRN_TOOLS_CLI_CMD_BENCH_H_

#include <CLI/CLI.hpp>

#include "tools/cli/command.h"

namespace cairn::tools {

Command AddBenchCommand(CLI::App& app, const Io& io);

}  // namespace cairn::tools

#endif  // CAIRN_TOOLS_CLI_CMD_BENCH_H_

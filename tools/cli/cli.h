// Copyright (c) Cairn authors.
//
// The `cairn` command line, callable in-process so tests can drive it.
#ifndef CAIRN_TOOLS_CLI_CLI_H_
#define CAIRN_TOOLS_CLI_CLI_H_

#include <iosfwd>

namespace cairn::tools {

// Runs `cairn` with argv; writes normal output to `out` and errors to `err`.
// `in` is standard input (for `cairn import DIR -`). Returns the exit code.
int RunCli(int argc, const char* const* argv, std::istream& in,
           std::ostream& out, std::ostream& err);

}  // namespace cairn::tools

#endif  // CAIRN_TOOLS_CLI_CLI_H_

// Copyright (c) Cairn authors.
//
// The `cairn` command line: registers the subcommands, parses argv, runs the
// chosen one. Nothing here may exit the process or touch std::cout/cerr
// directly: tests drive RunCli in-process with string streams.
#include "tools/cli/cli.h"

#include <CLI/CLI.hpp>
#include <exception>
#include <ostream>
#include <string>
#include <vector>

#include "cairn/inspect.h"
#include "cairn/version.h"
#include "tools/cli/cmd_bench.h"
#include "tools/cli/cmd_tail.h"
#include "tools/cli/command.h"

namespace cairn::tools {

namespace {

std::string VersionText() {
  return std::string("cairn ") + Version() + " (segment format " +
         std::to_string(inspect::SegmentFormatVersion()) + ")";
}

}  // namespace

int RunCli(int argc, const char* const* argv, std::istream& in,
           std::ostream& out, std::ostream& err) {
  const Io io{in, out, err};
  CLI::App app{"cairn: an embeddable event store for event sourcing"};
  app.name("cairn");
  app.require_subcommand(1);
  app.fallthrough(false);
  app.set_version_flag("--version", VersionText());

  std::vector<Command> commands;
  commands.push_back(AddAppendCommand(app, io));
  commands.push_back(AddReadCommand(app, io));
  commands.push_back(AddReadAllCommand(app, io));
  commands.push_back(AddImportCommand(app, io));
  commands.push_back(AddExportCommand(app, io));
  commands.push_back(AddDumpCommand(app, io));
  commands.push_back(AddVerifyCommand(app, io));
  commands.push_back(AddStatsCommand(app, io));
  commands.push_back(AddDeleteCommand(app, io));
  commands.push_back(AddTombstoneCommand(app, io));
  commands.push_back(AddMetadataCommand(app, io));
  commands.push_back(AddIndexCommand(app, io));
  commands.push_back(AddBackupCommand(app, io));
  commands.push_back(AddScavengeCommand(app, io));
  commands.push_back(AddSnapshotCommand(app, io));
  commands.push_back(AddBenchCommand(app, io));
  commands.push_back(AddTailCommand(app, io));
#ifdef CAIRN_WITH_SERVER
  commands.push_back(AddServeCommand(app, io));
#endif
  CLI::App* version = app.add_subcommand("version", "Print the version");
  commands.push_back({version, [&io] {
                        io.out << VersionText() << '\n';
                        return kExitOk;
                      }});

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version end parsing with exit code 0; every real parse
    // error is a usage error (CLI11's own codes are not ours to expose).
    int code = app.exit(e, out, err);
    return code == 0 ? kExitOk : kExitUsage;
  }
  try {
    for (const Command& command : commands) {
      if (command.app->parsed()) return command.run();
    }
  } catch (const std::exception& e) {
    err << "cairn: unexpected error: " << e.what() << '\n';
    return kExitError;
  }
  return kExitUsage;  // unreachable: require_subcommand(1)
}

}  // namespace cairn::tools

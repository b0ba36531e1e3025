// Copyright (c) Cairn authors.
#include "tools/cli.h"

#include <CLI/CLI.hpp>
#include <ostream>

namespace cairn::tools {

int RunCli(int argc, const char* const* argv, std::istream& /*in*/,
           std::ostream& out, std::ostream& err) {
  CLI::App app{"cairn: an embeddable event store"};
  app.require_subcommand(1);
  app.add_subcommand("version", "Print the version")->callback([&out] {
    out << "cairn 0.1.0\n";
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e, out, err);
  }
  return 0;
}

}  // namespace cairn::tools

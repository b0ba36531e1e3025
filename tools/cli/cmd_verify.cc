// Copyright (c) Cairn authors.
//
// cairn verify DIR
//
// Prints what inspect::VerifyStore (cairn/inspect.h) finds in a store's
// files, one "file:offset: message" line per finding, then a summary. The
// exit code tells a damaged log (kExitDamage) from a damaged index alone
// (kExitIndexDamage: derived data, which an open or `cairn index rebuild`
// recreates).
#include <memory>
#include <ostream>
#include <string>

#include "cairn/inspect.h"
#include "tools/cli/command.h"

namespace cairn::tools {
namespace {

struct VerifyArgs {
  std::string dir;
};

std::string Plural(uint64_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

int RunVerify(const Io& io, const std::string& dir) {
  inspect::VerifyOptions options;
  // Findings are printed as they are found; the report keeps none.
  options.max_findings = 0;
  options.on_finding = [&io](const inspect::Finding& f) {
    io.out << f.file << ":" << f.offset << ": "
           << (f.severity == inspect::Severity::kWarning ? "warning: " : "")
           << (f.area == inspect::Area::kIndex ? "index: " : "") << f.message
           << '\n';
  };
  auto report = inspect::VerifyStore(dir, options);
  if (!report.ok()) return FailStatus(io, "verify", report.status());
  const inspect::VerifyReport& r = *report;
  if (r.segments == 0) {
    return Fail(io, "verify", "no segment files in " + dir, kExitError);
  }
  if (r.log_problems > 0) {
    io.out << "verify: " << Plural(r.log_problems, "problem") << " in " << dir
           << " (" << r.segments << " segments)";
    if (r.index_problems > 0) {
      io.out << ", and " << r.index_problems << " in its index";
    }
    io.out << '\n';
    return kExitDamage;
  }
  if (r.index_problems > 0) {
    io.out << "verify: index damaged: " << Plural(r.index_problems, "problem")
           << " in " << inspect::IndexDirOf(dir) << "; the log is intact ("
           << r.segments << " segments, " << r.events
           << " events). The index is derived data: the next open rebuilds "
              "what it detects itself; `cairn index rebuild "
           << dir << "` rebuilds all of it now\n";
    return kExitIndexDamage;
  }
  io.out << "verify: ok: " << r.segments << " segments, " << r.events
         << " events, " << r.streams << " streams"
         << (r.warnings > 0 ? ", " + Plural(r.warnings, "warning") : "");
  if (r.index_present) {
    io.out << "; index: " << Plural(r.index_tables, "table") << ", "
           << r.index_entries << " entries, checkpoint " << r.index_checkpoint;
  } else {
    io.out << "; no index yet";
  }
  io.out << '\n';
  return kExitOk;
}

}  // namespace

Command AddVerifyCommand(CLI::App& app, const Io& io) {
  auto args = std::make_shared<VerifyArgs>();
  CLI::App* sub = app.add_subcommand(
      "verify",
      "Check every segment header, record checksum and log invariant of a "
      "store, and its index files against the log, without changing "
      "anything");
  sub->add_option("DIR", args->dir, "Store directory")->required();
  return {sub, [io, args] { return RunVerify(io, args->dir); }};
}

}  // namespace cairn::tools

// Copyright (c) Cairn authors.
//
// cairn backup DIR DEST [--json] [--progress]
#include <chrono>
#include <memory>
#include <ostream>
#include <string>

#include "cairn/store.h"
#include "tools/cli/command.h"

namespace cairn::tools {
namespace {

struct BackupArgs {
  std::string dir;
  std::string dest;
  bool json = false;
  bool progress = false;
};

int RunBackup(const Io& io, const BackupArgs& args) {
  constexpr std::string_view kName = "backup";
  // Read-only: works beside a running writer (copying what it has made
  // durable) and on a stopped store alike.
  auto store = OpenStore(args.dir, /*read_only=*/true);
  if (!store.ok()) return FailStatus(io, kName, store.status());
  BackupOptions options;
  if (args.progress) {
    options.progress = [&io](uint64_t done, uint64_t total) {
      io.err << "cairn backup: " << done << " of " << total << " bytes\n";
    };
  }
  const auto start = std::chrono::steady_clock::now();
  auto result = (*store)->Backup(args.dest, options);
  if (!result.ok()) return FailStatus(io, kName, result.status());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  const BackupResult& r = *result;
  if (args.json) {
    io.out << "{\"end_position\":" << r.end_position.value()
           << ",\"files_copied\":" << r.files_copied
           << ",\"bytes_copied\":" << r.bytes_copied
           << ",\"files_reused\":" << r.files_reused
           << ",\"bytes_reused\":" << r.bytes_reused
           << ",\"seconds\":" << seconds << "}\n";
  } else {
    io.out << "backed up every event below position " << r.end_position.value()
           << " to " << args.dest << '\n'
           << "copied:  " << r.files_copied << " files, " << r.bytes_copied
           << " bytes\n"
           << "reused:  " << r.files_reused << " files, " << r.bytes_reused
           << " bytes\n"
           << "seconds: " << seconds << '\n';
  }
  return io.out ? kExitOk : kExitError;
}

}  // namespace

Command AddBackupCommand(CLI::App& app, const Io& io) {
  auto args = std::make_shared<BackupArgs>();
  CLI::App* sub = app.add_subcommand(
      "backup",
      "Copy a consistent, verified backup of a store (live or stopped) into "
      "DEST; incremental when DEST holds an older backup");
  sub->add_option("DIR", args->dir, "Store directory")->required();
  sub->add_option("DEST", args->dest, "Backup directory")->required();
  sub->add_flag("--json", args->json, "Print one JSON object");
  sub->add_flag("--progress", args->progress,
                "Report bytes copied on standard error");
  return {sub, [io, args] { return RunBackup(io, *args); }};
}

}  // namespace cairn::tools

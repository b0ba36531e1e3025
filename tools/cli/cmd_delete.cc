// Copyright (c) Cairn authors.
//
// cairn delete DIR STREAM [--expected E] [--json]      (soft delete)
// cairn tombstone DIR STREAM [--expected E] [--json]   (hard delete)
#include <memory>
#include <ostream>
#include <string>

#include "cairn/store.h"
#include "tools/cli/command.h"
#include "tools/jsonl/json.h"

namespace cairn::tools {
namespace {

struct DeleteArgs {
  std::string dir;
  std::string stream;
  std::string expected = "any";
  bool json = false;
};

int RunDelete(const Io& io, const DeleteArgs& args, bool tombstone) {
  const std::string_view name = tombstone ? "tombstone" : "delete";
  auto expected = ParseExpectedOption(args.expected);
  if (!expected.ok()) return FailStatus(io, name, expected.status());
  auto store = OpenStore(args.dir, /*read_only=*/false);
  if (!store.ok()) return FailStatus(io, name, store.status());
  auto result = tombstone ? (*store)->Tombstone(args.stream, *expected)
                          : (*store)->Delete(args.stream, *expected);
  Status closed = (*store)->Close();
  if (!result.ok()) return FailStatus(io, name, result.status());
  if (!closed.ok()) return FailStatus(io, name, closed);
  if (args.json) {
    io.out << "{\"stream\":" << json::Quote(args.stream)
           << ",\"position\":" << result->position.value() << "}\n";
  } else {
    io.out << (tombstone ? "tombstoned" : "deleted") << ": stream "
           << args.stream << ", position " << result->position.value() << '\n';
  }
  return io.out ? kExitOk : kExitError;
}

Command AddDeletingCommand(CLI::App& app, const Io& io, bool tombstone,
                           const char* name, const char* description) {
  auto args = std::make_shared<DeleteArgs>();
  CLI::App* sub = app.add_subcommand(name, description);
  sub->add_option("DIR", args->dir, "Store directory")->required();
  sub->add_option("STREAM", args->stream, "Stream name")->required();
  sub->add_option("--expected,-e", args->expected,
                  "Expected stream version: any, no-stream, exists or the "
                  "stream's current last revision")
      ->capture_default_str();
  sub->add_flag("--json", args->json, "Print the result as one JSON object");
  return {sub,
          [io, args, tombstone] { return RunDelete(io, *args, tombstone); }};
}

}  // namespace

Command AddDeleteCommand(CLI::App& app, const Io& io) {
  return AddDeletingCommand(
      app, io, /*tombstone=*/false, "delete",
      "Soft-delete a stream: it reads as not found until appended to again "
      "(its revisions continue); its metadata is kept");
}

Command AddTombstoneCommand(CLI::App& app, const Io& io) {
  return AddDeletingCommand(
      app, io, /*tombstone=*/true, "tombstone",
      "Tombstone a stream: every later read of or append to it fails, and "
      "its name can never be used again");
}

}  // namespace cairn::tools

// Copyright (c) Cairn authors.
//
// cairn append DIR STREAM --type T --data JSON|@file [--metadata ...]
//              [--id UUID] [--expected any|no-stream|exists|N] [--binary]
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "cairn/store.h"
#include "tools/cli/command.h"
#include "tools/jsonl/json.h"

namespace cairn::tools {
namespace {

struct AppendArgs {
  std::string dir;
  std::string stream;
  std::string type;
  std::string data;
  std::string metadata;
  std::string id;
  std::string expected = "any";
  bool binary = false;
  bool json = false;
  uint64_t segment_size = Options().segment_size;
};

int RunAppend(const Io& io, const AppendArgs& args) {
  constexpr std::string_view kName = "append";
  auto expected = ExpectedVersion::Parse(args.expected);
  if (!expected) {
    return Fail(io, kName,
                "--expected must be any, no-stream, exists or a revision "
                "number, not '" +
                    args.expected + "'",
                kExitUsage);
  }
  EventData event;
  event.type = args.type;
  event.content_type = args.binary ? ContentType::kBinary : ContentType::kJson;
  if (!args.id.empty()) {
    auto id = EventId::Parse(args.id);
    if (!id) {
      return Fail(
          io, kName,
          "--id must be a UUID (8-4-4-4-12 hex digits), not '" + args.id + "'",
          kExitUsage);
    }
    event.id = *id;
  }
  Status s = LoadPayload(io, args.data, args.binary, "--data", &event.data);
  if (s.ok() && !args.metadata.empty()) {
    s = LoadPayload(io, args.metadata, args.binary, "--metadata",
                    &event.metadata);
  }
  if (!s.ok()) return FailStatus(io, kName, s);

  Options options;
  options.segment_size = args.segment_size;
  auto store = OpenStore(args.dir, /*read_only=*/false, options);
  if (!store.ok()) return FailStatus(io, kName, store.status());
  auto result = (*store)->Append(args.stream, *expected,
                                 std::span<const EventData>(&event, 1));
  Status closed = (*store)->Close();
  if (!result.ok()) return FailStatus(io, kName, result.status());
  if (!closed.ok()) return FailStatus(io, kName, closed);

  const AppendResult& r = result.value();
  if (args.json) {
    io.out << "{\"stream\":" << json::Quote(args.stream)
           << ",\"revision\":" << r.first_revision.value()
           << ",\"position\":" << r.first_position.value()
           << ",\"idempotent_replay\":"
           << (r.idempotent_replay ? "true" : "false") << "}\n";
  } else {
    io.out << (r.idempotent_replay ? "already appended (idempotent retry): "
                                   : "appended: ")
           << "stream " << args.stream << ", revision "
           << r.first_revision.value() << ", position "
           << r.first_position.value() << '\n';
  }
  return io.out ? kExitOk : kExitError;
}

}  // namespace

Command AddAppendCommand(CLI::App& app, const Io& io) {
  auto args = std::make_shared<AppendArgs>();
  CLI::App* sub = app.add_subcommand(
      "append", "Append one event to a stream (creates the store if missing)");
  sub->add_option("DIR", args->dir, "Store directory")->required();
  sub->add_option("STREAM", args->stream, "Stream name")->required();
  sub->add_option("--type,-t", args->type, "Event type")->required();
  sub->add_option("--data,-d", args->data,
                  "Event data: JSON text, or @FILE to read it from a file "
                  "(@- for standard input)")
      ->required();
  sub->add_option("--metadata,-m", args->metadata,
                  "Event metadata: JSON text or @FILE");
  sub->add_option("--id", args->id,
                  "Event id (UUID); reuse it to retry idempotently. Default: "
                  "a new random id");
  sub->add_option("--expected,-e", args->expected,
                  "Expected stream version: any, no-stream, exists or the "
                  "stream's current last revision")
      ->capture_default_str();
  sub->add_flag("--binary", args->binary,
                "Store data and metadata as raw bytes (content type binary) "
                "instead of requiring JSON");
  sub->add_flag("--json", args->json, "Print the result as one JSON object");
  sub->add_option("--segment-size", args->segment_size,
                  "Size of segment files created from now on, in bytes")
      ->transform(UnsignedDecimal())
      ->capture_default_str();
  return {sub, [io, args] { return RunAppend(io, *args); }};
}

}  // namespace cairn::tools

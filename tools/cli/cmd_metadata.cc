// Copyright (c) Cairn authors.
//
// cairn metadata get DIR STREAM [--json]
// cairn metadata set DIR STREAM JSON|@FILE [--expected E] [--json]
#include <memory>
#include <ostream>
#include <string>

#include "cairn/store.h"
#include "tools/cli/command.h"
#include "tools/jsonl/json.h"

namespace cairn::tools {
namespace {

struct MetadataArgs {
  std::string dir;
  std::string stream;
  std::string value;  // set: the JSON or @FILE
  std::string expected = "any";
  bool json = false;
};

int RunGet(const Io& io, const MetadataArgs& args) {
  constexpr std::string_view kName = "metadata get";
  auto store = OpenStore(args.dir, /*read_only=*/true);
  if (!store.ok()) return FailStatus(io, kName, store.status());
  auto got = (*store)->GetStreamMetadata(args.stream);
  if (!got.ok()) return FailStatus(io, kName, got.status());
  const std::string revision =
      got->metastream_revision
          ? std::to_string(got->metastream_revision->value())
          : std::string(args.json ? "null" : "none");
  if (args.json) {
    io.out << "{\"stream\":" << json::Quote(args.stream)
           << ",\"metastream_revision\":" << revision
           << ",\"metadata\":" << got->json << "}\n";
  } else {
    io.out << got->json << "\n(metadata revision " << revision << ")\n";
  }
  return io.out ? kExitOk : kExitError;
}

int RunSet(const Io& io, const MetadataArgs& args) {
  constexpr std::string_view kName = "metadata set";
  auto expected = ParseExpectedOption(args.expected);
  if (!expected.ok()) return FailStatus(io, kName, expected.status());
  std::string value = args.value;
  if (!value.empty() && value[0] == '@') {
    auto contents = ReadInput(io, value.substr(1), Options().max_event_size);
    if (!contents.ok()) return FailStatus(io, kName, contents.status());
    value = std::move(contents.value());
  }
  auto store = OpenStore(args.dir, /*read_only=*/false);
  if (!store.ok()) return FailStatus(io, kName, store.status());
  auto set = (*store)->SetStreamMetadataJson(args.stream, *expected, value);
  Status closed = (*store)->Close();
  if (!set.ok()) return FailStatus(io, kName, set.status());
  if (!closed.ok()) return FailStatus(io, kName, closed);
  if (args.json) {
    io.out << "{\"stream\":" << json::Quote(args.stream)
           << ",\"metastream_revision\":" << set->first_revision.value()
           << ",\"position\":" << set->first_position.value() << "}\n";
  } else {
    io.out << "metadata set: stream " << args.stream << ", metadata revision "
           << set->first_revision.value() << ", position "
           << set->first_position.value() << '\n';
  }
  return io.out ? kExitOk : kExitError;
}

}  // namespace

Command AddMetadataCommand(CLI::App& app, const Io& io) {
  CLI::App* sub = app.add_subcommand(
      "metadata",
      "Get or set a stream's metadata ($maxCount, $maxAge, $tb, "
      "$cacheControl, $acl and custom properties)");
  sub->require_subcommand(1);
  auto get_args = std::make_shared<MetadataArgs>();
  CLI::App* get = sub->add_subcommand("get", "Print a stream's metadata JSON");
  get->add_option("DIR", get_args->dir, "Store directory")->required();
  get->add_option("STREAM", get_args->stream, "Stream name")->required();
  get->add_flag("--json", get_args->json,
                "Print one JSON object with the metadata and its revision");
  auto set_args = std::make_shared<MetadataArgs>();
  CLI::App* set = sub->add_subcommand(
      "set", "Replace a stream's metadata (stored byte for byte)");
  set->add_option("DIR", set_args->dir, "Store directory")->required();
  set->add_option("STREAM", set_args->stream, "Stream name")->required();
  set->add_option("METADATA", set_args->value,
                  "Metadata JSON, or @FILE to read it from a file (@- for "
                  "standard input)")
      ->required();
  set->add_option("--expected,-e", set_args->expected,
                  "Expected metadata revision: any, no-stream, exists or "
                  "the revision `metadata get` printed")
      ->capture_default_str();
  set->add_flag("--json", set_args->json,
                "Print the result as one JSON object");
  return {sub, [io, get, get_args, set_args] {
            return get->parsed() ? RunGet(io, *get_args)
                                 : RunSet(io, *set_args);
          }};
}

}  // namespace cairn::tools

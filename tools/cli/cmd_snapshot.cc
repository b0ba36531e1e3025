// Copyright (c) Cairn authors.
//
// cairn snapshot save DIR STREAM --revision R --data JSON|@FILE [--binary]
//                     [--schema S] [--keep N] [--json]
// cairn snapshot load DIR STREAM [--max-count N] [--json]
#include <memory>
#include <ostream>
#include <string>

#include "cairn/store.h"
#include "tools/cli/command.h"
#include "tools/jsonl/event_format.h"
#include "tools/jsonl/json.h"

namespace cairn::tools {
namespace {

struct SnapshotArgs {
  std::string dir;
  std::string stream;
  uint64_t revision = 0;
  std::string data;
  bool binary = false;
  std::string schema;
  uint64_t keep = SaveSnapshotOptions().keep;
  uint64_t max_count = LoadAggregateOptions().max_count;
  bool json = false;
};

int RunSave(const Io& io, const SnapshotArgs& args) {
  constexpr std::string_view kName = "snapshot save";
  SnapshotData snapshot;
  Status s = LoadPayload(io, args.data, args.binary, "--data", &snapshot.data);
  if (!s.ok()) return FailStatus(io, kName, s);
  snapshot.schema = args.schema;
  snapshot.content_type =
      args.binary ? ContentType::kBinary : ContentType::kJson;
  SaveSnapshotOptions options;
  options.keep = args.keep;
  auto store = OpenStore(args.dir, /*read_only=*/false);
  if (!store.ok()) return FailStatus(io, kName, store.status());
  auto saved = (*store)->SaveSnapshot(
      args.stream, StreamRevision(args.revision), snapshot, options);
  Status closed = (*store)->Close();
  if (!saved.ok()) return FailStatus(io, kName, saved.status());
  if (!closed.ok()) return FailStatus(io, kName, closed);
  if (args.json) {
    io.out << "{\"stream\":" << json::Quote(args.stream)
           << ",\"revision\":" << args.revision
           << ",\"snapshot_revision\":" << saved->snapshot_revision.value()
           << ",\"position\":" << saved->position.value() << "}\n";
  } else {
    io.out << "snapshot saved: stream " << args.stream << " at revision "
           << args.revision << ", snapshot revision "
           << saved->snapshot_revision.value() << ", position "
           << saved->position.value() << '\n';
  }
  return io.out ? kExitOk : kExitError;
}

// The first line of `load --json`: the snapshot and where the events end.
void AppendAggregateJson(std::string_view stream, const AggregateResult& got,
                         std::string* out) {
  out->append("{\"stream\":");
  json::AppendQuoted(stream, out);
  out->append(",\"snapshot\":");
  if (got.snapshot) {
    const Snapshot& snap = *got.snapshot;
    out->append("{\"revision\":" + std::to_string(snap.revision.value()) +
                ",\"schema\":");
    json::AppendQuoted(snap.schema, out);
    out->append(",\"position\":" + std::to_string(snap.position.value()) +
                ",\"created\":\"");
    AppendTimestamp(snap.created_us, out);
    out->append("\",\"content_type\":\"");
    out->append(ContentTypeName(snap.content_type));
    out->append("\",");
    AppendPayloadField("data", snap.data, snap.content_type,
                       PayloadStyle::kDisplay, out);
    out->push_back('}');
  } else {
    out->append("null");
  }
  out->append(
      ",\"events\":" + std::to_string(got.events.size()) +
      ",\"last_revision\":" + std::to_string(got.last_revision.value()) +
      ",\"end_of_stream\":" + (got.end_of_stream ? "true" : "false") +
      ",\"next_revision\":" + std::to_string(got.next_revision.value()) +
      "}\n");
}

void AppendAggregateText(std::string_view stream, const AggregateResult& got,
                         std::string* out) {
  if (got.snapshot) {
    const Snapshot& snap = *got.snapshot;
    out->append("snapshot of " + std::string(stream) + " at revision " +
                std::to_string(snap.revision.value()) + "  schema ");
    out->append(snap.schema.empty() ? "(none)" : snap.schema);
    out->append("  position " + std::to_string(snap.position.value()) + "  ");
    out->append(FormatTimestamp(snap.created_us));
    out->append("\n  data: ");
    AppendPayloadText(snap.data, snap.content_type, out);
    out->push_back('\n');
  } else {
    out->append("no usable snapshot of " + std::string(stream) + "\n");
  }
}

int RunLoad(const Io& io, const SnapshotArgs& args) {
  constexpr std::string_view kName = "snapshot load";
  auto store = OpenStore(args.dir, /*read_only=*/true);
  if (!store.ok()) return FailStatus(io, kName, store.status());
  LoadAggregateOptions options;
  options.max_count = args.max_count;
  auto got = (*store)->LoadAggregate(args.stream, options);
  if (!got.ok()) return FailStatus(io, kName, got.status());
  OutputBuffer out(io.out);
  if (args.json) {
    AppendAggregateJson(args.stream, *got, out.buffer());
  } else {
    AppendAggregateText(args.stream, *got, out.buffer());
  }
  for (const RecordedEvent& event : got->events) {
    if (args.json) {
      AppendEventJsonLine(event.View(), PayloadStyle::kDisplay, out.buffer());
    } else {
      AppendEventText(event.View(), out.buffer());
    }
    out.MaybeFlush();
  }
  if (!args.json) {
    out.buffer()->append("(" + std::to_string(got->events.size()) +
                         " events after the snapshot; last revision " +
                         std::to_string(got->last_revision.value()) +
                         (got->end_of_stream
                              ? ")\n"
                              : "; more from revision " +
                                    std::to_string(got->next_revision.value()) +
                                    ")\n"));
  }
  return out.Flush() ? kExitOk : kExitError;
}

}  // namespace

Command AddSnapshotCommand(CLI::App& app, const Io& io) {
  CLI::App* sub = app.add_subcommand(
      "snapshot",
      "Save a snapshot of a stream's state, or load an aggregate (the "
      "newest usable snapshot plus the events after it)");
  sub->require_subcommand(1);
  auto save_args = std::make_shared<SnapshotArgs>();
  CLI::App* save = sub->add_subcommand(
      "save", "Save a snapshot of STREAM's state after --revision");
  save->add_option("DIR", save_args->dir, "Store directory")->required();
  save->add_option("STREAM", save_args->stream, "Stream name")->required();
  save->add_option("--revision,-r", save_args->revision,
                   "The stream revision the state includes")
      ->transform(UnsignedDecimal())
      ->required();
  save->add_option("--data,-d", save_args->data,
                   "The state: JSON text, or @FILE to read it from a file "
                   "(@- for standard input)")
      ->required();
  save->add_flag("--binary", save_args->binary,
                 "Store the state as raw bytes instead of requiring JSON");
  save->add_option("--schema,-s", save_args->schema,
                   "Content type or schema version of the state, e.g. "
                   "OrderState/v2");
  save->add_option("--keep", save_args->keep,
                   "How many snapshots of the stream to keep")
      ->transform(UnsignedDecimal())
      ->capture_default_str();
  save->add_flag("--json", save_args->json,
                 "Print the result as one JSON object");
  auto load_args = std::make_shared<SnapshotArgs>();
  CLI::App* load = sub->add_subcommand(
      "load", "Print the newest usable snapshot and the events after it");
  load->add_option("DIR", load_args->dir, "Store directory")->required();
  load->add_option("STREAM", load_args->stream, "Stream name")->required();
  load->add_option("--max-count,-n", load_args->max_count,
                   "At most this many events after the snapshot")
      ->capture_default_str();
  load->add_flag("--json", load_args->json,
                 "Print JSON Lines: the snapshot, then one line per event");
  return {sub, [io, save, save_args, load_args] {
            return save->parsed() ? RunSave(io, *save_args)
                                  : RunLoad(io, *load_args);
          }};
}

}  // namespace cairn::tools

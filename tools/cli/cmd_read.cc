// Copyright (c) Cairn authors.
//
// cairn read DIR STREAM [--from N] [--backward] [--limit N] [--json]
// cairn read-all DIR [--from POS] [--backward] [--limit N]
//                [--stream-prefix P] [--type-prefix T] [--json]
//
// Both open the store read-only, so they work beside a running writer (and
// see what it has made durable), and both page through the log so that
// memory stays flat however much they print.
#include <algorithm>
#include <limits>
#include <memory>
#include <ostream>
#include <string>

#include "cairn/store.h"
#include "tools/cli/command.h"
#include "tools/jsonl/event_format.h"

namespace cairn::tools {
namespace {

// Events per ReadStream / VisitAll call: large enough to amortise the
// per-call work, small enough to bound memory (ReadStream copies a page).
constexpr uint64_t kPageSize = 1024;

struct ReadArgs {
  std::string dir;
  std::string stream;
  uint64_t from = 0;
  CLI::Option* from_option = nullptr;
  bool backward = false;
  uint64_t limit = std::numeric_limits<uint64_t>::max();
  std::string stream_prefix;
  std::string type_prefix;
  bool json = false;
};

void Render(const RecordedEventView& event, bool json, std::string* out) {
  if (json) {
    AppendEventJsonLine(event, PayloadStyle::kDisplay, out);
  } else {
    AppendEventText(event, out);
  }
}

int RunRead(const Io& io, const ReadArgs& args) {
  constexpr std::string_view kName = "read";
  auto store = OpenStore(args.dir, /*read_only=*/true);
  if (!store.ok()) return FailStatus(io, kName, store.status());
  OutputBuffer out(io.out);
  ReadStreamOptions options;
  options.direction =
      args.backward ? Direction::kBackward : Direction::kForward;
  if (args.from_option->count() > 0) options.from = StreamRevision(args.from);
  uint64_t remaining = args.limit;
  while (remaining > 0) {
    options.max_count = std::min(remaining, kPageSize);
    auto page = (*store)->ReadStream(args.stream, options);
    if (!page.ok()) {
      out.Flush();
      return FailStatus(io, kName, page.status());
    }
    for (const RecordedEvent& event : page->events) {
      Render(event.View(), args.json, out.buffer());
    }
    out.MaybeFlush();
    remaining -= page->events.size();
    if (page->end_of_stream || page->events.empty()) break;
    // Pages follow the stream read: a category or type stream's own
    // revisions, not the original events'.
    const RecordedEvent& back = page->events.back();
    uint64_t last = back.link_revision.value_or(back.revision).value();
    if (args.backward) {
      if (last == 0) break;
      options.from = StreamRevision(last - 1);
    } else {
      options.from = StreamRevision(last + 1);
    }
  }
  if (!out.Flush()) return Fail(io, kName, "cannot write output", kExitError);
  return kExitOk;
}

int RunReadAll(const Io& io, const ReadArgs& args) {
  constexpr std::string_view kName = "read-all";
  auto store = OpenStore(args.dir, /*read_only=*/true);
  if (!store.ok()) return FailStatus(io, kName, store.status());
  OutputBuffer out(io.out);
  ReadAllOptions options;
  options.direction =
      args.backward ? Direction::kBackward : Direction::kForward;
  if (args.from_option->count() > 0) options.from = GlobalPosition(args.from);
  options.stream_prefix = args.stream_prefix;
  options.type_prefix = args.type_prefix;
  uint64_t remaining = args.limit;
  while (remaining > 0) {
    options.max_count = std::min(remaining, kPageSize);
    uint64_t seen = 0;
    auto next = (*store)->VisitAll(options, [&](const RecordedEventView& e) {
      Render(e, args.json, out.buffer());
      out.MaybeFlush();
      ++seen;
      return true;
    });
    if (!next.ok()) {
      out.Flush();
      return FailStatus(io, kName, next.status());
    }
    remaining -= seen;
    if (!next->has_value()) break;  // end of the log
    options.from = **next;
  }
  if (!out.Flush()) return Fail(io, kName, "cannot write output", kExitError);
  return kExitOk;
}

void AddCommonOptions(CLI::App* sub, ReadArgs* args) {
  sub->add_flag("--backward,-b", args->backward,
                "Read from the end towards the start");
  sub->add_option("--limit,-n", args->limit,
                  "Print at most this many events (default: all)")
      ->transform(UnsignedDecimal());
  sub->add_flag("--json", args->json,
                "Print JSON Lines, one event per line, instead of text");
}

}  // namespace

Command AddReadCommand(CLI::App& app, const Io& io) {
  auto args = std::make_shared<ReadArgs>();
  CLI::App* sub = app.add_subcommand(
      "read", "Print a stream's events (read-only; safe beside a writer)");
  sub->add_option("DIR", args->dir, "Store directory")->required();
  sub->add_option("STREAM", args->stream, "Stream name")->required();
  args->from_option =
      sub->add_option(
             "--from,-f", args->from,
             "First revision to print (default: the first, or the last with "
             "--backward)")
          ->transform(UnsignedDecimal());
  AddCommonOptions(sub, args.get());
  return {sub, [io, args] { return RunRead(io, *args); }};
}

Command AddReadAllCommand(CLI::App& app, const Io& io) {
  auto args = std::make_shared<ReadArgs>();
  CLI::App* sub = app.add_subcommand(
      "read-all",
      "Print the global log in position order (read-only; safe beside a "
      "writer)");
  sub->add_option("DIR", args->dir, "Store directory")->required();
  args->from_option = sub->add_option("--from,-f", args->from,
                                      "First global position to consider "
                                      "(default: the first, or the last "
                                      "with --backward)")
                          ->transform(UnsignedDecimal());
  sub->add_option("--stream-prefix,-s", args->stream_prefix,
                  "Only events of streams whose name starts with this");
  sub->add_option("--type-prefix,-t", args->type_prefix,
                  "Only events whose type starts with this");
  AddCommonOptions(sub, args.get());
  return {sub, [io, args] { return RunReadAll(io, *args); }};
}

}  // namespace cairn::tools

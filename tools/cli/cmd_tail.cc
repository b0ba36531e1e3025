// Copyright (c) Cairn authors.
//
// cairn tail DIR [--from start|end|POS] [--stream S] [--stream-prefix P]
//                [--type-prefix T] [--json] [--limit N]
//
// Follows the store from a read-only opener (so beside a live writer, in
// another process) with a subscription: prints each durable event as it
// arrives, until interrupted (SIGINT/SIGTERM) or --limit events were shown.
#include "tools/cli/cmd_tail.h"

#include <condition_variable>
#include <csignal>
#include <limits>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>

#include "cairn/store.h"
#include "tools/jsonl/event_format.h"

namespace cairn::tools {
namespace {

volatile std::sig_atomic_t g_interrupted = 0;

extern "C" void OnInterrupt(int /*signal*/) { g_interrupted = 1; }

struct TailArgs {
  std::string dir;
  std::string from = "start";
  std::string stream;
  std::string stream_prefix;
  std::string type_prefix;
  bool json = false;
  uint64_t limit = std::numeric_limits<uint64_t>::max();
};

// Prints events as they come; the main thread waits on it.
class Printer : public SubscriptionHandler {
 public:
  Printer(const Io& io, bool json, uint64_t limit)
      : io_(io), json_(json), limit_(limit) {}

  void OnEvent(const RecordedEventView& event) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (printed_ >= limit_) return;
    line_.clear();
    if (json_) {
      AppendEventJsonLine(event, PayloadStyle::kDisplay, &line_);
    } else {
      AppendEventText(event, &line_);
    }
    // Flush per event: a tail is read by people and pipes as it happens.
    io_.out << line_ << std::flush;
    if (++printed_ >= limit_) cv_.notify_all();
  }
  void OnStopped(const Status& status) override {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    status_ = status;
    cv_.notify_all();
  }

  // Waits until the limit is reached, the subscription stops, or a signal
  // arrives. Returns the subscription's final status.
  Status Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    // The signal flag can not notify a condition variable, so the wait
    // re-checks it a few times a second.
    while (!stopped_ && printed_ < limit_ && g_interrupted == 0) {
      cv_.wait_for(lock, std::chrono::milliseconds(100));
    }
    return status_;
  }

 private:
  const Io& io_;
  const bool json_;
  const uint64_t limit_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string line_;
  uint64_t printed_ = 0;
  bool stopped_ = false;
  Status status_;
};

int RunTail(const Io& io, const TailArgs& args) {
  constexpr std::string_view kName = "tail";
  SubscriptionOptions options;
  if (!args.stream.empty()) {
    if (!args.stream_prefix.empty() || !args.type_prefix.empty()) {
      return Fail(io, kName,
                  "--stream can not be combined with --stream-prefix or "
                  "--type-prefix",
                  kExitUsage);
    }
    options.stream = args.stream;
    if (args.from == "end") {
      return Fail(io, kName, "--from end is for the whole log; give a revision",
                  kExitUsage);
    }
  } else {
    options.stream_prefix = args.stream_prefix;
    options.type_prefix = args.type_prefix;
  }
  if (args.from != "start") {
    if (args.from == "end") {
      options.from_end = true;
    } else {
      const std::optional<uint64_t> parsed = ParseUnsignedDecimal(args.from);
      if (!parsed) {
        return Fail(
            io, kName,
            "--from takes start, end or a number, not '" + args.from + "'",
            kExitUsage);
      }
      const uint64_t value = *parsed;
      if (options.stream) {
        options.from_revision = StreamRevision(value);
      } else {
        options.from_position = GlobalPosition(value);
      }
    }
  }
  auto store = OpenStore(args.dir, /*read_only=*/true);
  if (!store.ok()) return FailStatus(io, kName, store.status());
  auto printer = std::make_shared<Printer>(io, args.json, args.limit);

  g_interrupted = 0;
  struct sigaction action = {};
  action.sa_handler = OnInterrupt;
  sigemptyset(&action.sa_mask);
  struct sigaction old_int = {};
  struct sigaction old_term = {};
  sigaction(SIGINT, &action, &old_int);
  sigaction(SIGTERM, &action, &old_term);

  auto subscription = (*store)->Subscribe(options, printer);
  Status status = subscription.ok() ? printer->Wait() : subscription.status();
  if (subscription.ok()) (*subscription)->Stop();

  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  if (!status.ok()) return FailStatus(io, kName, status);
  return kExitOk;
}

}  // namespace

Command AddTailCommand(CLI::App& app, const Io& io) {
  auto args = std::make_shared<TailArgs>();
  CLI::App* cmd = app.add_subcommand(
      "tail",
      "Follow the store's durable events as they are appended (read-only; "
      "works beside a running writer), until interrupted");
  cmd->add_option("DIR", args->dir, "Store directory")->required();
  cmd->add_option("--from", args->from,
                  "start (default), end, or a global position (with --stream: "
                  "a stream revision)");
  cmd->add_option("--stream", args->stream, "Follow one stream only");
  cmd->add_option("--stream-prefix", args->stream_prefix,
                  "Only events whose stream starts with this");
  cmd->add_option("--type-prefix", args->type_prefix,
                  "Only events whose type starts with this");
  cmd->add_flag("--json", args->json, "JSON Lines output (as read-all --json)");
  cmd->add_option("--limit", args->limit, "Stop after this many events");
  return {cmd, [&io, args] { return RunTail(io, *args); }};
}

}  // namespace cairn::tools

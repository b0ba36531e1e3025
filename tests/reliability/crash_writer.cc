// Copyright (c) Cairn authors.
//
// cairn_crash_writer DIR ACK_LOG SEED [THREADS]
//
// The victim of the kill -9 loop (kill_loop_test.cc): opens the store in
// DIR and appends from several threads until it is killed, recording in
// ACK_LOG (ack_log.h) each append before it is issued and each outcome
// after it is known. Threads mix synchronous appends with exact expected
// versions to their own stream and windows of asynchronous appends to
// shared streams. It never exits on its own unless an append fails in a
// way no crash explains, which it reports on stderr with exit code 2.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cairn/cairn.h"
#include "tests/reliability/ack_log.h"

namespace {

using cairn::AppendResult;
using cairn::EventData;
using cairn::EventId;
using cairn::ExpectedVersion;
using cairn::Result;

int g_log_fd = -1;

void LogLine(const std::string& line) {
  // One write() per line: a kill can cut only the last line short.
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(g_log_fd, p, left);
    if (n <= 0) std::abort();
    p += n;
    left -= static_cast<size_t>(n);
  }
}

[[noreturn]] void Die(const std::string& what) {
  (void)std::fprintf(stderr, "cairn_crash_writer: %s\n", what.c_str());
  std::_Exit(2);
}

std::vector<EventData> MakeEvents(std::mt19937_64* rng, int thread,
                                  const std::string& stream, std::string* key) {
  std::vector<EventData> events;
  const int n = 1 + static_cast<int>((*rng)() % 4);
  std::string line = "T ";
  for (int k = 0; k < n; ++k) {
    EventData e;
    e.id = EventId::Generate();
    // Built, then moved in: g++ 12 -O2 reports a false -Wrestrict overlap
    // for `e.type = "W" + ...` and for assigning a literal here (GCC bug
    // 105651).
    std::string type("W");
    type += std::to_string(thread);
    e.type = std::move(type);
    e.data = cairn::reliability::DataFor(e.id);
    e.content_type = cairn::ContentType::kBinary;
    if (k == 0) {
      *key = e.id.ToString();
      line += *key + " " + stream;
    }
    line += ' ';
    line += e.id.ToString();
    events.push_back(std::move(e));
  }
  LogLine(line + "\n");
  return events;
}

// Logs the outcome. No error other than a version conflict is expected
// while the process lives (the kill ends it before it could see one).
void Outcome(const std::string& key, const Result<AppendResult>& r) {
  if (r.ok()) {
    LogLine("A " + key + " " + std::to_string(r->first_position.value()) + " " +
            std::to_string(r->first_revision.value()) + "\n");
    return;
  }
  if (r.status().IsWrongExpectedVersion()) {
    LogLine("R " + key + "\n");
    return;
  }
  Die("append failed: " + r.status().ToString());
}

void Writer(cairn::Store* store, uint64_t seed, int t) {
  std::mt19937_64 rng(seed * 7919 + static_cast<uint64_t>(t));
  const std::string own = "own-" + std::to_string(t);
  auto rev = store->GetStreamRevision(own);
  if (!rev.ok()) Die(rev.status().ToString());
  std::optional<uint64_t> last;
  if (rev->has_value()) last = (*rev)->value();
  for (;;) {
    if (rng() % 2 == 0) {
      std::string key;
      auto events = MakeEvents(&rng, t, own, &key);
      ExpectedVersion expected =
          last ? ExpectedVersion::Exact(*last) : ExpectedVersion::NoStream();
      auto r = store->Append(own, expected, events);
      Outcome(key, r);
      if (!r.ok()) Die("own stream conflict: " + r.status().ToString());
      last = r->last_revision.value();
      continue;
    }
    const int window = 1 + static_cast<int>(rng() % 8);
    std::vector<std::pair<std::string, std::future<Result<AppendResult>>>> out;
    for (int w = 0; w < window; ++w) {
      std::string stream = "shared-" + std::to_string(rng() % 5);
      std::string key;
      auto events = MakeEvents(&rng, t, stream, &key);
      out.emplace_back(key, store->AppendFuture(stream, ExpectedVersion::Any(),
                                                std::move(events)));
    }
    for (auto& [key, f] : out) Outcome(key, f.get());
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    (void)std::fprintf(stderr, "usage: %s DIR ACK_LOG SEED [THREADS]\n",
                       argv[0]);
    return 1;
  }
  const uint64_t seed = std::strtoull(argv[3], nullptr, 10);
  const int threads = argc > 4 ? std::atoi(argv[4]) : 4;
  g_log_fd = ::open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (g_log_fd < 0) Die(std::string("open ack log: ") + argv[2]);
  cairn::Options options;
  options.segment_size = 64 * 1024;    // roll often
  options.index_memtable_events = 64;  // index tables written and merged
  options.compression_threshold = seed % 2 == 0 ? 0 : 512;
  auto store = cairn::Store::Open(argv[1], options);
  if (!store.ok()) Die("open: " + store.status().ToString());
  std::vector<std::thread> writers;
  for (int t = 0; t < threads; ++t) {
    writers.emplace_back(Writer, store->get(), seed, t);
  }
  for (auto& w : writers) w.join();  // never: killed first
  return 0;
}

// Copyright (c) Cairn authors.
//
// Real crashes: runs cairn_crash_writer (several threads appending to a
// store on the real file system), kills it with SIGKILL at a random moment,
// reopens the store with Store::Open (recovery) and checks the oracle
// against the writer's ack log. The moment is chosen by a seeded RNG as an
// amount by which the ack log must have grown (zero: kill during the
// writer's own open and recovery); the test polls the log's size in a
// bounded loop rather than sleeping for a time.
//
//   CAIRN_KILL_ITERATIONS=N   iterations (default 20)
//   CAIRN_KILL_SEED=S         seed of the kill moments (default 1)
//   CAIRN_KILL_PER_STORE=K    kills per store before starting a fresh one
//                             (default 50: the store, and the time to
//                             reopen and check it, grows with every kill)
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "cairn/cairn.h"
#include "tests/reliability/ack_log.h"
#include "tests/reliability/oracle.h"
#include "tests/reliability/seeds.h"
#include "tests/support/store_test_util.h"
#include "tests/support/temp_dir.h"

namespace cairn::reliability {
namespace {

uint64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Polls `done` every millisecond, at most `limit_ms` times in all. This is
// waiting for a condition with a bound, not sleeping as synchronisation.
template <typename F>
bool PollUntil(F done, int limit_ms) {
  const timespec tick{0, 1000 * 1000};
  for (int i = 0; i < limit_ms; ++i) {
    if (done()) return true;
    ::nanosleep(&tick, nullptr);
  }
  return done();
}

TEST(KillLoopTest, AcknowledgedAppendsSurviveSigkill) {
  const uint64_t iterations = EnvU64("CAIRN_KILL_ITERATIONS", 20);
  const uint64_t seed = EnvU64("CAIRN_KILL_SEED", 1);
  const uint64_t per_store =
      std::max<uint64_t>(1, EnvU64("CAIRN_KILL_PER_STORE", 50));
  std::mt19937_64 rng(seed);
  testing::TempDir dir;
  std::string store_dir;
  std::string log_path;
  std::vector<Attempt> attempts;
  std::map<std::string, size_t> index;
  uint64_t parsed_bytes = 0;
  uint64_t stores = 0;
  uint64_t kills_during_open = 0;
  uint64_t acked_checked = 0;
  uint64_t unknown_present = 0;
  uint64_t unknown_absent = 0;
  uint64_t log_events = 0;

  for (uint64_t i = 0; i < iterations; ++i) {
    if (i % per_store == 0) {
      // A fresh store and ack log.
      ++stores;
      store_dir = dir.Sub("store" + std::to_string(stores));
      log_path = dir.Sub("acks" + std::to_string(stores) + ".log");
      attempts.clear();
      index.clear();
      parsed_bytes = 0;
      if (stores > 1) {
        std::error_code ec;
        std::filesystem::remove_all(
            dir.Sub("store" + std::to_string(stores - 1)), ec);
      }
    }
    const uint64_t start = FileSize(log_path);
    // A sixth of the kills come before the first ack (often while the
    // writer is recovering); the rest after 1 to ~64 KiB of ack log.
    const uint64_t grow = rng() % 6 == 0 ? 0 : 1 + rng() % (64 * 1024);
    const std::string writer_seed = std::to_string(seed * 100000 + i);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      const char* args[] = {CAIRN_CRASH_WRITER,
                            store_dir.c_str(),
                            log_path.c_str(),
                            writer_seed.c_str(),
                            "4",
                            nullptr};
      ::execv(args[0], const_cast<char* const*>(args));
      std::_Exit(127);
    }
    int status = 0;
    bool exited = false;
    const bool grown = PollUntil(
        [&] {
          if (::waitpid(pid, &status, WNOHANG) == pid) exited = true;
          return exited || FileSize(log_path) >= start + grow;
        },
        120 * 1000);
    if (grow == 0) ++kills_during_open;
    if (!exited) {
      ::kill(pid, SIGKILL);
      ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    }
    ASSERT_FALSE(exited) << "iteration " << i << ": the writer exited "
                         << "on its own with status " << status;
    ASSERT_TRUE(grown) << "iteration " << i << ": the ack log did not grow";
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    // Read only the complete lines; a cut last line is rewritten as part
    // of the next iteration's log (appends continue after it).
    std::string log = ReadFile(log_path);
    const size_t complete = log.rfind('\n') + 1;
    if (complete < log.size()) {
      // Drop the partial line so the next writer starts on a fresh one.
      ASSERT_EQ(::truncate(log_path.c_str(), static_cast<off_t>(complete)), 0);
    }
    std::string error;
    ASSERT_TRUE(ParseAckLog(
        std::string_view(log).substr(parsed_bytes, complete - parsed_bytes),
        &attempts, &index, &error))
        << error;
    parsed_bytes = complete;

    // The writer's options: with another segment size the open would
    // prepare a spare segment of that size, and the writer throw it away.
    Options options;
    options.segment_size = 64 * 1024;
    options.index_memtable_events = 64;
    auto store = Store::Open(store_dir, options);
    ASSERT_TRUE(store.ok()) << "iteration " << i << " (CAIRN_KILL_SEED=" << seed
                            << "): " << store.status().ToString();
    OracleReport report = CheckOracle(store->get(), attempts);
    ASSERT_TRUE(report.ok())
        << "iteration " << i << " (CAIRN_KILL_SEED=" << seed << "):\n"
        << report.error;
    CAIRN_ASSERT_OK((*store)->Close());
    // Each check covers everything so far in this store: count the
    // acknowledged events once, as of the store's last check.
    if ((i + 1) % per_store == 0 || i + 1 == iterations) {
      acked_checked += report.acked_events;
      unknown_present += report.unknown_present;
      unknown_absent += report.unknown_absent;
      log_events += report.log_events;
    }
    if ((i + 1) % 100 == 0) {
      std::cout << "kill loop: " << i + 1 << " kills" << std::endl;
    }
  }
  std::cout << "kill loop: " << iterations << " SIGKILLs on " << stores
            << " stores (" << kills_during_open << " before the first ack), "
            << log_events << " events in the stores' final logs, "
            << acked_checked
            << " acknowledged events in them checked after every kill, "
            << "unknown appends " << unknown_present << " present / "
            << unknown_absent << " absent" << std::endl;
  EXPECT_GT(acked_checked, 0u);
}

}  // namespace
}  // namespace cairn::reliability

// Copyright (c) Cairn authors.
//
// The process figures /metrics reports follow this process's real
// resources: descriptors opened, threads started, memory touched.
#include "server/process_figures.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <latch>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

namespace cairn::server {
namespace {

ProcessFigures Read() {
  std::optional<ProcessFigures> figures = ReadProcessFigures();
  EXPECT_TRUE(figures.has_value());
  return figures.value_or(ProcessFigures{});
}

// Other threads of the test binary (gRPC's, from earlier tests) may open or
// close a few descriptors, or end, while a test runs; the checks allow
// that much, far less than what each test adds.
constexpr uint64_t kSlack = 16;

TEST(ProcessFiguresTest, CountsTheDescriptorsThisProcessOpens) {
  const ProcessFigures before = Read();
  EXPECT_GE(before.open_fds, 3u);  // stdin, stdout, stderr at least
  EXPECT_LE(before.open_fds, before.max_fds);
  constexpr uint64_t kOpened = 64;
  std::vector<int> fds;
  for (uint64_t i = 0; i < kOpened; ++i) {
    const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0) << "errno " << errno;
    fds.push_back(fd);
  }
  const ProcessFigures opened = Read();
  for (int fd : fds) ::close(fd);
  const ProcessFigures closed = Read();
  EXPECT_GE(opened.open_fds + kSlack, before.open_fds + kOpened);
  EXPECT_LE(opened.open_fds, before.open_fds + kOpened + kSlack);
  EXPECT_LE(closed.open_fds + kOpened, opened.open_fds + kSlack);
}

TEST(ProcessFiguresTest, CountsTheThreadsThisProcessStarts) {
  const ProcessFigures before = Read();
  EXPECT_GE(before.threads, 1u);
  constexpr uint64_t kStarted = 32;
  std::latch started(kStarted);
  std::latch release(1);
  std::vector<std::thread> threads;
  for (uint64_t i = 0; i < kStarted; ++i) {
    threads.emplace_back([&] {
      started.count_down();
      release.wait();
    });
  }
  started.wait();
  const ProcessFigures running = Read();
  release.count_down();
  for (std::thread& t : threads) t.join();
  EXPECT_GE(running.threads + kSlack, before.threads + kStarted);
  EXPECT_LE(running.threads, before.threads + kStarted + kSlack);
}

TEST(ProcessFiguresTest, ResidentMemoryGrowsWithTouchedPages) {
  const ProcessFigures before = Read();
  EXPECT_GT(before.resident_bytes, 0u);
  EXPECT_GE(before.virtual_bytes, before.resident_bytes);
  constexpr size_t kBytes = size_t{64} << 20;
  auto block = std::make_unique<char[]>(kBytes);
  // Every page written, so every page is resident.
  for (size_t i = 0; i < kBytes; i += 4096) block[i] = static_cast<char>(i);
  const ProcessFigures touched = Read();
  EXPECT_GE(touched.resident_bytes, before.resident_bytes + kBytes / 2)
      << "before " << before.resident_bytes << ", after "
      << touched.resident_bytes;
  EXPECT_GE(touched.virtual_bytes, before.virtual_bytes + kBytes / 2);
  EXPECT_NE(block[4096], 1);  // keeps the writes
}

TEST(ProcessFiguresTest, CpuTimeOnlyGrowsAndTheStartIsInThePast) {
  const ProcessFigures first = Read();
  // Work until the process's CPU time moved (the clock's resolution is a
  // scheduler tick), so the second reading must show more.
  ProcessFigures later = Read();
  volatile uint64_t sink = 0;
  while (later.cpu_seconds <= first.cpu_seconds) {
    for (int i = 0; i < 1'000'000; ++i) sink = sink + static_cast<uint64_t>(i);
    later = Read();
  }
  EXPECT_GT(later.cpu_seconds, first.cpu_seconds);
  const double now = std::chrono::duration<double>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  // The start time has the clock tick's resolution (and the boot time a
  // second's): within a few seconds of the truth, which lies before now.
  EXPECT_LE(first.start_time_seconds, now + 2);
  EXPECT_GT(first.start_time_seconds, now - 24 * 3600);
  EXPECT_EQ(later.start_time_seconds, first.start_time_seconds);
}

// The CPU time of a process by its id, as the load generator reads the
// server's: this process's agrees with getrusage to the clock tick, and a
// process that does not exist has none.
TEST(ProcessFiguresTest, ReadsAProcessCpuTimeByItsId) {
  const ProcessFigures own = Read();
  const std::optional<double> by_id = ProcessCpuSeconds(getpid());
  const ProcessFigures after = Read();
  ASSERT_TRUE(by_id.has_value());
  // /proc reports whole clock ticks of the same count getrusage reports
  // exactly.
  const double tick = 1.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
  EXPECT_GE(*by_id, own.cpu_seconds - 2 * tick);
  EXPECT_LE(*by_id, after.cpu_seconds + 2 * tick);
  EXPECT_FALSE(ProcessCpuSeconds(0).has_value());  // no /proc/0
  EXPECT_FALSE(ProcessCpuSeconds(-1).has_value());
}

}  // namespace
}  // namespace cairn::server

// Copyright (c) Cairn authors.
#include "server/process_figures.h"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace cairn::server {
namespace {

// The fields of /proc/self/stat after the command name, which is in
// parentheses and may itself hold spaces and parentheses: so the split
// starts after the last ')'. Field 3 of proc(5) ("state") comes first.
std::optional<std::vector<std::string>> StatFields(const std::string& path) {
  std::ifstream file(path);
  std::string line;
  if (!std::getline(file, line)) return std::nullopt;
  const size_t end = line.rfind(')');
  if (end == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(end + 1));
  std::vector<std::string> fields{std::istream_iterator<std::string>(rest),
                                  std::istream_iterator<std::string>()};
  return fields;
}

// Seconds since the epoch at which the machine booted (/proc/stat btime).
std::optional<uint64_t> BootTime() {
  std::ifstream file("/proc/stat");
  std::string key;
  while (file >> key) {
    if (key == "btime") {
      uint64_t seconds = 0;
      if (file >> seconds) return seconds;
      return std::nullopt;
    }
    file.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return std::nullopt;
}

std::optional<uint64_t> ToU64(std::string_view text) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [at, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || at != end) return std::nullopt;
  return value;
}

}  // namespace

std::optional<ProcessFigures> ReadProcessFigures() {
  // proc(5): after the name, field N is at index N - 3.
  constexpr size_t kThreads = 20 - 3;
  constexpr size_t kStartTime = 22 - 3;
  constexpr size_t kVirtualBytes = 23 - 3;
  constexpr size_t kResidentPages = 24 - 3;
  const std::optional<std::vector<std::string>> stat =
      StatFields("/proc/self/stat");
  if (!stat || stat->size() <= kResidentPages) return std::nullopt;
  const auto threads = ToU64((*stat)[kThreads]);
  const auto start_ticks = ToU64((*stat)[kStartTime]);
  const auto virtual_bytes = ToU64((*stat)[kVirtualBytes]);
  const auto resident_pages = ToU64((*stat)[kResidentPages]);
  const std::optional<uint64_t> boot = BootTime();
  const int64_t ticks_per_second = sysconf(_SC_CLK_TCK);
  const int64_t page_size = sysconf(_SC_PAGESIZE);
  if (!threads || !start_ticks || !virtual_bytes || !resident_pages || !boot ||
      ticks_per_second <= 0 || page_size <= 0) {
    return std::nullopt;
  }
  ProcessFigures figures;
  figures.threads = *threads;
  figures.virtual_bytes = *virtual_bytes;
  figures.resident_bytes = *resident_pages * static_cast<uint64_t>(page_size);
  figures.start_time_seconds =
      static_cast<double>(*boot) +
      static_cast<double>(*start_ticks) / static_cast<double>(ticks_per_second);

  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return std::nullopt;
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  figures.cpu_seconds = seconds(usage.ru_utime) + seconds(usage.ru_stime);

  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) != 0) return std::nullopt;
  figures.max_fds = files.rlim_cur == RLIM_INFINITY
                        ? UINT64_MAX
                        : static_cast<uint64_t>(files.rlim_cur);

  std::error_code error;
  std::filesystem::directory_iterator fds("/proc/self/fd", error);
  if (error) return std::nullopt;
  for (const auto& entry : fds) {
    (void)entry;
    ++figures.open_fds;
  }
  return figures;
}

std::optional<double> ProcessCpuSeconds(int pid) {
  // proc(5): utime and stime, fields 14 and 15, in clock ticks.
  constexpr size_t kUserTicks = 14 - 3;
  constexpr size_t kSystemTicks = 15 - 3;
  const std::optional<std::vector<std::string>> stat =
      StatFields("/proc/" + std::to_string(pid) + "/stat");
  if (!stat || stat->size() <= kSystemTicks) return std::nullopt;
  const auto user = ToU64((*stat)[kUserTicks]);
  const auto system = ToU64((*stat)[kSystemTicks]);
  const int64_t ticks_per_second = sysconf(_SC_CLK_TCK);
  if (!user || !system || ticks_per_second <= 0) return std::nullopt;
  return static_cast<double>(*user + *system) /
         static_cast<double>(ticks_per_second);
}

}  // namespace cairn::server

// Copyright (c) Cairn authors.
//
// The server process's own resources, as the Prometheus process collector
// names them (process_cpu_seconds_total, process_open_fds, ...): what an
// operator watches to see that CPU, memory, file descriptors and threads
// stay within bounds. Read from getrusage, getrlimit and Linux's /proc at
// each scrape; /proc is not the store's data, so it is read directly, not
// through the store's io::FileSystem seam.
#ifndef CAIRN_SERVER_PROCESS_FIGURES_H_
#define CAIRN_SERVER_PROCESS_FIGURES_H_

#include <cstdint>
#include <optional>

namespace cairn::server {

struct ProcessFigures {
  double cpu_seconds = 0;  // user + system, all threads, since start
  uint64_t resident_bytes = 0;
  uint64_t virtual_bytes = 0;
  uint64_t open_fds = 0;  // entries of /proc/self/fd
  uint64_t max_fds = 0;   // RLIMIT_NOFILE's soft limit
  uint64_t threads = 0;
  double start_time_seconds = 0;  // since the Unix epoch
};

// This process's figures now; nullopt where /proc cannot be read (not
// Linux, or /proc not mounted), so that /metrics leaves them out rather
// than reporting zeros.
std::optional<ProcessFigures> ReadProcessFigures();

// The CPU time (user + system, all threads) process `pid` of this machine
// has used, from /proc/<pid>/stat (the load generator reads the server's
// this way); nullopt if it cannot be read.
std::optional<double> ProcessCpuSeconds(int pid);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_PROCESS_FIGURES_H_

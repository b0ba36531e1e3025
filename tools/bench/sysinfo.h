// Copyright (c) Cairn authors.
//
// What a benchmark report needs to know about the machine and the process:
// figures mean little without the CPU, kernel and file system they came
// from, and the scale workload tracks the process's memory.
#ifndef CAIRN_TOOLS_BENCH_SYSINFO_H_
#define CAIRN_TOOLS_BENCH_SYSINFO_H_

#include <cstdint>
#include <string>

namespace cairn::tools::bench {

struct MachineInfo {
  unsigned nproc = 0;         // online CPUs
  std::string kernel;         // uname: sysname release version
  std::string cpu_model;      // /proc/cpuinfo "model name"; "" if unknown
  uint64_t memory_bytes = 0;  // /proc/meminfo MemTotal
};

MachineInfo ReadMachineInfo();

// The file system type holding `path` ("ext4", "xfs", "tmpfs", ...), or
// "unknown"; tmpfs makes fdatasync free, which changes every figure.
std::string FileSystemType(const std::string& path);

// The current time in UTC, ISO 8601 ("2025-01-31T12:34:56Z").
std::string UtcTimestamp();

// The 1-minute load average (/proc/loadavg), -1 if unknown. Other work on
// the machine during a run skews every figure; the report shows it.
double LoadAverage();

// From /proc/self/status, in bytes; 0 where the kernel does not say.
struct MemoryUsage {
  uint64_t vm_rss = 0;    // all resident pages, mapped segment files too
  uint64_t rss_anon = 0;  // resident anonymous memory: heap, the indexes
};

MemoryUsage ReadMemoryUsage();

}  // namespace cairn::tools::bench

#endif  // CAIRN_TOOLS_BENCH_SYSINFO_H_

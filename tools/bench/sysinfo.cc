// Copyright (c) Cairn authors.
#include "tools/bench/sysinfo.h"

#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <string_view>

namespace cairn::tools::bench {
namespace {

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' ||
                        s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

// The value of the first "key: value" line of a /proc file, trimmed.
std::string ProcField(const char* file, std::string_view key) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > key.size() && line.compare(0, key.size(), key) == 0) {
      size_t colon = line.find(':', key.size());
      if (colon == std::string::npos) continue;
      // "model name\t: X" has spaces or tabs between key and colon; a
      // longer key with the same prefix has other characters there.
      const std::string_view view = line;
      if (!Trim(view.substr(key.size(), colon - key.size())).empty()) {
        continue;
      }
      return Trim(view.substr(colon + 1));
    }
  }
  return "";
}

// "123 kB" -> 123 * 1024.
uint64_t KilobytesField(const char* file, std::string_view key) {
  std::string value = ProcField(file, key);
  return value.empty() ? 0 : std::strtoull(value.c_str(), nullptr, 10) * 1024;
}

}  // namespace

MachineInfo ReadMachineInfo() {
  MachineInfo info;
  const int64_t cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  info.nproc = cpus > 0 ? static_cast<unsigned>(cpus) : 0;
  struct utsname names;
  if (::uname(&names) == 0) {
    info.kernel =
        std::string(names.sysname) + " " + names.release + " " + names.version;
  }
  info.cpu_model = ProcField("/proc/cpuinfo", "model name");
  info.memory_bytes = KilobytesField("/proc/meminfo", "MemTotal");
  return info;
}

std::string FileSystemType(const std::string& path) {
  struct statfs fs;
  if (::statfs(path.c_str(), &fs) != 0) return "unknown";
  // Magic numbers from statfs(2).
  switch (static_cast<uint64_t>(fs.f_type)) {
    case 0xEF53:
      return "ext4";  // also ext2/ext3, which share the magic
    case 0x58465342:
      return "xfs";
    case 0x9123683E:
      return "btrfs";
    case 0x01021994:
      return "tmpfs";
    case 0x794C7630:
      return "overlayfs";
    case 0x2FC12FC1:
      return "zfs";
    case 0x6969:
      return "nfs";
    case 0x65735546:
      return "fuse";
    default: {
      char hex[32];
      (void)std::snprintf(hex, sizeof(hex), "0x%" PRIx64,
                          static_cast<uint64_t>(fs.f_type));
      return std::string("unknown (") + hex + ")";
    }
  }
}

std::string UtcTimestamp() {
  std::time_t now = std::time(nullptr);
  std::tm utc;
  gmtime_r(&now, &utc);
  char text[32];
  if (std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc) == 0) {
    return "";
  }
  return text;
}

double LoadAverage() {
  std::ifstream in("/proc/loadavg");
  double load = -1;
  if (!(in >> load)) return -1;
  return load;
}

MemoryUsage ReadMemoryUsage() {
  MemoryUsage usage;
  usage.vm_rss = KilobytesField("/proc/self/status", "VmRSS");
  usage.rss_anon = KilobytesField("/proc/self/status", "RssAnon");
  return usage;
}

}  // namespace cairn::tools::bench

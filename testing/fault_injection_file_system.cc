// Copyright (c) Cairn authors.
#include "testing/fault_injection_file_system.h"

#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cairn::io {
namespace {

constexpr uint64_t kSectorSize = 512;

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

uint64_t Mix(uint64_t x) {  // splitmix64's finaliser
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t HashText(std::string_view text) {  // FNV-1a: stable across runs
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : text) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ull;
  return h;
}

std::string Parent(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return "";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

const char* FaultOpName(FaultOp op) {
  static constexpr std::array<const char*, kFaultOpCount> kNames = {
      "write", "sync",      "allocate", "truncate", "read", "open",
      "mkdir", "fsync-dir", "remove",   "rename",   "lock", "map"};
  return kNames[static_cast<size_t>(op)];
}

std::string CrashReport::ToString() const {
  return "unsynced writes " + std::to_string(unsynced_writes) + " (kept " +
         std::to_string(kept_whole) + ", torn " + std::to_string(torn) +
         ", dropped " + std::to_string(dropped) + ", bit flips " +
         std::to_string(bits_flipped) + "), directories persisted " +
         std::to_string(dirs_persisted) + ", shared maps written back " +
         std::to_string(shared_persisted);
}

struct FaultInjectionFileSystem::Shared {
  Shared(FileSystem* b, MemoryFileSystem* m, uint64_t s)
      : base(b), memory(m), seed(s) {}

  struct PendingWrite {
    std::string path;
    uint64_t offset;
    std::string bytes;
    // A written-back shared mapping: its fate was decided already (a page
    // is written back whole or not at all).
    bool whole = false;
  };
  struct LiveRegion {
    std::string path;
    SharedRegion* region;
  };

  FileSystem* const base;
  MemoryFileSystem* const memory;  // null: no power loss

  const uint64_t seed;

  std::mutex mu;  // guards everything below
  // The generator of the choice being made; reseeded per subject (see
  // Reseed) so choices about one file never depend on other files.
  std::mt19937_64 rng;
  uint64_t crashes = 0;
  std::map<std::pair<int, std::string>, uint64_t> ops_per_path;
  std::string crash_suffix;
  std::vector<FaultRule> rules;
  std::vector<uint64_t> rule_seen;
  std::array<double, kFaultOpCount> random_probability{};
  std::array<FaultError, kFaultOpCount> random_error{};
  std::array<bool, kFaultOpCount> random_partial{};
  std::set<const void*> failed_sync_handles;
  std::set<std::string> failed_sync_dirs;
  uint64_t retried_syncs = 0;
  uint64_t retried_dir_syncs = 0;
  std::map<std::string, uint64_t> retried_dir_syncs_by_path;

  // The hold gate (its own lock: a held operation must not block mu).
  std::mutex hold_mu;
  std::condition_variable hold_cv;
  int hold_op = -1;  // armed for this FaultOp
  std::string hold_suffix;
  bool holding = false;
  bool released = false;

  void MaybeHold(FaultOp op, const std::string& path) {
    std::unique_lock<std::mutex> lock(hold_mu);
    if (hold_op != static_cast<int>(op) || !EndsWith(path, hold_suffix)) {
      return;
    }
    hold_op = -1;
    holding = true;
    hold_cv.notify_all();
    hold_cv.wait(lock, [&] { return released; });
    holding = false;
    released = false;
  }
  std::array<uint64_t, kFaultOpCount> counts{};
  uint64_t faults = 0;
  std::string last_fault;
  CrashOptions crash_options;
  CrashReport total;
  uint64_t mutations = 0;
  uint64_t crash_at = 0;  // absolute mutation number; 0: none
  bool crashed_by_trigger = false;
  bool down = false;
  // Writes not yet covered by a Sync of their file, in issue order.
  std::vector<PendingWrite> pending;
  // Directories with namespace changes since their last SyncDir, and the
  // names created since then (lost at a crash unless the directory is).
  std::set<std::string> dirty_dirs;
  std::set<std::string> unsynced_names;
  std::map<uint64_t, LiveRegion> regions;
  uint64_t next_region_id = 1;

  // Seeds rng from the seed, a subject kind, a name and a number.
  void Reseed(uint64_t kind, std::string_view name, uint64_t n) {
    rng.seed(Mix(seed ^ Mix(kind ^ Mix(HashText(name) ^ Mix(n)))));
  }

  double Uniform() { return std::uniform_real_distribution<double>(0, 1)(rng); }
  uint64_t Below(uint64_t n) {
    return n == 0 ? 0 : std::uniform_int_distribution<uint64_t>(0, n - 1)(rng);
  }

  static Status Down(FaultOp op, const std::string& path) {
    return Status::IOError(
        std::string(FaultOpName(op)) + " " + path + ": simulated power loss",
        EIO);
  }

  Status Error(FaultOp op, const std::string& path, FaultError error) {
    ++faults;
    std::string msg = std::string("injected fault: ") + FaultOpName(op) + " " +
                      path + " (operation #" +
                      std::to_string(counts[static_cast<size_t>(op)]) + ")";
    last_fault = msg;
    if (error == FaultError::kNoSpace) return Status::NoSpace(msg);
    return Status::IOError(msg, EIO);
  }

  // Requires mu. Counts the operation and decides whether it fails. For
  // a failing write with a partial prefix, *partial is set to its size
  // (UINT64_MAX: random).
  Status Inject(FaultOp op, const std::string& path,
                uint64_t* partial = nullptr) {
    const size_t k = static_cast<size_t>(op);
    ++counts[k];
    const uint64_t nth_on_path = ++ops_per_path[{static_cast<int>(op), path}];
    for (size_t i = 0; i < rules.size(); ++i) {
      const FaultRule& r = rules[i];
      if (r.op != op) continue;
      if (!EndsWith(path, r.path_suffix)) continue;
      const uint64_t seen = ++rule_seen[i];
      if (seen == r.nth || (r.sticky && seen > r.nth)) {
        if (partial != nullptr && r.partial_write) *partial = r.partial_bytes;
        return Error(op, path, r.error);
      }
    }
    Reseed(100 + k, path, nth_on_path);
    if (random_probability[k] > 0 && Uniform() < random_probability[k]) {
      if (partial != nullptr && random_partial[k]) *partial = UINT64_MAX;
      return Error(op, path, random_error[k]);
    }
    return Status::Ok();
  }

  // Requires mu. Counts a mutating operation and fires a pending crash
  // trigger. Returns an error if the machine is (now) down.
  Status Mutate(FaultOp op, const std::string& path) {
    if (down) return Down(op, path);
    if (!EndsWith(path, crash_suffix)) return Status::Ok();
    ++mutations;
    if (crash_at != 0 && mutations == crash_at) {
      crash_at = 0;
      crashed_by_trigger = true;
      CrashLocked();
      return Down(op, path);
    }
    return Status::Ok();
  }

  void NameCreated(const std::string& path) {
    unsynced_names.insert(path);
    dirty_dirs.insert(Parent(path));
  }

  void DropPending(const std::string& path) {
    std::erase_if(pending,
                  [&](const PendingWrite& w) { return w.path == path; });
  }

  CrashReport CrashLocked();
};

CrashReport FaultInjectionFileSystem::Shared::CrashLocked() {
  CrashReport report;
  down = true;
  if (memory == nullptr) return report;  // error injection only: no model
  ++crashes;
  // 1. Directories: each either keeps its durable entries or is persisted
  //    as it is now.
  for (const std::string& dir : dirty_dirs) {
    Reseed(1, dir, crashes);
    if (Uniform() >= crash_options.persist_dir) continue;
    if (!base->SyncDir(dir).ok()) continue;
    ++report.dirs_persisted;
    std::erase_if(unsynced_names,
                  [&](const std::string& name) { return Parent(name) == dir; });
  }
  // 2. Shared mappings: the page cache may have written any of them back.
  //    The engine stores into them with 8-byte atomics; read them the same
  //    way.
  for (const auto& [id, live] : regions) {
    Reseed(2, live.path, crashes * 1000003 + id);
    if (Uniform() >= crash_options.persist_shared) continue;
    const size_t size = live.region->size();
    std::string snapshot(size, '\0');
    uint8_t* data = live.region->data();
    size_t i = 0;
    if (reinterpret_cast<uintptr_t>(data) % alignof(uint64_t) == 0) {
      for (; i + 8 <= size; i += 8) {
        uint64_t word =
            std::atomic_ref<uint64_t>(*reinterpret_cast<uint64_t*>(data + i))
                .load(std::memory_order_relaxed);
        std::memcpy(snapshot.data() + i, &word, 8);
      }
    }
    for (; i < size; ++i) snapshot[i] = static_cast<char>(data[i]);
    pending.push_back({live.path, 0, std::move(snapshot), /*whole=*/true});
    ++report.shared_persisted;
  }
  report.unsynced_writes = pending.size() - report.shared_persisted;

  // 3. Power off: everything reverts to durable.
  memory->SimulateCrash();

  // 4. Re-apply a random subset of the unsynced writes, in issue order.
  std::map<std::string, std::unique_ptr<File>> files;
  std::map<std::string, uint64_t> writes_per_path;
  for (PendingWrite& w : pending) {
    Reseed(3, w.path, crashes * 1000003 + writes_per_path[w.path]++);
    if (unsynced_names.contains(w.path)) {
      ++report.dropped;  // the file's name never reached the disk
      continue;
    }
    // Sector-aligned pieces [begin, end) of the write.
    std::vector<std::pair<uint64_t, uint64_t>> pieces;
    const uint64_t end = w.offset + w.bytes.size();
    for (uint64_t at = w.offset; at < end;) {
      uint64_t next = std::min(end, (at / kSectorSize + 1) * kSectorSize);
      pieces.emplace_back(at, next);
      at = next;
    }
    const double fate = w.whole ? 0 : Uniform();
    std::vector<std::pair<uint64_t, uint64_t>> kept;
    if (w.whole || fate < crash_options.keep_whole) {
      kept = pieces;
    } else if (fate < crash_options.keep_whole + crash_options.keep_torn) {
      if (Uniform() < 0.5) {
        // A prefix of the sectors: the write stopped part-way.
        kept.assign(pieces.begin(), pieces.begin() + static_cast<ptrdiff_t>(
                                                         Below(pieces.size())));
      } else {
        // Any subset: the device wrote sectors out of order.
        for (const auto& p : pieces) {
          if (Uniform() < 0.5) kept.push_back(p);
        }
        if (kept.size() == pieces.size()) kept.pop_back();
      }
    }
    if (kept.empty()) {
      ++report.dropped;
      continue;
    }
    if (w.whole) {
      // counted in shared_persisted
    } else if (kept.size() == pieces.size()) {
      ++report.kept_whole;
    } else {
      ++report.torn;
    }
    if (!w.whole && Uniform() < crash_options.flip_bit) {
      const auto& p = kept[Below(kept.size())];
      const uint64_t at = p.first + Below(p.second - p.first);
      w.bytes[at - w.offset] ^= static_cast<char>(1u << Below(8));
      ++report.bits_flipped;
    }
    auto it = files.find(w.path);
    if (it == files.end()) {
      auto file = base->OpenFile(w.path, OpenMode::kReadWrite);
      if (!file.ok()) {
        ++report.dropped;
        continue;
      }
      it = files.emplace(w.path, std::move(file.value())).first;
    }
    for (const auto& [begin, stop] : kept) {
      (void)it->second->Write(begin, w.bytes.data() + (begin - w.offset),
                              stop - begin);
    }
  }
  for (auto& [path, file] : files) {
    (void)file->Sync();
    (void)file->Close();
  }
  pending.clear();
  dirty_dirs.clear();
  unsynced_names.clear();
  regions.clear();           // stale now; their wrappers find no entry
  failed_sync_dirs.clear();  // a new boot: the page cache is gone

  total.unsynced_writes += report.unsynced_writes;
  total.kept_whole += report.kept_whole;
  total.torn += report.torn;
  total.dropped += report.dropped;
  total.bits_flipped += report.bits_flipped;
  total.dirs_persisted += report.dirs_persisted;
  total.shared_persisted += report.shared_persisted;
  return report;
}

namespace {

using Shared = FaultInjectionFileSystem::Shared;

class FaultSharedRegion final : public SharedRegion {
 public:
  FaultSharedRegion(std::shared_ptr<Shared> shared,
                    std::unique_ptr<SharedRegion> base, uint64_t id)
      : shared_(std::move(shared)), base_(std::move(base)), id_(id) {}
  ~FaultSharedRegion() override {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->regions.erase(id_);
  }
  FaultSharedRegion(const FaultSharedRegion&) = delete;
  FaultSharedRegion& operator=(const FaultSharedRegion&) = delete;

  uint8_t* data() override { return base_->data(); }
  size_t size() const override { return base_->size(); }

 private:
  const std::shared_ptr<Shared> shared_;
  const std::unique_ptr<SharedRegion> base_;
  const uint64_t id_;
};

class FaultFile final : public File {
 public:
  FaultFile(std::shared_ptr<Shared> shared, std::unique_ptr<File> base,
            std::string path)
      : shared_(std::move(shared)),
        base_(std::move(base)),
        path_(std::move(path)) {}

  Status Write(uint64_t offset, const void* data, size_t size) override {
    shared_->MaybeHold(FaultOp::kWrite, path_);
    std::lock_guard<std::mutex> lock(shared_->mu);
    Status s = shared_->Mutate(FaultOp::kWrite, path_);
    if (!s.ok()) return s;
    uint64_t partial = 0;
    s = shared_->Inject(FaultOp::kWrite, path_, &partial);
    if (!s.ok()) {
      if (partial != 0 && size > 0) {
        const size_t prefix = partial == UINT64_MAX
                                  ? shared_->Below(size)
                                  : std::min<uint64_t>(partial, size - 1);
        if (prefix > 0 && base_->Write(offset, data, prefix).ok()) {
          Remember(offset, data, prefix);
        }
      }
      return s;
    }
    s = base_->Write(offset, data, size);
    if (s.ok()) Remember(offset, data, size);
    return s;
  }

  Status Read(uint64_t offset, void* out, size_t size, size_t* read) override {
    *read = 0;
    std::lock_guard<std::mutex> lock(shared_->mu);
    if (shared_->down) return Shared::Down(FaultOp::kRead, path_);
    Status s = shared_->Inject(FaultOp::kRead, path_);
    if (!s.ok()) return s;
    return base_->Read(offset, out, size, read);
  }

  Status Sync() override {
    shared_->MaybeHold(FaultOp::kSync, path_);
    std::lock_guard<std::mutex> lock(shared_->mu);
    if (shared_->failed_sync_handles.contains(this)) ++shared_->retried_syncs;
    Status s = shared_->Mutate(FaultOp::kSync, path_);
    if (!s.ok()) return s;
    s = shared_->Inject(FaultOp::kSync, path_);
    if (!s.ok()) {
      shared_->failed_sync_handles.insert(this);
      // As Linux: the writes the failed fdatasync covered never reach the
      // device, yet stay readable in the cache, clean (so no later sync
      // writes them), until the cache drops them or the power goes.
      if (shared_->memory != nullptr) {
        shared_->memory->FailWriteback(path_);
        shared_->DropPending(path_);
      }
      return s;
    }
    s = base_->Sync();
    if (s.ok()) shared_->DropPending(path_);
    return s;
  }

  Status Allocate(uint64_t size) override {
    std::lock_guard<std::mutex> lock(shared_->mu);
    Status s = shared_->Mutate(FaultOp::kAllocate, path_);
    if (!s.ok()) return s;
    s = shared_->Inject(FaultOp::kAllocate, path_);
    if (!s.ok()) return s;
    return base_->Allocate(size);
  }

  Status Truncate(uint64_t size) override {
    std::lock_guard<std::mutex> lock(shared_->mu);
    Status s = shared_->Mutate(FaultOp::kTruncate, path_);
    if (!s.ok()) return s;
    s = shared_->Inject(FaultOp::kTruncate, path_);
    if (!s.ok()) return s;
    s = base_->Truncate(size);
    // Writes from before the truncation are never replayed over it: losing
    // them is always a possible outcome of a crash.
    if (s.ok()) shared_->DropPending(path_);
    return s;
  }

  Status DropCache(uint64_t offset, uint64_t size) override {
    std::lock_guard<std::mutex> lock(shared_->mu);
    if (shared_->down) return Shared::Down(FaultOp::kRead, path_);
    return base_->DropCache(offset, size);
  }

  Result<uint64_t> Size() override {
    std::lock_guard<std::mutex> lock(shared_->mu);
    if (shared_->down) return Shared::Down(FaultOp::kRead, path_);
    return base_->Size();
  }

  Result<std::unique_ptr<MappedRegion>> Map(uint64_t offset,
                                            size_t size) override {
    std::lock_guard<std::mutex> lock(shared_->mu);
    if (shared_->down) return Shared::Down(FaultOp::kMap, path_);
    Status s = shared_->Inject(FaultOp::kMap, path_);
    if (!s.ok()) return s;
    return base_->Map(offset, size);
  }

  Result<std::unique_ptr<SharedRegion>> MapShared(size_t size) override {
    std::lock_guard<std::mutex> lock(shared_->mu);
    if (shared_->down) return Shared::Down(FaultOp::kMap, path_);
    Status s = shared_->Inject(FaultOp::kMap, path_);
    if (!s.ok()) return s;
    auto region = base_->MapShared(size);
    if (!region.ok()) return region.status();
    const uint64_t id = shared_->next_region_id++;
    shared_->regions.emplace(id, Shared::LiveRegion{path_, region->get()});
    return std::unique_ptr<SharedRegion>(std::make_unique<FaultSharedRegion>(
        shared_, std::move(region.value()), id));
  }

  Status Close() override { return base_->Close(); }

  ~FaultFile() override {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->failed_sync_handles.erase(this);
  }

 private:
  // Requires shared_->mu.
  void Remember(uint64_t offset, const void* data, size_t size) {
    if (shared_->memory == nullptr) return;
    shared_->pending.push_back(
        {path_, offset, std::string(static_cast<const char*>(data), size)});
  }

  const std::shared_ptr<Shared> shared_;
  const std::unique_ptr<File> base_;
  const std::string path_;
};

}  // namespace

FaultInjectionFileSystem::FaultInjectionFileSystem(MemoryFileSystem* base,
                                                   uint64_t seed)
    : shared_(std::make_shared<Shared>(base, base, seed)) {}

FaultInjectionFileSystem::FaultInjectionFileSystem(FileSystem* base,
                                                   uint64_t seed)
    : shared_(std::make_shared<Shared>(base, nullptr, seed)) {}

FaultInjectionFileSystem::~FaultInjectionFileSystem() = default;

void FaultInjectionFileSystem::AddRule(const FaultRule& rule) {
  std::lock_guard<std::mutex> lock(shared_->mu);
  shared_->rules.push_back(rule);
  shared_->rule_seen.push_back(0);
}

void FaultInjectionFileSystem::SetRandomFailure(FaultOp op, double probability,
                                                FaultError error,
                                                bool partial_write) {
  std::lock_guard<std::mutex> lock(shared_->mu);
  shared_->random_probability[static_cast<size_t>(op)] = probability;
  shared_->random_error[static_cast<size_t>(op)] = error;
  shared_->random_partial[static_cast<size_t>(op)] = partial_write;
}

uint64_t FaultInjectionFileSystem::retried_syncs() const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  return shared_->retried_syncs;
}

uint64_t FaultInjectionFileSystem::retried_dir_syncs() const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  return shared_->retried_dir_syncs;
}

uint64_t FaultInjectionFileSystem::retried_dir_syncs(
    const std::string& path) const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  auto it = shared_->retried_dir_syncs_by_path.find(path);
  return it == shared_->retried_dir_syncs_by_path.end() ? 0 : it->second;
}

void FaultInjectionFileSystem::HoldNext(FaultOp op, std::string path_suffix) {
  std::lock_guard<std::mutex> lock(shared_->hold_mu);
  shared_->hold_op = static_cast<int>(op);
  shared_->hold_suffix = std::move(path_suffix);
}

void FaultInjectionFileSystem::WaitUntilHeld() {
  std::unique_lock<std::mutex> lock(shared_->hold_mu);
  shared_->hold_cv.wait(lock, [&] { return shared_->holding; });
}

void FaultInjectionFileSystem::Release() {
  std::lock_guard<std::mutex> lock(shared_->hold_mu);
  shared_->released = true;
  shared_->hold_cv.notify_all();
}

void FaultInjectionFileSystem::ClearFaults() {
  std::lock_guard<std::mutex> lock(shared_->mu);
  shared_->rules.clear();
  shared_->rule_seen.clear();
  shared_->random_probability.fill(0);
}

uint64_t FaultInjectionFileSystem::count(FaultOp op) const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  return shared_->counts[static_cast<size_t>(op)];
}

uint64_t FaultInjectionFileSystem::faults_injected() const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  return shared_->faults;
}

std::string FaultInjectionFileSystem::last_fault() const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  return shared_->last_fault;
}

void FaultInjectionFileSystem::set_crash_options(const CrashOptions& options) {
  std::lock_guard<std::mutex> lock(shared_->mu);
  shared_->crash_options = options;
}

CrashReport FaultInjectionFileSystem::Crash() {
  std::lock_guard<std::mutex> lock(shared_->mu);
  return shared_->CrashLocked();
}

void FaultInjectionFileSystem::PowerOn() {
  std::lock_guard<std::mutex> lock(shared_->mu);
  shared_->down = false;
}

void FaultInjectionFileSystem::CrashAtMutation(uint64_t n,
                                               std::string path_suffix) {
  std::lock_guard<std::mutex> lock(shared_->mu);
  shared_->crash_suffix = std::move(path_suffix);
  shared_->crash_at = n == 0 ? 0 : shared_->mutations + n;
  shared_->crashed_by_trigger = false;
}

bool FaultInjectionFileSystem::DisarmCrash() {
  std::lock_guard<std::mutex> lock(shared_->mu);
  shared_->crash_at = 0;
  const bool fired = shared_->crashed_by_trigger;
  shared_->crashed_by_trigger = false;
  return fired;
}

bool FaultInjectionFileSystem::crashed_by_trigger() const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  return shared_->crashed_by_trigger;
}

CrashReport FaultInjectionFileSystem::total_report() const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  return shared_->total;
}

uint64_t FaultInjectionFileSystem::mutations() const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  return shared_->mutations;
}

Result<std::unique_ptr<File>> FaultInjectionFileSystem::OpenFile(
    const std::string& path, OpenMode mode) {
  std::lock_guard<std::mutex> lock(shared_->mu);
  const bool creates =
      mode == OpenMode::kCreate || mode == OpenMode::kCreateExclusive;
  if (creates) {
    Status s = shared_->Mutate(FaultOp::kOpen, path);
    if (!s.ok()) return s;
  } else if (shared_->down) {
    return Shared::Down(FaultOp::kOpen, path);
  }
  Status s = shared_->Inject(FaultOp::kOpen, path);
  if (!s.ok()) return s;
  const bool existed = creates && shared_->base->Exists(path);
  auto file = shared_->base->OpenFile(path, mode);
  if (!file.ok()) return file.status();
  if (creates && !existed) shared_->NameCreated(path);
  return std::unique_ptr<File>(
      std::make_unique<FaultFile>(shared_, std::move(file.value()), path));
}

Status FaultInjectionFileSystem::CreateDir(const std::string& path) {
  std::lock_guard<std::mutex> lock(shared_->mu);
  Status s = shared_->Mutate(FaultOp::kCreateDir, path);
  if (!s.ok()) return s;
  s = shared_->Inject(FaultOp::kCreateDir, path);
  if (!s.ok()) return s;
  const bool existed = shared_->base->Exists(path);
  s = shared_->base->CreateDir(path);
  if (s.ok() && !existed) shared_->NameCreated(path);
  return s;
}

Status FaultInjectionFileSystem::SyncDir(const std::string& path) {
  std::lock_guard<std::mutex> lock(shared_->mu);
  if (shared_->failed_sync_dirs.contains(path)) {
    ++shared_->retried_dir_syncs;
    ++shared_->retried_dir_syncs_by_path[path];
  }
  Status s = shared_->Mutate(FaultOp::kSyncDir, path);
  if (!s.ok()) return s;
  s = shared_->Inject(FaultOp::kSyncDir, path);
  if (!s.ok()) {
    shared_->failed_sync_dirs.insert(path);
    return s;
  }
  s = shared_->base->SyncDir(path);
  if (s.ok()) {
    shared_->dirty_dirs.erase(path);
    std::erase_if(shared_->unsynced_names, [&](const std::string& name) {
      return Parent(name) == path;
    });
  }
  return s;
}

Result<std::vector<std::string>> FaultInjectionFileSystem::ListDir(
    const std::string& path) {
  std::lock_guard<std::mutex> lock(shared_->mu);
  if (shared_->down) return Shared::Down(FaultOp::kRead, path);
  return shared_->base->ListDir(path);
}

Status FaultInjectionFileSystem::RemoveFile(const std::string& path) {
  std::lock_guard<std::mutex> lock(shared_->mu);
  Status s = shared_->Mutate(FaultOp::kRemove, path);
  if (!s.ok()) return s;
  s = shared_->Inject(FaultOp::kRemove, path);
  if (!s.ok()) return s;
  s = shared_->base->RemoveFile(path);
  if (s.ok()) {
    shared_->DropPending(path);
    shared_->unsynced_names.erase(path);
    shared_->dirty_dirs.insert(Parent(path));
  }
  return s;
}

Status FaultInjectionFileSystem::Rename(const std::string& from,
                                        const std::string& to) {
  std::lock_guard<std::mutex> lock(shared_->mu);
  Status s = shared_->Mutate(FaultOp::kRename, from);
  if (!s.ok()) return s;
  s = shared_->Inject(FaultOp::kRename, from);
  if (!s.ok()) return s;
  s = shared_->base->Rename(from, to);
  if (s.ok()) {
    // Unsynced writes are not followed across the rename: dropping them
    // is always a possible outcome.
    shared_->DropPending(from);
    shared_->DropPending(to);
    shared_->unsynced_names.erase(from);
    shared_->NameCreated(to);
    shared_->dirty_dirs.insert(Parent(from));
  }
  return s;
}

bool FaultInjectionFileSystem::Exists(const std::string& path) {
  std::lock_guard<std::mutex> lock(shared_->mu);
  if (shared_->down) return false;
  return shared_->base->Exists(path);
}

Result<std::unique_ptr<FileLock>> FaultInjectionFileSystem::LockFile(
    const std::string& path) {
  std::lock_guard<std::mutex> lock(shared_->mu);
  Status s = shared_->Mutate(FaultOp::kLock, path);
  if (!s.ok()) return s;
  s = shared_->Inject(FaultOp::kLock, path);
  if (!s.ok()) return s;
  const bool existed = shared_->base->Exists(path);
  auto held = shared_->base->LockFile(path);
  if (held.ok() && !existed) shared_->NameCreated(path);
  return held;
}

bool FaultInjectionFileSystem::IsLocked(const std::string& path) {
  std::lock_guard<std::mutex> lock(shared_->mu);
  if (shared_->down) return false;
  return shared_->base->IsLocked(path);
}

}  // namespace cairn::io

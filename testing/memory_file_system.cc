// Copyright (c) Cairn authors.
#include "testing/memory_file_system.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cairn::io {
namespace {

// A file's current bytes. The block never moves or shrinks while it
// lives, so mapped regions can point into it; growth past the capacity
// replaces the whole Storage (and is refused while a region exists).
// Invariant: bytes in [file size, capacity) are zero, so growing a file
// within its capacity needs no clearing.
struct Storage {
  explicit Storage(size_t cap)
      : bytes(std::make_unique<uint8_t[]>(cap)), capacity(cap) {}
  std::unique_ptr<uint8_t[]> bytes;  // value-initialized: all zero
  const size_t capacity;
  // Live regions of either kind. Decremented by region destructors, which
  // run without the file-system mutex, hence atomic.
  std::atomic<int> maps{0};
  // Live writable regions: their stores bypass Write, so Sync can not
  // rely on the dirty range while one exists.
  std::atomic<int> shared_maps{0};
};

struct Node {
  explicit Node(bool dir) : is_dir(dir) {}
  const bool is_dir;

  // --- Files ---
  std::shared_ptr<Storage> storage = std::make_shared<Storage>(0);
  uint64_t size = 0;
  std::vector<uint8_t> durable;  // contents (and size) as of the last Sync
  // What changed since the last Sync, so that syncing a large allocated
  // file after a small append copies only the append:
  //  - the hull of byte ranges written with Write;
  //  - the smallest size the file had (bytes above it were truncated away,
  //    and are zero in `storage` unless written again);
  //  - the prefix a SharedRegion may have stored into.
  uint64_t dirty_begin = std::numeric_limits<uint64_t>::max();
  uint64_t dirty_end = 0;
  uint64_t min_size_since_sync = 0;
  uint64_t shared_end = 0;
  // Byte ranges [begin, end) whose writeback failed (FailWriteback): the
  // cache (`storage`) still holds the written bytes, but they are clean
  // and never reach `durable`. Disjoint; kept by begin.
  std::map<uint64_t, uint64_t> lost;

  // --- Directories ---
  std::map<std::string, std::shared_ptr<Node>> entries;
  std::map<std::string, std::shared_ptr<Node>> durable_entries;

  void MarkDirty(uint64_t begin, uint64_t end) {
    dirty_begin = std::min(dirty_begin, begin);
    dirty_end = std::max(dirty_end, end);
  }

  // Removes [begin, end) from the lost ranges (rewritten or cut away).
  void ForgetLost(uint64_t begin, uint64_t end) {
    if (lost.empty() || begin >= end) return;
    auto it = lost.upper_bound(begin);
    if (it != lost.begin()) --it;
    while (it != lost.end() && it->first < end) {
      const uint64_t first = it->first;
      const uint64_t last = it->second;
      if (last <= begin) {
        ++it;
        continue;
      }
      it = lost.erase(it);
      if (first < begin) lost.emplace(first, begin);
      if (last > end) lost.emplace(end, last);  // lands before `it`
    }
  }

  // Copies storage[begin, end) to durable, except the lost ranges.
  // durable must be at least `end` bytes.
  void CopyToDurable(uint64_t begin, uint64_t end) {
    uint64_t at = begin;
    auto it = lost.upper_bound(begin);
    if (it != lost.begin()) --it;
    for (; it != lost.end() && it->first < end && at < end; ++it) {
      if (it->second <= at) continue;
      if (it->first > at) {
        std::memcpy(durable.data() + at, storage->bytes.get() + at,
                    it->first - at);
      }
      at = std::max(at, it->second);
    }
    if (at < end) {
      std::memcpy(durable.data() + at, storage->bytes.get() + at, end - at);
    }
  }
};

struct ParsedPath {
  bool absolute = false;
  std::vector<std::string> parts;  // no empty components
};

ParsedPath Parse(const std::string& path) {
  ParsedPath parsed;
  parsed.absolute = !path.empty() && path.front() == '/';
  size_t pos = 0;
  while (pos < path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string::npos) end = path.size();
    if (end > pos) parsed.parts.emplace_back(path, pos, end - pos);
    pos = end + 1;
  }
  return parsed;
}

Status PathError(std::string_view op, const std::string& path, int err) {
  std::string msg(op);
  msg += ' ';
  msg += path;
  if (err == ENOENT) {
    return Status::NotFound(msg + ": no such file or directory");
  }
  return Status::IOError(msg, err);
}

}  // namespace

struct MemoryFileSystem::State {
  std::mutex mu;
  // "/x" and "x" live in separate trees; neither root can be removed, so
  // both are always durable.
  std::shared_ptr<Node> absolute_root = std::make_shared<Node>(true);
  std::shared_ptr<Node> relative_root = std::make_shared<Node>(true);
  // Bumped by SimulateCrash; handles remember the epoch they were made in.
  uint64_t epoch = 0;
  // Lock holders by file (locks belong to the file, not to its name, as
  // with POSIX). Tokens tell a lock from an older one on the same file.
  std::unordered_map<const Node*, uint64_t> locks;
  uint64_t next_lock_token = 1;
  std::atomic<uint64_t> operations{0};

  // The rest requires `mu`.

  Result<std::shared_ptr<Node>> Walk(const ParsedPath& path, size_t depth,
                                     const std::string& text,
                                     std::string_view op) {
    std::shared_ptr<Node> node = path.absolute ? absolute_root : relative_root;
    for (size_t i = 0; i < depth; ++i) {
      if (!node->is_dir) return PathError(op, text, ENOTDIR);
      auto it = node->entries.find(path.parts[i]);
      if (it == node->entries.end()) return PathError(op, text, ENOENT);
      node = it->second;
    }
    return node;
  }

  Result<std::shared_ptr<Node>> Lookup(const std::string& path,
                                       std::string_view op) {
    const ParsedPath parsed = Parse(path);
    return Walk(parsed, parsed.parts.size(), path, op);
  }

  // The directory holding `path`'s last component, which goes to *name.
  Result<std::shared_ptr<Node>> LookupParent(const std::string& path,
                                             std::string_view op,
                                             std::string* name) {
    const ParsedPath parsed = Parse(path);
    if (parsed.parts.empty()) {
      return Status::InvalidArgument(std::string(op) + " " + path +
                                     ": names a root directory");
    }
    Result<std::shared_ptr<Node>> dir =
        Walk(parsed, parsed.parts.size() - 1, path, op);
    if (!dir.ok()) return dir;
    if (!(*dir)->is_dir) return PathError(op, path, ENOTDIR);
    *name = parsed.parts.back();
    return dir;
  }

  void Revert(const std::shared_ptr<Node>& node, std::set<const Node*>* seen) {
    // The durable graph can hold a node twice (a cross-directory rename
    // synced on one side only) or even a cycle of directories; visit once.
    if (!seen->insert(node.get()).second) return;
    if (node->is_dir) {
      node->entries = node->durable_entries;
      for (const auto& [name, child] : node->entries) Revert(child, seen);
      return;
    }
    // A fresh block: regions from before the crash keep the old one, so
    // their memory stays valid and can not be scribbled on.
    node->storage = std::make_shared<Storage>(node->durable.size());
    if (!node->durable.empty()) {
      std::memcpy(node->storage->bytes.get(), node->durable.data(),
                  node->durable.size());
    }
    node->size = node->durable.size();
    node->dirty_begin = std::numeric_limits<uint64_t>::max();
    node->dirty_end = 0;
    node->min_size_since_sync = node->size;
    node->shared_end = 0;
    node->lost.clear();
  }
};

namespace {

using State = MemoryFileSystem::State;

class MemoryMappedRegion final : public MappedRegion {
 public:
  MemoryMappedRegion(std::shared_ptr<Storage> storage, size_t offset,
                     size_t size)
      : storage_(std::move(storage)), offset_(offset), size_(size) {
    storage_->maps.fetch_add(1);
  }
  ~MemoryMappedRegion() override { storage_->maps.fetch_sub(1); }
  MemoryMappedRegion(const MemoryMappedRegion&) = delete;
  MemoryMappedRegion& operator=(const MemoryMappedRegion&) = delete;

  const uint8_t* data() const override {
    return storage_->bytes.get() + offset_;
  }
  size_t size() const override { return size_; }

 private:
  const std::shared_ptr<Storage> storage_;
  const size_t offset_;
  const size_t size_;
};

class MemorySharedRegion final : public SharedRegion {
 public:
  MemorySharedRegion(std::shared_ptr<Storage> storage, size_t size)
      : storage_(std::move(storage)), size_(size) {
    storage_->maps.fetch_add(1);
    storage_->shared_maps.fetch_add(1);
  }
  ~MemorySharedRegion() override {
    storage_->shared_maps.fetch_sub(1);
    storage_->maps.fetch_sub(1);
  }
  MemorySharedRegion(const MemorySharedRegion&) = delete;
  MemorySharedRegion& operator=(const MemorySharedRegion&) = delete;

  uint8_t* data() override { return storage_->bytes.get(); }
  size_t size() const override { return size_; }

 private:
  const std::shared_ptr<Storage> storage_;
  const size_t size_;
};

class MemoryFile final : public File {
 public:
  MemoryFile(std::shared_ptr<State> state, std::shared_ptr<Node> node,
             std::string path, bool writable, uint64_t epoch)
      : state_(std::move(state)),
        node_(std::move(node)),
        path_(std::move(path)),
        writable_(writable),
        epoch_(epoch) {}

  Status Write(uint64_t offset, const void* data, size_t size) override {
    std::lock_guard<std::mutex> lock(state_->mu);
    Status s = Check("write", /*write=*/true);
    if (!s.ok()) return s;
    if (size == 0) return Status::Ok();
    if (offset > MemoryFileSystem::kMaxFileSize ||
        size > MemoryFileSystem::kMaxFileSize - offset) {
      return TooLarge("write");
    }
    const uint64_t end = offset + size;
    if (end > node_->storage->capacity) {
      // Doubling keeps a stream of appends linear overall.
      const uint64_t grown = std::min<uint64_t>(
          MemoryFileSystem::kMaxFileSize,
          std::max<uint64_t>(end, 2 * node_->storage->capacity));
      s = Reserve("write", grown);
      if (!s.ok()) return s;
    }
    std::memcpy(node_->storage->bytes.get() + offset, data, size);
    node_->size = std::max(node_->size, end);
    node_->MarkDirty(offset, end);
    node_->ForgetLost(offset, end);
    return Status::Ok();
  }

  Status Read(uint64_t offset, void* out, size_t size, size_t* read) override {
    *read = 0;
    std::lock_guard<std::mutex> lock(state_->mu);
    Status s = Check("read", /*write=*/false);
    if (!s.ok()) return s;
    if (offset >= node_->size) return Status::Ok();
    const size_t n =
        static_cast<size_t>(std::min<uint64_t>(size, node_->size - offset));
    std::memcpy(out, node_->storage->bytes.get() + offset, n);
    *read = n;
    return Status::Ok();
  }

  Status Sync() override {
    std::lock_guard<std::mutex> lock(state_->mu);
    Status s = Check("sync", /*write=*/false);
    if (!s.ok()) return s;
    Node& n = *node_;
    // Bytes above the smallest size since the last sync are zero in
    // storage unless rewritten (and then dirty): cut durable down to that
    // size and regrow it with zeros instead of copying them.
    n.durable.resize(
        std::min<uint64_t>(n.durable.size(), n.min_size_since_sync));
    n.durable.resize(n.size);
    if (n.shared_end > 0) n.MarkDirty(0, n.shared_end);
    const uint64_t end = std::min(n.dirty_end, n.size);
    // Bytes whose writeback failed are clean: this sync does not write
    // them.
    if (n.dirty_begin < end) n.CopyToDurable(n.dirty_begin, end);
    n.dirty_begin = std::numeric_limits<uint64_t>::max();
    n.dirty_end = 0;
    n.min_size_since_sync = n.size;
    // A live writable region may store again at any time.
    if (n.storage->shared_maps.load() == 0) n.shared_end = 0;
    return Status::Ok();
  }

  Status Allocate(uint64_t size) override {
    std::lock_guard<std::mutex> lock(state_->mu);
    Status s = Check("allocate", /*write=*/true);
    if (!s.ok()) return s;
    if (size > MemoryFileSystem::kMaxFileSize) return TooLarge("allocate");
    // Reserve exactly: this is what keeps later mapped files in place.
    if (size > node_->storage->capacity) {
      s = Reserve("allocate", size);
      if (!s.ok()) return s;
    }
    node_->size = std::max(node_->size, size);  // new bytes are zero
    return Status::Ok();
  }

  Status Truncate(uint64_t size) override {
    std::lock_guard<std::mutex> lock(state_->mu);
    Status s = Check("truncate", /*write=*/true);
    if (!s.ok()) return s;
    if (size > MemoryFileSystem::kMaxFileSize) return TooLarge("truncate");
    Node& n = *node_;
    if (size > n.storage->capacity) {
      s = Reserve("truncate", size);
      if (!s.ok()) return s;
    }
    if (size < n.size) {
      // Keep the zero-tail invariant of Storage.
      std::memset(n.storage->bytes.get() + size, 0, n.size - size);
      n.min_size_since_sync = std::min(n.min_size_since_sync, size);
      n.ForgetLost(size, std::numeric_limits<uint64_t>::max());
    }
    n.size = size;
    return Status::Ok();
  }

  Status DropCache(uint64_t offset, uint64_t size) override {
    std::lock_guard<std::mutex> lock(state_->mu);
    Status s = Check("drop cache", /*write=*/false);
    if (!s.ok()) return s;
    Node& n = *node_;
    // Mapped pages stay cached (as with Linux); dirty bytes are never
    // dropped, and every other byte already equals its durable copy, so
    // only the lost ranges change.
    if (n.storage->maps.load() > 0 || n.lost.empty() || size == 0) {
      return Status::Ok();
    }
    if (offset >= n.size) return Status::Ok();
    uint64_t end = offset + std::min(size, n.size - offset);
    // Whole cache units only (kCacheUnit), as Linux drops whole folios.
    constexpr uint64_t kUnit = MemoryFileSystem::kCacheUnit;
    if (end < n.size) end -= end % kUnit;
    offset = (offset + kUnit - 1) / kUnit * kUnit;
    if (offset >= end) return Status::Ok();
    uint8_t* cache = n.storage->bytes.get();
    for (const auto& [begin, stop] : n.lost) {
      const uint64_t first = std::max(begin, offset);
      const uint64_t last = std::min(stop, end);
      if (first >= last) continue;
      // The device has the durable bytes, and zeros past the durable size.
      const uint64_t from_durable =
          std::clamp<uint64_t>(n.durable.size(), first, last);
      if (from_durable > first) {
        std::memcpy(cache + first, n.durable.data() + first,
                    from_durable - first);
      }
      if (last > from_durable) {
        std::memset(cache + from_durable, 0, last - from_durable);
      }
    }
    n.ForgetLost(offset, end);
    return Status::Ok();
  }

  Result<uint64_t> Size() override {
    std::lock_guard<std::mutex> lock(state_->mu);
    Status s = Check("size", /*write=*/false);
    if (!s.ok()) return s;
    return node_->size;
  }

  Result<std::unique_ptr<MappedRegion>> Map(uint64_t offset,
                                            size_t size) override {
    std::lock_guard<std::mutex> lock(state_->mu);
    Status s = Check("map", /*write=*/false);
    if (!s.ok()) return s;
    s = CheckRange("map", offset, size);
    if (!s.ok()) return s;
    return std::unique_ptr<MappedRegion>(std::make_unique<MemoryMappedRegion>(
        node_->storage, static_cast<size_t>(offset), size));
  }

  Result<std::unique_ptr<SharedRegion>> MapShared(size_t size) override {
    std::lock_guard<std::mutex> lock(state_->mu);
    Status s = Check("map shared", /*write=*/true);
    if (!s.ok()) return s;
    s = CheckRange("map shared", 0, size);
    if (!s.ok()) return s;
    node_->shared_end = std::max<uint64_t>(node_->shared_end, size);
    return std::unique_ptr<SharedRegion>(
        std::make_unique<MemorySharedRegion>(node_->storage, size));
  }

  // Succeeds even on a handle made stale by a crash: closing only releases
  // the handle, and cleanup paths should not have to special-case it.
  Status Close() override {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->operations.fetch_add(1);
    closed_ = true;
    return Status::Ok();
  }

 private:
  // Counts the operation and rejects it on a closed, stale or (for
  // `write`) read-only handle. Requires state_->mu.
  Status Check(std::string_view op, bool write) {
    state_->operations.fetch_add(1);
    if (closed_) return Error(op, "file is closed", EBADF);
    if (epoch_ != state_->epoch) {
      return Error(op, "stale handle from before a simulated crash", ESTALE);
    }
    if (write && !writable_) return Error(op, "file is read-only", EBADF);
    return Status::Ok();
  }

  Status CheckRange(std::string_view op, uint64_t offset, size_t size) {
    if (offset > node_->size || size > node_->size - offset) {
      return Status::InvalidArgument(
          std::string(op) + " " + path_ + ": range [" + std::to_string(offset) +
          ", +" + std::to_string(size) + ") is beyond the file size " +
          std::to_string(node_->size));
    }
    return Status::Ok();
  }

  // Moves the file into a block of `capacity` bytes, unless a region
  // points into the current one. Requires state_->mu.
  Status Reserve(std::string_view op, uint64_t capacity) {
    if (node_->storage->maps.load() > 0) {
      return Error(op, "would move mapped memory (allocate before mapping)", 0);
    }
    auto grown = std::make_shared<Storage>(static_cast<size_t>(capacity));
    if (node_->size > 0) {
      std::memcpy(grown->bytes.get(), node_->storage->bytes.get(), node_->size);
    }
    node_->storage = std::move(grown);
    return Status::Ok();
  }

  Status TooLarge(std::string_view op) const {
    return Status::NoSpace(std::string(op) + " " + path_ +
                           ": beyond the in-memory file size limit");
  }

  Status Error(std::string_view op, std::string_view what, int err) const {
    std::string msg(op);
    msg += ' ';
    msg += path_;
    msg += ": ";
    msg += what;
    return Status::IOError(msg, err);
  }

  const std::shared_ptr<State> state_;
  const std::shared_ptr<Node> node_;
  const std::string path_;
  const bool writable_;
  const uint64_t epoch_;
  bool closed_ = false;  // guarded by state_->mu
};

class MemoryFileLock final : public FileLock {
 public:
  MemoryFileLock(std::shared_ptr<State> state, std::shared_ptr<Node> node,
                 uint64_t token)
      : state_(std::move(state)), node_(std::move(node)), token_(token) {}
  ~MemoryFileLock() override {
    std::lock_guard<std::mutex> lock(state_->mu);
    // After a crash the file may be locked again by a newer holder, which
    // this (stale) lock must not release.
    auto it = state_->locks.find(node_.get());
    if (it != state_->locks.end() && it->second == token_) {
      state_->locks.erase(it);
    }
  }
  MemoryFileLock(const MemoryFileLock&) = delete;
  MemoryFileLock& operator=(const MemoryFileLock&) = delete;

 private:
  const std::shared_ptr<State> state_;
  // Held so the Node (the key in state_->locks) can not be freed and its
  // address reused while this lock may still be registered.
  const std::shared_ptr<Node> node_;
  const uint64_t token_;
};

}  // namespace

MemoryFileSystem::MemoryFileSystem() : state_(std::make_shared<State>()) {}
MemoryFileSystem::~MemoryFileSystem() = default;

Result<std::unique_ptr<File>> MemoryFileSystem::OpenFile(
    const std::string& path, OpenMode mode) {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->operations.fetch_add(1);
  std::string name;
  Result<std::shared_ptr<Node>> dir = state_->LookupParent(path, "open", &name);
  if (!dir.ok()) {
    // Opening "/" or "" is opening a directory.
    if (dir.status().IsInvalidArgument()) {
      return PathError("open", path, EISDIR);
    }
    return dir.status();
  }
  auto& entries = (*dir)->entries;
  auto it = entries.find(name);
  std::shared_ptr<Node> node;
  if (it != entries.end()) {
    if (it->second->is_dir) return PathError("open", path, EISDIR);
    if (mode == OpenMode::kCreateExclusive) {
      return PathError("open", path, EEXIST);
    }
    node = it->second;
  } else {
    if (mode == OpenMode::kReadOnly || mode == OpenMode::kReadWrite) {
      return PathError("open", path, ENOENT);
    }
    node = std::make_shared<Node>(false);
    entries.emplace(name, node);
  }
  return std::unique_ptr<File>(
      std::make_unique<MemoryFile>(state_, std::move(node), path,
                                   mode != OpenMode::kReadOnly, state_->epoch));
}

Status MemoryFileSystem::CreateDir(const std::string& path) {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->operations.fetch_add(1);
  std::string name;
  Result<std::shared_ptr<Node>> dir =
      state_->LookupParent(path, "mkdir", &name);
  if (!dir.ok()) {
    if (dir.status().IsInvalidArgument()) return Status::Ok();  // a root
    return dir.status();
  }
  auto [it, inserted] = (*dir)->entries.emplace(name, std::shared_ptr<Node>());
  if (inserted) {
    it->second = std::make_shared<Node>(true);
    return Status::Ok();
  }
  if (!it->second->is_dir) return PathError("mkdir", path, EEXIST);
  return Status::Ok();
}

Status MemoryFileSystem::SyncDir(const std::string& path) {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->operations.fetch_add(1);
  Result<std::shared_ptr<Node>> dir = state_->Lookup(path, "sync directory");
  if (!dir.ok()) return dir.status();
  if (!(*dir)->is_dir) return PathError("sync directory", path, ENOTDIR);
  (*dir)->durable_entries = (*dir)->entries;
  return Status::Ok();
}

Result<std::vector<std::string>> MemoryFileSystem::ListDir(
    const std::string& path) {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->operations.fetch_add(1);
  Result<std::shared_ptr<Node>> dir = state_->Lookup(path, "opendir");
  if (!dir.ok()) return dir.status();
  if (!(*dir)->is_dir) return PathError("opendir", path, ENOTDIR);
  std::vector<std::string> names;
  names.reserve((*dir)->entries.size());
  for (const auto& [name, node] : (*dir)->entries) names.push_back(name);
  return names;  // sorted, as std::map keeps them
}

Status MemoryFileSystem::RemoveFile(const std::string& path) {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->operations.fetch_add(1);
  std::string name;
  Result<std::shared_ptr<Node>> dir =
      state_->LookupParent(path, "unlink", &name);
  if (!dir.ok()) {
    if (dir.status().IsInvalidArgument()) {
      return PathError("unlink", path, EISDIR);
    }
    return dir.status();
  }
  auto it = (*dir)->entries.find(name);
  if (it == (*dir)->entries.end()) return PathError("unlink", path, ENOENT);
  if (it->second->is_dir) return PathError("unlink", path, EISDIR);
  // Open handles keep the Node, as an unlinked but open POSIX file.
  (*dir)->entries.erase(it);
  return Status::Ok();
}

Status MemoryFileSystem::Rename(const std::string& from,
                                const std::string& to) {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->operations.fetch_add(1);
  const std::string both = from + " to " + to;
  std::string from_name;
  std::string to_name;
  Result<std::shared_ptr<Node>> from_dir =
      state_->LookupParent(from, "rename", &from_name);
  if (!from_dir.ok()) {
    if (from_dir.status().IsInvalidArgument()) {
      return PathError("rename", both, EBUSY);
    }
    return from_dir.status();
  }
  auto src = (*from_dir)->entries.find(from_name);
  if (src == (*from_dir)->entries.end()) {
    return PathError("rename", both, ENOENT);
  }
  Result<std::shared_ptr<Node>> to_dir =
      state_->LookupParent(to, "rename", &to_name);
  if (!to_dir.ok()) {
    if (to_dir.status().IsInvalidArgument()) {
      return PathError("rename", both, EBUSY);
    }
    return to_dir.status();
  }
  std::shared_ptr<Node> node = src->second;
  auto dst = (*to_dir)->entries.find(to_name);
  if (dst != (*to_dir)->entries.end()) {
    if (dst->second == node) return Status::Ok();  // same file: no-op
    if (dst->second->is_dir && !node->is_dir) {
      return PathError("rename", both, EISDIR);
    }
    if (!dst->second->is_dir && node->is_dir) {
      return PathError("rename", both, ENOTDIR);
    }
    if (dst->second->is_dir && !dst->second->entries.empty()) {
      return PathError("rename", both, ENOTEMPTY);
    }
  }
  if (node->is_dir) {
    // Moving a directory below itself would detach it from the tree.
    // Paths have no "." or ".." or links, so a prefix test is exact.
    const ParsedPath f = Parse(from);
    const ParsedPath t = Parse(to);
    if (f.absolute == t.absolute && t.parts.size() > f.parts.size() &&
        std::equal(f.parts.begin(), f.parts.end(), t.parts.begin())) {
      return PathError("rename", both, EINVAL);
    }
  }
  (*to_dir)->entries[to_name] = node;
  (*from_dir)->entries.erase(from_name);
  return Status::Ok();
}

bool MemoryFileSystem::Exists(const std::string& path) {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->operations.fetch_add(1);
  return state_->Lookup(path, "stat").ok();
}

Result<std::unique_ptr<FileLock>> MemoryFileSystem::LockFile(
    const std::string& path) {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->operations.fetch_add(1);
  std::string name;
  Result<std::shared_ptr<Node>> dir =
      state_->LookupParent(path, "open lock file", &name);
  if (!dir.ok()) {
    if (dir.status().IsInvalidArgument()) {
      return PathError("open lock file", path, EISDIR);
    }
    return dir.status();
  }
  auto [it, inserted] = (*dir)->entries.emplace(name, std::shared_ptr<Node>());
  if (inserted) it->second = std::make_shared<Node>(false);
  std::shared_ptr<Node> node = it->second;
  if (node->is_dir) return PathError("open lock file", path, EISDIR);
  if (state_->locks.contains(node.get())) {
    return Status::Locked(path +
                          " is locked by another writer (in this process)");
  }
  const uint64_t token = state_->next_lock_token++;
  state_->locks.emplace(node.get(), token);
  return std::unique_ptr<FileLock>(
      std::make_unique<MemoryFileLock>(state_, std::move(node), token));
}

bool MemoryFileSystem::IsLocked(const std::string& path) {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->operations.fetch_add(1);
  Result<std::shared_ptr<Node>> node = state_->Lookup(path, "stat");
  return node.ok() && state_->locks.contains(node->get());
}

void MemoryFileSystem::SimulateCrash() {
  std::lock_guard<std::mutex> lock(state_->mu);
  ++state_->epoch;
  state_->locks.clear();  // the process holding them is gone
  std::set<const Node*> seen;
  state_->Revert(state_->absolute_root, &seen);
  state_->Revert(state_->relative_root, &seen);
}

void MemoryFileSystem::FailWriteback(const std::string& path) {
  std::lock_guard<std::mutex> lock(state_->mu);
  Result<std::shared_ptr<Node>> found = state_->Lookup(path, "writeback");
  if (!found.ok() || (*found)->is_dir) return;
  Node& n = **found;
  const uint64_t end = std::min(n.dirty_end, n.size);
  if (n.dirty_begin < end) {
    n.ForgetLost(n.dirty_begin, end);
    n.lost.emplace(n.dirty_begin, end);
  }
  // Clean now: no later Sync writes them. Size changes stay pending.
  n.dirty_begin = std::numeric_limits<uint64_t>::max();
  n.dirty_end = 0;
}

uint64_t MemoryFileSystem::operation_count() const {
  return state_->operations.load();
}

std::unique_ptr<FileSystem> NewMemoryFileSystem() {
  return std::make_unique<MemoryFileSystem>();
}

}  // namespace cairn::io

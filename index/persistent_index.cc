// Copyright (c) Cairn authors.
#include "index/persistent_index.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <limits>
#include <map>
#include <set>

#include "engine/io/thread_name.h"

namespace cairn::index {
namespace {

// While a written table waits for the log to become durable past its end,
// the flusher looks again this often (the engine does not signal its
// fdatasyncs to the index; in group-commit mode the wait is rare).
constexpr auto kDurabilityPoll = std::chrono::milliseconds(20);
// After a failed flush or merge (a full disk, say), retry this much later
// rather than spinning.
constexpr auto kErrorBackoff = std::chrono::seconds(1);

// Names the oldest table a lookup found damaged (docs/format.md).
constexpr char kDamagedFileName[] = "DAMAGED";

// A rebuilt block's candidates: its entries, plus the few that share a
// boundary key with it (colliding streams). More is not a block the log
// can make.
constexpr size_t kMostRebuiltEntries = 4 * kEntriesPerBlock;

// The widest window of revisions a read across removed revisions asks the
// tables for at once (PersistentIndex::Read): its entries stay bounded.
constexpr uint64_t kMaxGapSpan = uint64_t{1} << 16;

bool InKeyRange(uint64_t hash, uint64_t revision, EntryKey lo, EntryKey hi) {
  return std::tie(lo.hash, lo.revision) <= std::tie(hash, revision) &&
         std::tie(hash, revision) <= std::tie(hi.hash, hi.revision);
}

Status TooManyRebuiltEntries(const Table& table) {
  return Status::Corruption(table.path(), 0,
                            "the log holds more events for a damaged "
                            "block's keys than a block can");
}

// A follower that finds a listed table gone (merged away by the writer
// after the manifest was read) reads the manifest again this many times.
constexpr int kAdoptAttempts = 3;

std::string BaseName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string ParentDir(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status ValidateOptions(const IndexOptions& o) {
  if (o.memtable_entries == 0 || o.memtable_entries > (1ull << 31)) {
    return Status::InvalidArgument(
        "index memtable size must be between 1 and 2^31 entries");
  }
  if (o.anchor_stride == 0 || o.anchor_stride > (1u << 20)) {
    return Status::InvalidArgument("index anchor stride must be 1..2^20");
  }
  if (o.merge_fan_in < 2 || o.merge_fan_in > 64) {
    return Status::InvalidArgument("index merge fan-in must be 2..64");
  }
  if (o.slots_per_event == 0 || o.slots_per_event > 2) {
    return Status::InvalidArgument("index slots per event must be 1 or 2");
  }
  return Status::Ok();
}

// The first run of `fan_in` consecutive tables of one level, oldest first;
// tables.size() if there is none. Levels never increase along the list
// (a merge replaces the oldest tables of a run by one of the next level,
// which is at most the level of the table before it), so same-level
// tables are always adjacent and merging adjacent tables keeps the
// position ranges contiguous.
size_t FindMergeRun(const std::vector<ManifestTable>& tables, uint32_t fan_in) {
  size_t i = 0;
  while (i < tables.size()) {
    size_t j = i;
    while (j < tables.size() && tables[j].level == tables[i].level) ++j;
    if (j - i >= fan_in) return i;
    i = j;
  }
  return tables.size();
}

}  // namespace

PersistentIndex::PersistentIndex(io::FileSystem* fs, std::string dir,
                                 uint64_t store_id, const IndexOptions& options,
                                 NameReader names,
                                 const std::atomic<uint64_t>* durable_end)
    : fs_(fs),
      dir_(std::move(dir)),
      store_id_(store_id),
      options_(options),
      hash_(options.stream_hash != nullptr ? options.stream_hash
                                           : &DefaultStreamHash),
      names_(std::move(names)),
      durable_end_(durable_end),
      cache_(options.cache_streams),
      version_(std::make_shared<Version>()) {}

Result<std::unique_ptr<PersistentIndex>> PersistentIndex::Open(
    io::FileSystem* fs, const std::string& dir, uint64_t store_id,
    uint64_t first_position, const IndexOptions& options, NameReader names,
    const std::atomic<uint64_t>* durable_end) {
  Status s = ValidateOptions(options);
  if (!s.ok()) return s;
  std::unique_ptr<PersistentIndex> index(new PersistentIndex(
      fs, dir, store_id, options, std::move(names), durable_end));
  s = index->Load(first_position);
  if (!s.ok()) return s;
  index->StartThreads();
  return index;
}

PersistentIndex::~PersistentIndex() {
  // A failed Open leaves no memtable and nothing to write.
  if (active_ != nullptr && !closed_ && !options_.read_only) {
    (void)Close();
  } else {
    StopThreads();
  }
}

std::string PersistentIndex::TablePath(uint64_t number) const {
  return io::JoinPath(dir_, TableFileName(number));
}

Result<std::shared_ptr<Table>> PersistentIndex::OpenTable(
    uint64_t number) const {
  auto opened = Table::Open(fs_, TablePath(number), store_id_, number,
                            options_.anchor_stride);
  if (opened.ok()) AttachBlockSource(opened->get());
  return opened;
}

void PersistentIndex::AttachBlockSource(Table* table) const {
  table->set_damage_note([this](const Status& damage) { NoteDamage(damage); });
  if (!options_.log_events) return;
  table->set_block_source([this](const Table& t, EntryKey lo, EntryKey hi,
                                 std::vector<Entry>* out) {
    return RebuildEntries(t, lo, hi, out);
  });
}

Status PersistentIndex::RebuildEntries(const Table& table, EntryKey lo,
                                       EntryKey hi,
                                       std::vector<Entry>* out) const {
  if (options_.slot_name) return RebuildSlotEntries(table, lo, hi, out);
  const TableInfo& info = table.info();
  bool too_many = false;
  auto keep = [&](const LoggedEvent& e) {
    const uint64_t hash = hash_(e.stream);
    if (!InKeyRange(hash, e.revision, lo, hi)) return true;
    if (out->size() == kMostRebuiltEntries) {
      too_many = true;
      return false;
    }
    out->push_back(Entry{hash, e.revision, e.position, e.offset, IdTag(e.id)});
    return true;
  };
  Status s = options_.log_events(info.first_position, info.end_position, keep);
  if (s.ok() && too_many) return TooManyRebuiltEntries(table);
  return s;
}

Status PersistentIndex::RebuildSlotEntries(const Table& table, EntryKey lo,
                                           EntryKey hi,
                                           std::vector<Entry>* out) const {
  const TableInfo& info = table.info();
  const uint64_t slots = options_.slots_per_event;
  // The revision each stream of the block's hash range takes next in this
  // table: where the older tables leave it, then one per slot. Every hash
  // strictly inside the range has all of this table's entries in the
  // block, so the map holds about a block's worth of streams (colliding
  // streams share a hash, so they are told apart by name).
  std::map<std::string, uint64_t, std::less<>> next_revision;
  bool too_many = false;
  Status error;
  Status s = options_.log_events(
      info.first_position / slots, (info.end_position + slots - 1) / slots,
      [&](const LoggedEvent& e) {
        for (uint32_t k = 0; k < slots; ++k) {
          const uint64_t slot = e.position * slots + k;
          if (slot < info.first_position || slot >= info.end_position) {
            continue;
          }
          std::string name = options_.slot_name(e, k);
          const uint64_t hash = hash_(name);
          if (hash < lo.hash || hash > hi.hash) continue;
          auto it = next_revision.find(name);
          if (it == next_revision.end()) {
            if (next_revision.size() == kMostRebuiltEntries) {
              too_many = true;
              return false;
            }
            auto base = RevisionAfterOlderTables(table, name, hash);
            if (!base.ok()) {
              error = base.status();
              return false;
            }
            it = next_revision.emplace(std::move(name), *base).first;
          }
          const uint64_t revision = it->second++;
          if (!InKeyRange(hash, revision, lo, hi)) continue;
          if (out->size() == kMostRebuiltEntries) {
            too_many = true;
            return false;
          }
          out->push_back(Entry{hash, revision, slot, e.offset, IdTag(e.id)});
        }
        return true;
      });
  if (s.ok()) s = error;
  if (s.ok() && too_many) return TooManyRebuiltEntries(table);
  return s;
}

template <typename ForEach>
Result<std::optional<Entry>> PersistentIndex::NewestNamed(
    std::string_view stream, ForEach&& for_each) const {
  std::optional<Entry> found;
  Status error;
  Status s = for_each([&](const Entry& e) {
    auto name = names_(e.position, e.offset);
    if (!name.ok()) {
      error = name.status();
      return false;
    }
    if (*name != stream) return true;  // a colliding stream
    found = e;
    return false;
  });
  if (s.ok()) s = error;
  if (!s.ok()) return s;
  return found;
}

Result<uint64_t> PersistentIndex::RevisionAfterOlderTables(
    const Table& table, std::string_view stream, uint64_t hash) const {
  auto v = Current();
  for (auto it = v->tables.rbegin(); it != v->tables.rend(); ++it) {
    // Only tables wholly before this one: a merge's output that covers
    // this table's range (in a newer version) is not older.
    if ((*it)->info().end_position > table.info().first_position) continue;
    auto newest = NewestNamed(stream, [&](auto&& visit) {
      return (*it)->ForEachNewest(hash, visit);
    });
    if (!newest.ok()) return newest.status();
    if (*newest) return (*newest)->revision + 1;
  }
  return uint64_t{0};
}

uint64_t PersistentIndex::DurableEnd() const {
  return durable_end_ == nullptr
             ? std::numeric_limits<uint64_t>::max()
             : durable_end_->load(std::memory_order_acquire);
}

std::shared_ptr<const PersistentIndex::Version> PersistentIndex::Current()
    const {
  std::lock_guard<std::mutex> lock(mu_);
  return version_;
}

void PersistentIndex::Publish(std::shared_ptr<const Version> version) {
  std::lock_guard<std::mutex> lock(mu_);
  version_ = std::move(version);
}

Status PersistentIndex::Load(uint64_t first_position) {
  if (!options_.read_only && !fs_->Exists(dir_)) {
    Status s = fs_->CreateDir(dir_);
    if (s.ok()) s = fs_->SyncDir(ParentDir(dir_));
    if (!s.ok()) return s;
  }
  Manifest m;
  bool rewrite = false;
  Status s = fs_->Exists(dir_) ? ReadManifest(fs_, dir_, &m)
                               : Status::NotFound("no index directory");
  auto discard = [&](const std::string& why) {
    open_note_ = why;
    m = Manifest();
    rewrite = true;
  };
  if (s.IsNotFound()) {
    if (fs_->Exists(dir_) && !options_.read_only) {
      // Tables without a manifest cannot be trusted to be complete.
      rewrite = true;
    }
    m = Manifest();
  } else if (!s.ok()) {
    discard("the index manifest is unusable: " + s.ToString());
  } else if (m.store_id != store_id_) {
    discard("the index belongs to another store");
  } else if (m.stream_hash_id != options_.stream_hash_id) {
    discard("the index was built with another stream hash function");
  } else if (m.anchor_stride != options_.anchor_stride) {
    discard("the index was built with another anchor stride");
  } else if (!m.tables.empty() &&
             m.tables.front().first_position != first_position) {
    discard("the index does not start where the log starts");
  }

  // A table a lookup found damaged in an earlier run: drop it and every
  // newer one, like a table that does not open.
  std::optional<uint64_t> damaged;
  const std::string damaged_path = io::JoinPath(dir_, kDamagedFileName);
  if (fs_->Exists(damaged_path)) {
    auto file = fs_->OpenFile(damaged_path, io::OpenMode::kReadOnly);
    if (file.ok()) {
      char text[32] = {};
      size_t got = 0;
      if ((*file)->Read(0, text, sizeof(text) - 1, &got).ok() && got > 0) {
        damaged = std::strtoull(text, nullptr, 10);
      }
    }
    rewrite = true;  // the writer removes the marker below
  }

  std::vector<std::shared_ptr<const Table>> tables;
  for (size_t i = 0; i < m.tables.size(); ++i) {
    const ManifestTable& record = m.tables[i];
    if (damaged && record.number == *damaged) {
      open_note_ = "index table " + std::to_string(record.number) +
                   " was found damaged by a lookup; it and " +
                   std::to_string(m.tables.size() - i - 1) +
                   " newer table(s) are dropped and rebuilt from the log";
      m.tables.resize(i);
      break;
    }
    auto table = OpenTable(record.number);
    Status problem = table.ok() ? Status::Ok() : table.status();
    if (table.ok() && RecordOf((*table)->info()) != record) {
      problem = Status::Corruption(TablePath(record.number), 0,
                                   "index table does not match the manifest");
    }
    if (!problem.ok()) {
      open_note_ = "index table " + std::to_string(record.number) +
                   " is unusable (" + problem.ToString() + "); it and " +
                   std::to_string(m.tables.size() - i - 1) +
                   " newer table(s) are dropped and rebuilt from the log";
      m.tables.resize(i);
      rewrite = true;
      break;
    }
    tables.push_back(std::move(table.value()));
  }
  m.store_id = store_id_;
  m.stream_hash_id = options_.stream_hash_id;
  m.anchor_stride = options_.anchor_stride;
  if (m.next_table_number == 0) m.next_table_number = 1;
  next_table_number_ = m.next_table_number;

  if (!options_.read_only) {
    // Anything not listed is left over from a crash (temporary files,
    // tables written or merged but never listed) or was just dropped.
    std::set<uint64_t> listed;
    for (const ManifestTable& t : m.tables) listed.insert(t.number);
    auto names = fs_->ListDir(dir_);
    if (!names.ok()) return names.status();
    for (const std::string& name : *names) {
      std::string_view base = name;
      bool temporary = base.ends_with(".tmp");
      if (temporary) base.remove_suffix(4);
      auto number = ParseTableFileName(base);
      if (number) {
        next_table_number_ = std::max(next_table_number_, *number + 1);
        if (!temporary && listed.count(*number) != 0) continue;
      } else if (!(temporary &&
                   (base == kManifestFileName || base == kDamagedFileName))) {
        continue;  // not ours: leave it alone
      }
      Status r = fs_->RemoveFile(io::JoinPath(dir_, name));
      if (!r.ok()) return r;
    }
    if (rewrite) {
      ++m.generation;
      m.next_table_number = next_table_number_;
      s = WriteManifest(fs_, dir_, m);
      if (!s.ok()) return s;
      // Only once the manifest no longer lists the damaged table.
      if (fs_->Exists(damaged_path)) {
        s = fs_->RemoveFile(damaged_path);
        if (s.ok()) s = fs_->SyncDir(dir_);
        if (!s.ok()) return s;
      }
    }
  }
  manifest_ = m;
  first_position_ = first_position;
  next_position_ = m.tables.empty() ? first_position : m.end_position();
  for (const auto& t : tables) {
    if (t->info().has_gaps()) gaps_.store(true, std::memory_order_relaxed);
  }
  for (auto it = tables.rbegin(); it != tables.rend(); ++it) {
    if ((*it)->info().entry_count == 0) continue;  // every event removed
    loaded_last_offset_ = (*it)->info().last_offset;
    loaded_last_position_ = (*it)->info().last_position;
    break;
  }
  active_ = NewMemTable(next_position_);
  auto v = std::make_shared<Version>();
  v->tables = std::move(tables);
  version_ = std::move(v);
  return Status::Ok();
}

void PersistentIndex::StartThreads() {
  if (options_.read_only || !options_.background) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = false;
  }
  cancel_merge_ = false;
  flusher_ = io::StartThread("cairn-idx-flush", [this] { FlusherLoop(); });
  merger_ = io::StartThread("cairn-idx-merge", [this] { MergerLoop(); });
}

void PersistentIndex::StopThreads() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cancel_merge_ = true;
  work_cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  if (merger_.joinable()) merger_.join();
}

Status PersistentIndex::Reset(uint64_t first_position) {
  StopThreads();
  std::vector<uint64_t> numbers;
  {
    std::lock_guard<std::mutex> manifest_lock(manifest_mu_);
    for (const auto& t : Current()->tables) numbers.push_back(t->info().number);
    // A follower that finds the writer's index not matching the log starts
    // over in memory; only a manifest the writer writes after this one
    // (a writer checks its index against the log at its open) is taken up.
    if (options_.read_only) rejected_generation_ = manifest_.generation;
    manifest_.tables.clear();
    ++manifest_.generation;
    manifest_.next_table_number = next_table_number_;
    Publish(std::make_shared<Version>());
    if (!options_.read_only) {
      Status s = WriteManifest(fs_, dir_, manifest_);
      if (!s.ok()) return s;
    }
  }
  if (!options_.read_only) {
    for (uint64_t n : numbers) (void)fs_->RemoveFile(TablePath(n));
    (void)fs_->RemoveFile(io::JoinPath(dir_, kDamagedFileName));
  }
  {
    std::lock_guard<std::mutex> lock(damage_mu_);
    damaged_table_.reset();
  }
  first_position_ = first_position;
  next_position_ = first_position;
  loaded_last_offset_.reset();
  loaded_last_position_.reset();
  gaps_.store(false, std::memory_order_relaxed);
  active_ = NewMemTable(first_position);
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    cache_.Clear();
  }
  StartThreads();
  return Status::Ok();
}

template <typename Fn>
Status PersistentIndex::ForEachNewest(const Version& v, uint64_t hash,
                                      Fn&& fn) const {
  bool more = true;
  auto visit = [&](const Entry& e) {
    more = fn(e);
    return more;
  };
  active_->ForEachNewest(hash, visit);
  for (auto it = v.frozen.rbegin(); more && it != v.frozen.rend(); ++it) {
    (*it)->ForEachNewest(hash, visit);
  }
  for (auto it = v.tables.rbegin(); more && it != v.tables.rend(); ++it) {
    Status s = (*it)->ForEachNewest(hash, visit);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Result<std::optional<uint64_t>> PersistentIndex::LastRevisionUncached(
    const Version& v, std::string_view stream, uint64_t hash,
    std::optional<IndexedEvent>* last_event) const {
  // The newest entry of this hash whose record names this stream holds its
  // last revision: sources are visited newest first, and within a source a
  // stream's entries come highest revision first.
  auto newest = NewestNamed(
      stream, [&](auto&& visit) { return ForEachNewest(v, hash, visit); });
  if (!newest.ok()) return newest.status();
  std::optional<uint64_t> last;
  if (const std::optional<Entry>& e = *newest) {
    last = e->revision;
    if (last_event != nullptr) {
      *last_event =
          IndexedEvent{e->revision, e->position, e->offset, e->id_tag};
    }
  }
  return last;
}

Result<std::optional<uint64_t>> PersistentIndex::LastRevision(
    std::string_view stream, std::optional<IndexedEvent>* last_event) const {
  if (last_event != nullptr) last_event->reset();
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    if (auto hit = cache_.Get(stream)) {
      if (*hit == StreamCache::kNoEvents) return std::optional<uint64_t>();
      return std::optional<uint64_t>(*hit);
    }
  }
  auto v = Current();
  auto last = LastRevisionUncached(*v, stream, hash_(stream), last_event);
  if (!last.ok()) {
    NoteDamage(last.status());
    return last;
  }
  // A stream without events is cached too: every read of a stream asks
  // for its metadata stream, which most streams do not have, and finding
  // that out searches every table. The first event of the stream replaces
  // the entry (AddRun, under the exclusive state lock that every caller
  // of this method holds shared).
  std::lock_guard<std::mutex> lock(cache_mu_);
  cache_.Put(stream, last->value_or(StreamCache::kNoEvents));
  return last;
}

Status PersistentIndex::Add(std::string_view stream, uint64_t revision,
                            uint64_t position, uint32_t offset,
                            const EventId& id) {
  return AddRun(stream, revision, position, std::span(&offset, 1),
                std::span(&id, 1));
}

Status PersistentIndex::AddRun(std::string_view stream, uint64_t first_revision,
                               uint64_t first_position,
                               std::span<const uint32_t> offsets,
                               std::span<const EventId> ids,
                               std::optional<bool> last_is_tombstone) {
  if (first_position != next_position_) {
    return Status::Corruption(dir_, 0,
                              "index expected position " +
                                  std::to_string(next_position_) + ", got " +
                                  std::to_string(first_position));
  }
  if (offsets.empty() || offsets.size() != ids.size()) {
    return Status::InvalidArgument("index run needs one offset per id");
  }
  // One lookup for the run: its revisions follow each other by definition.
  auto last = LastRevision(stream);
  if (!last.ok()) return last.status();
  const uint64_t expected = last->has_value() ? **last + 1 : 0;
  // Across a scavenge's holes a stream's revisions can jump (its removed
  // events have no entries); they never repeat or go back.
  const bool follows = gaps_.load(std::memory_order_relaxed)
                           ? first_revision >= expected
                           : first_revision == expected;
  if (!follows) {
    return Status::Corruption(
        dir_, 0,
        "revision " + std::to_string(first_revision) + " of stream '" +
            std::string(stream) + "' at position " +
            std::to_string(first_position) +
            " does not follow its previous one (expected revision " +
            std::to_string(expected) + ")");
  }
  Entry e;
  e.hash = hash_(stream);
  for (size_t i = 0; i < offsets.size(); ++i) {
    e.revision = first_revision + i;
    e.position = first_position + i;
    e.offset = offsets[i];
    e.id_tag = IdTag(ids[i]);
    active_->Add(e);
    ++next_position_;
    if (active_->size() >= options_.memtable_entries) Freeze();
  }
  std::lock_guard<std::mutex> lock(cache_mu_);
  cache_.PutTail(stream, e.revision, last_is_tombstone);
  return Status::Ok();
}

std::optional<bool> PersistentIndex::KnownTombstone(
    std::string_view stream, uint64_t last_revision) const {
  std::lock_guard<std::mutex> lock(cache_mu_);
  return cache_.Tombstone(stream, last_revision);
}

void PersistentIndex::NoteTombstone(std::string_view stream,
                                    uint64_t last_revision,
                                    bool tombstone) const {
  std::lock_guard<std::mutex> lock(cache_mu_);
  cache_.NoteTombstone(stream, last_revision, tombstone);
}

Status PersistentIndex::SkipRemoved(uint64_t end, uint32_t anchor) {
  if (end <= next_position_) {
    return Status::InvalidArgument("index skip to position " +
                                   std::to_string(end) + " does not go past " +
                                   std::to_string(next_position_));
  }
  active_->Skip(end, anchor);
  next_position_ = end;
  gaps_.store(true, std::memory_order_relaxed);
  return Status::Ok();
}

std::unique_ptr<MemTable> PersistentIndex::NewMemTable(uint64_t first) const {
  // Address space, not memory, up to a cap: a memtable of up to 2^31
  // entries (Options::index_memtable_events allows that many) grows by
  // doubling beyond it rather than reserving tens of GB at once.
  constexpr uint64_t kMaxReserved = uint64_t{1} << 20;
  auto table = std::make_unique<MemTable>(first, options_.anchor_stride);
  if (!options_.read_only) {
    table->Reserve(std::min(options_.memtable_entries, kMaxReserved));
  }
  return table;
}

void PersistentIndex::Freeze() {
  std::shared_ptr<const MemTable> frozen(std::move(active_));
  active_ = NewMemTable(next_position_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto v = std::make_shared<Version>(*version_);
    v->frozen.push_back(std::move(frozen));
    version_ = std::move(v);
  }
  if (options_.read_only) return;
  if (options_.background) {
    work_cv_.notify_all();
  } else {
    RunInline();
  }
}

void PersistentIndex::NoteError(const Status& s) {
  // Reported first: whoever sees background_error_ (Stats, WaitIdle) can
  // rely on the report having been made.
  if (options_.on_background_error) options_.on_background_error(s);
  std::lock_guard<std::mutex> lock(mu_);
  background_error_ = s.ToString();
  ++background_errors_;
  idle_cv_.notify_all();
}

bool PersistentIndex::FlushOne(Status* status) {
  std::shared_ptr<const MemTable> m;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (version_->frozen.empty()) return false;
    m = version_->frozen.front();
  }
  TableInfo info;
  {
    std::lock_guard<std::mutex> lock(manifest_mu_);
    info.number = next_table_number_++;
  }
  info.store_id = store_id_;
  info.level = 0;
  info.anchor_stride = options_.anchor_stride;
  info.entry_count = m->size();
  info.first_position = m->first_position();
  info.end_position = m->end_position();
  info.last_offset = m->last_offset();
  info.last_position = m->last_position();
  info.new_streams = m->new_streams();
  Status s;
  {
    auto writer = TableWriter::Create(fs_, dir_, info);
    s = writer.status();
    if (s.ok()) {
      for (const Entry& e : m->Sorted()) {
        s = (*writer)->Add(e);
        if (!s.ok()) break;
      }
    }
    if (s.ok()) {
      for (uint32_t offset : m->anchors()) {
        s = (*writer)->AddAnchor(offset);
        if (!s.ok()) break;
      }
    }
    if (s.ok()) s = (*writer)->Finish();
  }
  std::shared_ptr<const Table> table;
  if (s.ok()) {
    auto opened = OpenTable(info.number);
    s = opened.status();
    if (s.ok()) table = std::move(opened.value());
  }
  if (!s.ok()) {
    (void)fs_->RemoveFile(TablePath(info.number));
    NoteError(s);
    {
      std::lock_guard<std::mutex> lock(mu_);
      flush_failing_ = true;
    }
    idle_cv_.notify_all();
    *status = s;
    return false;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto v = std::make_shared<Version>(*version_);
    v->tables.push_back(std::move(table));
    v->frozen.erase(v->frozen.begin());
    version_ = std::move(v);
    flush_failing_ = false;
  }
  idle_cv_.notify_all();
  flushes_.fetch_add(1, std::memory_order_relaxed);
  *status = Commit();
  return true;
}

Status PersistentIndex::Commit() {
  std::lock_guard<std::mutex> manifest_lock(manifest_mu_);
  auto v = Current();
  const uint64_t durable = DurableEnd();
  // The listed tables are a prefix of the version's (merges change both
  // under manifest_mu_); list the following ones the log has made durable.
  size_t target = manifest_.tables.size();
  while (target < v->tables.size() &&
         v->tables[target]->info().end_position <= durable) {
    ++target;
  }
  if (target == manifest_.tables.size()) return Status::Ok();
  Manifest m = manifest_;
  for (size_t i = manifest_.tables.size(); i < target; ++i) {
    m.tables.push_back(RecordOf(v->tables[i]->info()));
  }
  ++m.generation;
  m.next_table_number = next_table_number_;
  Status s = WriteManifest(fs_, dir_, m);
  if (!s.ok()) {
    NoteError(s);
    return s;
  }
  manifest_ = std::move(m);
  work_cv_.notify_all();  // a merge may be due now
  return Status::Ok();
}

bool PersistentIndex::MergeDue() const {
  return merge_pauses_ == 0 &&
         FindMergeRun(manifest_.tables, options_.merge_fan_in) <
             manifest_.tables.size();
}

bool PersistentIndex::MergeOne(Status* status) {
  const uint32_t fan_in = options_.merge_fan_in;
  std::vector<std::shared_ptr<const Table>> inputs;
  size_t first = 0;
  TableInfo info;
  {
    std::lock_guard<std::mutex> manifest_lock(manifest_mu_);
    if (!MergeDue()) return false;
    first = FindMergeRun(manifest_.tables, fan_in);
    auto v = Current();
    for (size_t i = first; i < first + fan_in; ++i) {
      // Listed tables are the version's prefix, in the same order.
      inputs.push_back(v->tables[i]);
    }
    info.number = next_table_number_++;
  }
  info.store_id = store_id_;
  info.anchor_stride = options_.anchor_stride;
  info.first_position = inputs.front()->info().first_position;
  info.end_position = inputs.back()->info().end_position;
  for (const auto& t : inputs) {
    info.level = std::max(info.level, t->info().level + 1);
    info.entry_count += t->info().entry_count;
    info.new_streams += t->info().new_streams;
    // The last input with entries holds the last event (after a scavenge
    // a table can have none).
    if (t->info().entry_count > 0) {
      info.last_offset = t->info().last_offset;
      info.last_position = t->info().last_position;
    }
  }

  Status s;
  bool cancelled = false;
  {
    auto writer = TableWriter::Create(fs_, dir_, info);
    s = writer.status();
    if (s.ok()) {
      // A k-way merge by linear selection: the fan-in is small.
      std::vector<Table::Cursor> cursors;
      std::vector<Entry> heads(inputs.size());
      std::vector<bool> live(inputs.size());
      for (size_t i = 0; i < inputs.size(); ++i) {
        cursors.emplace_back(inputs[i].get());
        live[i] = cursors[i].Next(&heads[i]);
      }
      uint64_t written = 0;
      for (;;) {
        size_t best = inputs.size();
        for (size_t i = 0; i < inputs.size(); ++i) {
          if (live[i] &&
              (best == inputs.size() || EntryLess(heads[i], heads[best]))) {
            best = i;
          }
        }
        if (best == inputs.size()) break;
        s = (*writer)->Add(heads[best]);
        if (!s.ok()) break;
        live[best] = cursors[best].Next(&heads[best]);
        if (++written % kEntriesPerBlock == 0 &&
            cancel_merge_.load(std::memory_order_relaxed)) {
          cancelled = true;
          break;
        }
      }
      for (const auto& c : cursors) {
        if (s.ok() && !c.status().ok()) s = c.status();
      }
      const uint32_t stride = options_.anchor_stride;
      for (size_t i = 0; s.ok() && !cancelled && i < inputs.size(); ++i) {
        const TableInfo& in = inputs[i]->info();
        uint64_t p = (in.first_position + stride - 1) / stride * stride;
        for (; s.ok() && p < in.end_position; p += stride) {
          s = (*writer)->AddAnchor(*inputs[i]->Anchor(p));
        }
      }
      if (s.ok() && !cancelled) s = (*writer)->Finish();
    }
  }
  if (cancelled) return false;  // the writer removed its temporary file
  std::shared_ptr<const Table> output;
  if (s.ok()) {
    auto opened = OpenTable(info.number);
    s = opened.status();
    if (s.ok()) output = std::move(opened.value());
  }
  if (s.ok()) {
    std::lock_guard<std::mutex> manifest_lock(manifest_mu_);
    // Only this function changes listed tables, so the run is still at
    // `first`.
    Manifest m = manifest_;
    m.tables.erase(m.tables.begin() + static_cast<ptrdiff_t>(first),
                   m.tables.begin() + static_cast<ptrdiff_t>(first + fan_in));
    m.tables.insert(m.tables.begin() + static_cast<ptrdiff_t>(first),
                    RecordOf(info));
    ++m.generation;
    m.next_table_number = next_table_number_;
    s = WriteManifest(fs_, dir_, m);
    if (s.ok()) {
      manifest_ = std::move(m);
      std::lock_guard<std::mutex> lock(mu_);
      auto v = std::make_shared<Version>(*version_);
      v->tables.erase(
          v->tables.begin() + static_cast<ptrdiff_t>(first),
          v->tables.begin() + static_cast<ptrdiff_t>(first + fan_in));
      v->tables.insert(v->tables.begin() + static_cast<ptrdiff_t>(first),
                       output);
      version_ = std::move(v);
    }
  }
  if (!s.ok()) {
    // Unlisted, so the next open removes it if this removal fails too.
    output.reset();
    (void)fs_->RemoveFile(TablePath(info.number));
    NoteError(s);
    *status = s;
    return false;
  }
  merges_.fetch_add(1, std::memory_order_relaxed);
  merged_entries_.fetch_add(info.entry_count, std::memory_order_relaxed);
  // The new manifest is durable: the inputs are garbage. Readers still
  // holding them keep their mappings.
  for (const auto& t : inputs) (void)fs_->RemoveFile(t->path());
  *status = Status::Ok();
  return true;
}

void PersistentIndex::RunInline() {
  Status s;
  while (FlushOne(&s)) {
  }
  if (s.ok()) s = Commit();
  while (s.ok() && MergeOne(&s)) {
  }
}

void PersistentIndex::FlusherLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    const bool has_frozen = !version_->frozen.empty();
    lock.unlock();
    bool commit_due = false;
    bool waiting_for_log = false;
    {
      std::lock_guard<std::mutex> manifest_lock(manifest_mu_);
      auto v = Current();
      if (v->tables.size() > manifest_.tables.size()) {
        waiting_for_log = true;
        commit_due = v->tables[manifest_.tables.size()]->info().end_position <=
                     DurableEnd();
      }
    }
    lock.lock();
    if (stop_) break;
    if (!has_frozen && !commit_due) {
      idle_cv_.notify_all();
      if (waiting_for_log) {
        work_cv_.wait_for(lock, kDurabilityPoll);
      } else {
        work_cv_.wait(lock, [&] { return stop_ || !version_->frozen.empty(); });
      }
      continue;
    }
    flushing_ = true;
    lock.unlock();
    Status s;
    if (has_frozen) {
      (void)FlushOne(&s);
    } else {
      s = Commit();
    }
    lock.lock();
    flushing_ = false;
    idle_cv_.notify_all();
    // Only the flusher's own failure makes it back off. A merge that keeps
    // failing (a damaged table, a full disk) must not hold flushes back:
    // appends wait in Throttle() for them, or for flush_failing_.
    if (!s.ok()) {
      work_cv_.wait_for(lock, kErrorBackoff, [&] { return stop_; });
    }
  }
}

void PersistentIndex::MergerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    bool due = false;
    {
      std::lock_guard<std::mutex> manifest_lock(manifest_mu_);
      due = MergeDue();
    }
    lock.lock();
    if (stop_) break;
    if (!due) {
      idle_cv_.notify_all();
      // Commit notifies after every manifest write; the timeout only
      // covers a notification that raced with the check above.
      work_cv_.wait_for(lock, kDurabilityPoll * 50);
      continue;
    }
    merging_ = true;
    lock.unlock();
    Status s;
    bool merged = MergeOne(&s);
    lock.lock();
    merging_ = false;
    idle_cv_.notify_all();
    if (!merged && !s.ok()) {
      work_cv_.wait_for(lock, kErrorBackoff, [&] { return stop_; });
    }
  }
}

void PersistentIndex::NoteDamage(const Status& status) const {
  if (!status.IsCorruption() || status.corruption() == nullptr) return;
  auto number = ParseTableFileName(BaseName(status.corruption()->file));
  if (!number) return;
  // Where each table starts, if the current version holds it: the table
  // recorded may have been merged away since (a merge reads a lookup's
  // rebuilt blocks), and a merge's output has a higher number than the
  // tables after it.
  auto start_of = [v = Current()](uint64_t n) -> std::optional<uint64_t> {
    for (const auto& t : v->tables) {
      if (t->info().number == n) return t->info().first_position;
    }
    return std::nullopt;
  };
  const std::optional<uint64_t> start = start_of(*number);
  if (!start) return;  // no longer listed: nothing to record
  std::lock_guard<std::mutex> lock(damage_mu_);
  // The damaged table that starts first decides where the next open
  // replays from (it drops that table and every later one).
  if (damaged_table_) {
    const std::optional<uint64_t> recorded = start_of(*damaged_table_);
    if (recorded && *recorded <= *start) return;
  }
  damaged_table_ = number;
  if (options_.read_only) return;
  // Crash-safe like the other index files; if it cannot be written the
  // next open trusts the table, and `cairn verify` / `cairn index rebuild`
  // remain.
  const std::string path = io::JoinPath(dir_, kDamagedFileName);
  const std::string temp = path + ".tmp";
  const std::string text = std::to_string(*number) + "\n";
  auto file = fs_->OpenFile(temp, io::OpenMode::kCreate);
  if (!file.ok()) return;
  Status s = (*file)->Truncate(0);
  if (s.ok()) s = (*file)->Write(0, text.data(), text.size());
  if (s.ok()) s = (*file)->Sync();
  if (s.ok()) s = (*file)->Close();
  if (s.ok()) s = fs_->Rename(temp, path);
  if (s.ok()) s = fs_->SyncDir(dir_);
  if (!s.ok()) (void)fs_->RemoveFile(temp);
}

void PersistentIndex::Throttle() {
  if (options_.read_only || !options_.background) return;
  std::unique_lock<std::mutex> lock(mu_);
  while (version_->frozen.size() > kMaxFrozenTables && !stop_ &&
         !flush_failing_) {
    work_cv_.notify_all();
    idle_cv_.wait(lock);
  }
}

void PersistentIndex::WaitIdle() {
  if (options_.read_only || !options_.background) return;
  for (;;) {
    bool busy = false;
    {
      std::lock_guard<std::mutex> manifest_lock(manifest_mu_);
      auto v = Current();
      busy = MergeDue() || !v->frozen.empty() ||
             (v->tables.size() > manifest_.tables.size() &&
              v->tables[manifest_.tables.size()]->info().end_position <=
                  DurableEnd());
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (!background_error_.empty() || stop_) return;
    if (!busy && !flushing_ && !merging_) return;
    work_cv_.notify_all();
    idle_cv_.wait_for(lock, kDurabilityPoll);
  }
}

Status PersistentIndex::Close() {
  if (closed_) return Status::Ok();
  closed_ = true;
  StopThreads();
  if (options_.read_only) return Status::Ok();
  if (!active_->empty()) {
    std::shared_ptr<const MemTable> frozen(std::move(active_));
    active_ =
        std::make_unique<MemTable>(next_position_, options_.anchor_stride);
    std::lock_guard<std::mutex> lock(mu_);
    auto v = std::make_shared<Version>(*version_);
    v->frozen.push_back(std::move(frozen));
    version_ = std::move(v);
  }
  // Write out what the log has made durable; the rest is replayed from the
  // log at the next open.
  const uint64_t durable = DurableEnd();
  Status s;
  for (;;) {
    auto v = Current();
    if (v->frozen.empty() || v->frozen.front()->end_position() > durable) {
      break;
    }
    if (!FlushOne(&s)) break;
    if (!s.ok()) break;
  }
  Status c = Commit();
  // A short-lived writer (one `cairn append`) leaves a table per run and
  // exits before the background merger gets to them; merge what is due
  // now while it is small, so such stores do not pile up tables.
  cancel_merge_ = false;
  Status m;
  while (s.ok() && c.ok() && m.ok() && SmallMergeDue()) {
    if (!MergeOne(&m)) break;
  }
  return s.ok() ? c : s;
}

bool PersistentIndex::SmallMergeDue() const {
  std::lock_guard<std::mutex> lock(manifest_mu_);
  const size_t first = FindMergeRun(manifest_.tables, options_.merge_fan_in);
  if (first == manifest_.tables.size()) return false;
  uint64_t entries = 0;
  for (size_t i = first; i < first + options_.merge_fan_in; ++i) {
    entries += manifest_.tables[i].entry_count;
  }
  return entries <= options_.memtable_entries;
}

Status PersistentIndex::Read(std::string_view stream, uint64_t from,
                             Direction direction, uint64_t max_count,
                             std::vector<IndexedEvent>* out) const {
  if (max_count == 0) return Status::Ok();
  auto last_result = LastRevision(stream);
  if (!last_result.ok()) return last_result.status();
  if (!last_result->has_value()) return Status::Ok();
  const uint64_t last = **last_result;
  const uint64_t hash = hash_(stream);
  auto v = Current();
  // After a scavenge (a table with gaps, or holes skipped by a replay) a
  // stream can miss revisions; the read then goes on past them until it has
  // max_count events or reaches the end, in windows of the revisions still
  // wanted.
  // A window that comes back short crossed removed revisions: the next
  // one is twice as wide, up to kMaxGapSpan revisions, so that a gap of n
  // revisions costs n / kMaxGapSpan windows (and a few), not n (a read of
  // one event from inside a long removed prefix), while a window's entries
  // stay bounded. A window finds at most the events still wanted.
  const bool gaps = gaps_.load(std::memory_order_relaxed);
  std::vector<IndexedEvent> found;
  uint64_t wanted = max_count;
  uint64_t span = max_count;
  if (direction == Direction::kForward) {
    for (uint64_t lo = from; wanted > 0 && lo <= last;) {
      const uint64_t hi = lo + std::min(span - 1, last - lo);
      const size_t before = found.size();
      Status s = ReadWindow(*v, stream, hash, lo, hi, last, gaps, wanted,
                            /*newest_first=*/false, &found);
      if (!s.ok()) return s;
      const uint64_t got = found.size() - before;
      if (got < hi - lo + 1) {
        span = std::max(span, std::min(2 * span, kMaxGapSpan));
      }
      wanted -= got;
      if (hi == last) break;
      lo = hi + 1;
    }
  } else {
    for (uint64_t hi = std::min(from, last); wanted > 0;) {
      const uint64_t lo = hi - std::min(span - 1, hi);
      std::vector<IndexedEvent> window;
      Status s = ReadWindow(*v, stream, hash, lo, hi, last, gaps, wanted,
                            /*newest_first=*/true, &window);
      if (!s.ok()) return s;
      found.insert(found.end(), window.rbegin(), window.rend());
      if (window.size() < hi - lo + 1) {
        span = std::max(span, std::min(2 * span, kMaxGapSpan));
      }
      wanted -= window.size();
      if (lo == 0) break;
      hi = lo - 1;
    }
  }
  out->insert(out->end(), found.begin(), found.end());
  return Status::Ok();
}

Status PersistentIndex::ReadWindow(const Version& v, std::string_view stream,
                                   uint64_t hash, uint64_t lo, uint64_t hi,
                                   uint64_t last, bool gaps, uint64_t max_picks,
                                   bool newest_first,
                                   std::vector<IndexedEvent>* out) const {
  std::vector<Entry> entries;
  active_->Scan(hash, lo, hi, &entries);
  for (const auto& m : v.frozen) m->Scan(hash, lo, hi, &entries);
  for (const auto& t : v.tables) {
    Status s = t->Scan(hash, lo, hi, &entries);
    if (!s.ok()) {
      NoteDamage(s);
      return s;
    }
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.revision != b.revision ? a.revision < b.revision
                                    : a.position < b.position;
  });
  // Without gaps the stream has every revision in [lo, hi] (it reaches
  // `last` without gaps), so a revision with a single entry is the
  // stream's own; only where colliding streams share a revision do the
  // records decide. With gaps a single entry can be a colliding stream's
  // in place of a removed one: the records decide every entry.
  if (gaps) {
    // The revisions with entries, not every one of the window: a window
    // across a long gap costs what it finds, and a record is read only
    // until max_picks events are found. `picked` is in the order found.
    std::vector<IndexedEvent> picked;
    auto pick_group = [&](size_t i, size_t j) -> Status {
      if (entries[i].revision < lo || entries[i].revision > hi) {
        return Status::Ok();
      }
      for (size_t k = i; k < j; ++k) {
        auto name = names_(entries[k].position, entries[k].offset);
        if (!name.ok()) return name.status();
        if (*name == stream) {
          picked.push_back(IndexedEvent{entries[k].revision,
                                        entries[k].position, entries[k].offset,
                                        entries[k].id_tag});
          break;
        }
      }
      return Status::Ok();
    };
    if (!newest_first) {
      for (size_t i = 0; i < entries.size() && picked.size() < max_picks;) {
        size_t j = i;
        while (j < entries.size() &&
               entries[j].revision == entries[i].revision) {
          ++j;
        }
        Status s = pick_group(i, j);
        if (!s.ok()) return s;
        i = j;
      }
      out->insert(out->end(), picked.begin(), picked.end());
    } else {
      for (size_t j = entries.size(); j > 0 && picked.size() < max_picks;) {
        size_t i = j - 1;
        while (i > 0 && entries[i - 1].revision == entries[j - 1].revision) {
          --i;
        }
        Status s = pick_group(i, j);
        if (!s.ok()) return s;
        j = i;
      }
      out->insert(out->end(), picked.rbegin(), picked.rend());
    }
    return Status::Ok();
  }
  size_t i = 0;
  for (uint64_t r = lo; r <= hi; ++r) {
    while (i < entries.size() && entries[i].revision < r) ++i;
    size_t j = i;
    while (j < entries.size() && entries[j].revision == r) ++j;
    const Entry* pick = nullptr;
    if (j - i == 1) {
      pick = &entries[i];
    } else {
      for (size_t k = i; k < j; ++k) {
        auto name = names_(entries[k].position, entries[k].offset);
        if (!name.ok()) return name.status();
        if (*name == stream) {
          pick = &entries[k];
          break;
        }
      }
    }
    if (pick == nullptr) {
      return Status::Corruption(
          dir_, 0,
          "the index has no entry for revision " + std::to_string(r) +
              " of stream '" + std::string(stream) + "' (its last is " +
              std::to_string(last) +
              "); `cairn index rebuild` recreates the index from the log");
    }
    out->push_back(IndexedEvent{pick->revision, pick->position, pick->offset,
                                pick->id_tag});
    i = j;
  }
  return Status::Ok();
}

Status PersistentIndex::FindTagged(std::string_view stream, uint64_t lo,
                                   uint64_t hi, std::span<const uint32_t> tags,
                                   std::vector<IndexedEvent>* out) const {
  if (lo > hi || tags.empty()) return Status::Ok();
  const uint64_t hash = hash_(stream);
  auto v = Current();
  // The in-memory tables hold the newest positions, so the stream's
  // revisions from the oldest they hold on; the files answer for those
  // below it: below files_end, all of [lo, hi] unless the oldest table
  // holding the hash can tell where the stream starts there. It can when
  // the oldest entry of its chain is the stream's own: the hash alone does
  // not tell (colliding streams share the chain), the record's name does.
  std::vector<Entry> entries;
  uint64_t files_end = hi + 1;
  std::optional<Entry> oldest;
  bool seen = false;
  auto scan_memory = [&](const MemTable& m) {
    if (!seen && m.Contains(hash)) {
      seen = true;
      oldest = m.OldestEntry(hash);
    }
    m.ScanTagged(hash, tags, lo, hi, &entries);
  };
  for (const auto& m : v->frozen) scan_memory(*m);
  scan_memory(*active_);
  if (oldest.has_value() && oldest->revision < files_end) {
    auto name = names_(oldest->position, oldest->offset);
    if (!name.ok()) return name.status();
    if (*name == stream) files_end = oldest->revision;
  }
  if (files_end > lo) {
    std::vector<Entry> scanned;
    for (const auto& t : v->tables) {
      scanned.clear();
      Status s = t->Scan(hash, lo, files_end - 1, &scanned);
      if (!s.ok()) {
        NoteDamage(s);
        return s;
      }
      for (const Entry& e : scanned) {
        if (std::binary_search(tags.begin(), tags.end(), e.id_tag)) {
          entries.push_back(e);
        }
      }
    }
  }
  // Newest first, each position once (a frozen table and the file written
  // from it can both be current for a moment).
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.position > b.position;
  });
  entries.erase(std::unique(entries.begin(), entries.end(),
                            [](const Entry& a, const Entry& b) {
                              return a.position == b.position;
                            }),
                entries.end());
  for (const Entry& e : entries) {
    auto name = names_(e.position, e.offset);
    if (!name.ok()) return name.status();
    if (*name != stream) continue;  // a colliding stream's event
    out->push_back(IndexedEvent{e.revision, e.position, e.offset, e.id_tag});
  }
  return Status::Ok();
}

Result<std::optional<IndexedEvent>> PersistentIndex::Find(
    std::string_view stream, uint64_t revision) const {
  std::vector<IndexedEvent> events;
  Status s = Read(stream, revision, Direction::kForward, 1, &events);
  if (!s.ok()) return s;
  // Across a gap the read returns the next kept revision: not this one.
  if (events.empty() || events.front().revision != revision) {
    return std::optional<IndexedEvent>();
  }
  return std::optional<IndexedEvent>(events.front());
}

std::optional<uint32_t> PersistentIndex::Anchor(uint64_t position) const {
  if (position >= active_->first_position()) return active_->Anchor(position);
  auto v = Current();
  for (auto it = v->frozen.rbegin(); it != v->frozen.rend(); ++it) {
    if (position >= (*it)->first_position()) return (*it)->Anchor(position);
  }
  auto it =
      std::upper_bound(v->tables.begin(), v->tables.end(), position,
                       [](uint64_t p, const std::shared_ptr<const Table>& t) {
                         return p < t->info().first_position;
                       });
  if (it == v->tables.begin()) return std::nullopt;
  return (*--it)->Anchor(position);
}

uint64_t PersistentIndex::memory_entries() const {
  auto v = Current();
  uint64_t n = active_->size();
  for (const auto& m : v->frozen) n += m->size();
  return n;
}

uint64_t PersistentIndex::tables_end() const {
  auto v = Current();
  return v->tables.empty() ? first_position_
                           : v->tables.back()->info().end_position;
}

Status PersistentIndex::AdoptWriterTables(bool* adopted) {
  *adopted = false;
  if (!options_.read_only) {
    return Status::InvalidArgument("only a read-only index adopts tables");
  }
  auto current = Current();
  const uint64_t loaded_end = tables_end();
  Manifest m;
  std::vector<std::shared_ptr<const Table>> tables;
  // Whether a table new to this index has gaps: the writer's scavenge
  // rewrote tables, and may have removed streams' last events.
  bool rewritten = false;
  for (int attempt = 1;; ++attempt) {
    tables.clear();
    rewritten = false;
    if (!fs_->Exists(dir_) || !ReadManifest(fs_, dir_, &m).ok()) {
      return Status::Ok();
    }
    if (m == manifest_ ||
        (rejected_generation_ && m.generation <= *rejected_generation_) ||
        m.store_id != store_id_ ||
        m.stream_hash_id != options_.stream_hash_id ||
        m.anchor_stride != options_.anchor_stride || m.tables.empty() ||
        m.tables.front().first_position != first_position_ ||
        m.end_position() < loaded_end) {
      // Nothing new, rejected, not this index's, or behind what is loaded
      // (a writer rebuilding its index): keep the loaded tables.
      return Status::Ok();
    }
    bool complete = true;
    for (const ManifestTable& record : m.tables) {
      std::shared_ptr<const Table> table;
      for (const auto& held : current->tables) {
        if (held->info().number == record.number &&
            RecordOf(held->info()) == record) {
          table = held;
          break;
        }
      }
      if (table == nullptr) {
        auto opened = OpenTable(record.number);
        if (!opened.ok() || RecordOf((*opened)->info()) != record) {
          complete = false;
          break;
        }
        table = std::move(opened.value());
        rewritten |= table->info().has_gaps();
      }
      tables.push_back(std::move(table));
    }
    if (complete) break;
    // The writer merged a listed table away after this manifest was read
    // (a newer manifest lists its replacement), or the table is damaged.
    if (attempt == kAdoptAttempts) return Status::Ok();
  }

  for (const auto& t : tables) {
    if (t->info().has_gaps()) gaps_.store(true, std::memory_order_relaxed);
  }
  // Keep in memory only what follows the adopted tables.
  const uint64_t end = m.end_position();
  auto v = std::make_shared<Version>();
  v->tables = std::move(tables);
  // Last revisions cached from memory may be older than the tables', or
  // name events a scavenge removed: the cache starts again once the new
  // version is published.
  const bool clear_cache = rewritten || end > next_position_;
  if (end >= next_position_) {
    next_position_ = end;
    active_ = NewMemTable(end);
  } else {
    for (const auto& frozen : current->frozen) {
      if (frozen->end_position() <= end) continue;
      if (frozen->first_position() >= end) {
        v->frozen.push_back(frozen);
        continue;
      }
      v->frozen.push_back(std::make_shared<MemTable>(*frozen, end));
    }
    if (active_->first_position() < end) {
      active_ = std::make_unique<MemTable>(*active_, end);
    }
  }
  {
    std::lock_guard<std::mutex> manifest_lock(manifest_mu_);
    manifest_ = std::move(m);
    Publish(std::move(v));
  }
  if (clear_cache) {
    std::lock_guard<std::mutex> lock(cache_mu_);
    cache_.Clear();
  }
  *adopted = true;
  return Status::Ok();
}

uint64_t PersistentIndex::StreamCount() const {
  auto v = Current();
  uint64_t n = active_->new_streams();
  for (const auto& m : v->frozen) n += m->new_streams();
  for (const auto& t : v->tables) n += t->info().new_streams;
  return n;
}

IndexStats PersistentIndex::Stats() const {
  IndexStats st;
  {
    std::lock_guard<std::mutex> manifest_lock(manifest_mu_);
    st.checkpoint = manifest_.end_position();
    auto v = Current();
    for (size_t i = 0; i < v->tables.size(); ++i) {
      const TableInfo& info = v->tables[i]->info();
      IndexStats::TableStats t;
      t.number = info.number;
      t.level = info.level;
      t.first_position = info.first_position;
      t.end_position = info.end_position;
      t.entries = info.entry_count;
      t.bytes = v->tables[i]->file_size();
      t.durable = i < manifest_.tables.size();
      t.repaired_blocks = v->tables[i]->repaired_blocks();
      st.tables.push_back(t);
    }
    st.frozen_memtables = v->frozen.size();
    for (const auto& m : v->frozen) {
      st.memtable_entries += m->size();
      st.memtable_bytes += m->memory_bytes();
    }
  }
  st.memtable_entries += active_->size();
  st.memtable_bytes += active_->memory_bytes();
  st.next_position = next_position_;
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    st.cache_streams = cache_.size();
    st.cache_bytes = cache_.memory_bytes();
    st.cache_hits = cache_.hits();
    st.cache_misses = cache_.misses();
  }
  st.streams = StreamCount();
  st.flushes = flushes_.load();
  st.merges = merges_.load();
  st.merged_entries = merged_entries_.load();
  {
    std::lock_guard<std::mutex> lock(mu_);
    st.background_error = background_error_;
  }
  return st;
}

}  // namespace cairn::index

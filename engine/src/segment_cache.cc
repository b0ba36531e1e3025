// Copyright (c) Cairn authors.
#include "engine/src/segment_cache.h"

#include <iterator>

namespace cairn::engine {

Result<SegmentCache::Mapping> SegmentCache::Open(
    const std::string& path, const segment::SegmentHeader& header) const {
  auto file = fs_->OpenFile(path, io::OpenMode::kReadOnly);
  if (!file.ok()) return file.status();
  auto size = (*file)->Size();
  if (!size.ok()) return size.status();
  auto map = (*file)->Map(0, static_cast<size_t>(*size));
  if (!map.ok()) return map.status();
  Mapping mapping = std::move(map.value());
  // The mapping outlives the descriptor: close it now, so that open
  // segments cost no file descriptor.
  (void)(*file)->Close();
  segment::SegmentHeader now;
  segment::ScavengedFields fields;
  Status s = segment::DecodeAnySegmentHeader(mapping->data(), mapping->size(),
                                             path, &now, &fields);
  if (!s.ok()) return s;
  if (now != header) {
    return Status::Corruption(path, 0,
                              "segment header differs from the one verified "
                              "when the store was opened (the file was "
                              "replaced)");
  }
  return mapping;
}

SegmentCache::Mapping SegmentCache::Insert(const std::string& path,
                                           Mapping mapping,
                                           std::list<Entry>* evicted) {
  auto it = entries_.find(path);
  if (it != entries_.end()) {
    // Someone else opened it meanwhile: keep theirs, drop this one.
    lru_.splice(lru_.begin(), lru_, it->second);
    evicted->emplace_back(path, std::move(mapping));
    return it->second->second;
  }
  lru_.emplace_front(path, std::move(mapping));
  entries_[path] = lru_.begin();
  while (lru_.size() > capacity_) {
    entries_.erase(lru_.back().first);
    evicted->splice(evicted->end(), lru_, std::prev(lru_.end()));
  }
  return lru_.front().second;
}

Result<SegmentCache::Mapping> SegmentCache::Get(
    const std::string& path, const segment::SegmentHeader& header) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(path);
    if (it != entries_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      return it->second->second;
    }
  }
  // Opened without the lock: other segments stay readable meanwhile.
  auto opened = Open(path, header);
  if (!opened.ok()) return opened.status();
  std::list<Entry> evicted;
  Mapping mapping;
  {
    std::lock_guard<std::mutex> lock(mu_);
    mapping = Insert(path, std::move(opened.value()), &evicted);
  }
  return mapping;  // `evicted` is unmapped here, without the lock
}

void SegmentCache::Put(const std::string& path, Mapping mapping) {
  std::list<Entry> evicted;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(path);
  if (it != entries_.end()) {
    evicted.splice(evicted.end(), lru_, it->second);
    entries_.erase(it);
  }
  Insert(path, std::move(mapping), &evicted);
}

SegmentCache::Mapping SegmentCache::Take(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(path);
  if (it == entries_.end()) return nullptr;
  Mapping mapping = std::move(it->second->second);
  lru_.erase(it->second);
  entries_.erase(it);
  return mapping;
}

size_t SegmentCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lru_.size();
}

}  // namespace cairn::engine

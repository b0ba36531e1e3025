// Copyright (c) Cairn authors.
#include "bench/serve/ceiling_log.h"

#include <algorithm>
#include <utility>

namespace cairn::bench::serve {

std::optional<uint64_t> CeilingGroup::Take(uint64_t count) {
  std::lock_guard<std::mutex> lock(mu_);
  if (next_ >= count) return std::nullopt;
  return next_++;
}

uint64_t CeilingLog::StreamEvents(const std::string& stream,
                                  std::shared_ptr<const CeilingEvent>* event) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = streams_.find(stream);
  if (it == streams_.end()) return 0;
  *event = it->second.event;
  return it->second.events;
}

uint64_t CeilingLog::AllEvents(std::shared_ptr<const CeilingEvent>* event) {
  std::lock_guard<std::mutex> lock(mu_);
  *event = last_;
  return total_;
}

bool CeilingLog::CreateGroup(const std::string& stream,
                             const std::string& group) {
  std::lock_guard<std::mutex> lock(mu_);
  return groups_
      .emplace(std::make_pair(stream, group),
               std::make_shared<CeilingGroup>(stream))
      .second;
}

std::shared_ptr<CeilingGroup> CeilingLog::FindGroup(const std::string& stream,
                                                    const std::string& group) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = groups_.find(std::make_pair(stream, group));
  return it == groups_.end() ? nullptr : it->second;
}

void CeilingLog::AddSubscriber(CeilingSubscriber* subscriber) {
  std::lock_guard<std::mutex> lock(mu_);
  subscribers_.push_back(subscriber);
  subscriber_count_.store(subscribers_.size(), std::memory_order_release);
}

void CeilingLog::RemoveSubscriber(CeilingSubscriber* subscriber) {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase(subscribers_, subscriber);
  subscriber_count_.store(subscribers_.size(), std::memory_order_release);
}

}  // namespace cairn::bench::serve

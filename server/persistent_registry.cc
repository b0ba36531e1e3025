// Copyright (c) Cairn authors.
#include "server/persistent_registry.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "server/persistent_config.h"
#include "server/persistent_errors.h"

namespace cairn::server {
namespace {

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Status PersistentRegistry::Load() {
  ReadStreamOptions last;
  last.direction = Direction::kBackward;
  last.max_count = 1;
  auto read = store_->ReadStream(kPersistentConfigStream, last);
  std::lock_guard lock(mu_);
  if (read.status().IsNotFound()) return Status::Ok();
  if (!read.ok()) return read.status();
  config_revision_ = read->last_revision.value();
  if (read->events.empty()) return Status::Ok();
  auto definitions = PersistentConfigFromJson(read->events.front().data);
  if (!definitions.ok()) {
    // The server does not start without its groups rather than forget
    // them; the operator appends a corrected configuration (cairn append).
    return Status::InvalidArgument(
        "the persistent subscription configuration (" +
        std::string(kPersistentConfigStream) + " revision " +
        std::to_string(*config_revision_) +
        ") is not valid: " + definitions.status().message());
  }
  definitions_.clear();
  for (PersistentDefinition& d : *definitions) {
    std::string key = d.Key();
    definitions_.emplace(std::move(key), std::move(d));
  }
  return Status::Ok();
}

std::optional<PersistentDefinition> PersistentRegistry::Find(
    std::string_view stream, std::string_view group) {
  PersistentDefinition probe;
  probe.stream = std::string(stream);
  probe.group = std::string(group);
  std::lock_guard lock(mu_);
  auto it = definitions_.find(probe.Key());
  if (it == definitions_.end()) return std::nullopt;
  return it->second;
}

std::vector<PersistentDefinition> PersistentRegistry::List(
    std::optional<std::string_view> stream) {
  std::vector<PersistentDefinition> out;
  std::lock_guard lock(mu_);
  for (const auto& [key, d] : definitions_) {
    if (!stream || d.stream == *stream) out.push_back(d);
  }
  return out;
}

Status PersistentRegistry::Write(
    const std::map<std::string, PersistentDefinition>& next,
    std::string_view updated_by) {
  std::vector<PersistentDefinition> all;
  all.reserve(next.size());
  for (const auto& [key, d] : next) all.push_back(d);
  EventData event;
  event.id = EventId::Generate();
  event.type = std::string(kPersistentConfigEventType);
  event.data = PersistentConfigToJson(all, updated_by, NowMicros());
  // Another writer of the stream (none is expected) makes this fail
  // rather than lose its change.
  const ExpectedVersion expected =
      config_revision_ ? ExpectedVersion::Exact(*config_revision_)
                       : ExpectedVersion::NoStream();
  auto written = store_->Append(kPersistentConfigStream, expected,
                                std::span<const EventData>(&event, 1));
  if (!written.ok()) return written.status();
  config_revision_ = written->last_revision.value();
  return Status::Ok();
}

Status PersistentRegistry::ResolveEnd(PersistentDefinition* definition) {
  if (definition->start) return Status::Ok();
  if (definition->all()) {
    ReadAllOptions last;
    last.direction = Direction::kBackward;
    last.max_count = 1;
    auto read = store_->ReadAll(last);
    if (!read.ok()) return read.status();
    definition->end_at =
        read->events.empty() ? 0 : read->events[0].position.value() + 1;
    return Status::Ok();
  }
  auto last = store_->GetStreamRevision(definition->stream);
  if (!last.ok()) return last.status();
  definition->end_at = last->has_value() ? (*last)->value() + 1 : 0;
  return Status::Ok();
}

RpcError PersistentRegistry::Create(PersistentDefinition definition,
                                    std::string_view updated_by) {
  std::lock_guard lock(mu_);
  const std::string key = definition.Key();
  if (definitions_.contains(key)) {
    return PersistentSubscriptionExists(definition.stream, definition.group);
  }
  if (Status s = ResolveEnd(&definition); !s.ok()) return FromStoreStatus(s);
  auto next = definitions_;
  next.emplace(key, definition);
  if (Status s = Write(next, updated_by); !s.ok()) return FromStoreStatus(s);
  definitions_ = std::move(next);
  return Ok();
}

RpcError PersistentRegistry::Update(PersistentDefinition definition,
                                    std::string_view updated_by) {
  {
    std::lock_guard lock(mu_);
    const std::string key = definition.Key();
    if (!definitions_.contains(key)) {
      return PersistentSubscriptionNotFound(definition.stream,
                                            definition.group);
    }
    if (Status s = ResolveEnd(&definition); !s.ok()) {
      return FromStoreStatus(s);
    }
    auto next = definitions_;
    next[key] = definition;
    if (Status s = Write(next, updated_by); !s.ok()) {
      return FromStoreStatus(s);
    }
    definitions_ = std::move(next);
  }
  // Members reconnect and join the group again with the new settings.
  Status s = store_->EndConsumerGroup(definition.group,
                                      definition.EngineStream(), false);
  return s.ok() ? Ok() : FromStoreStatus(s);
}

RpcError PersistentRegistry::Delete(std::string_view stream,
                                    std::string_view group,
                                    std::string_view updated_by) {
  PersistentDefinition removed;
  {
    std::lock_guard lock(mu_);
    PersistentDefinition probe;
    probe.stream = std::string(stream);
    probe.group = std::string(group);
    auto it = definitions_.find(probe.Key());
    if (it == definitions_.end()) {
      return PersistentSubscriptionNotFound(stream, group);
    }
    removed = it->second;
    auto next = definitions_;
    next.erase(probe.Key());
    if (Status s = Write(next, updated_by); !s.ok()) {
      return FromStoreStatus(s);
    }
    definitions_ = std::move(next);
    replays_.erase(probe.Key());
  }
  Status s =
      store_->EndConsumerGroup(removed.group, removed.EngineStream(), true);
  return s.ok() ? Ok() : FromStoreStatus(s);
}

void PersistentRegistry::RestartAll() {
  for (const PersistentDefinition& d : List(std::nullopt)) {
    // A group that can not be ended now keeps its members; nothing is
    // lost either way.
    (void)store_->EndConsumerGroup(d.group, d.EngineStream(), false);
  }
}

void PersistentRegistry::Connect(
    const std::string& key,
    const std::shared_ptr<PersistentConnection>& connection) {
  std::lock_guard lock(mu_);
  connections_[key].push_back(connection);
}

void PersistentRegistry::Disconnect(
    const std::string& key,
    const std::shared_ptr<PersistentConnection>& connection) {
  std::lock_guard lock(mu_);
  auto it = connections_.find(key);
  if (it == connections_.end()) return;
  std::erase(it->second, connection);
  if (it->second.empty()) connections_.erase(it);
}

std::vector<std::shared_ptr<PersistentConnection>>
PersistentRegistry::Connections(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = connections_.find(key);
  if (it == connections_.end()) return {};
  return it->second;
}

void PersistentRegistry::DeferReplay(const std::string& key,
                                     std::optional<uint64_t> max_events) {
  std::lock_guard lock(mu_);
  replays_[key] = max_events;
}

std::optional<std::optional<uint64_t>> PersistentRegistry::TakeReplay(
    const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = replays_.find(key);
  if (it == replays_.end()) return std::nullopt;
  std::optional<uint64_t> max_events = it->second;
  replays_.erase(it);
  return max_events;
}

}  // namespace cairn::server

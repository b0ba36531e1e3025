// Copyright (c) Cairn authors.
//
// The server's persistent subscriptions: their definitions, loaded from
// the store at start and written back (persistent_config.h) on every
// change, one change at a time, so they survive a restart; the Read calls
// connected to each; and replays asked for while no call was connected,
// which the next connection starts. The engine consumer group of a
// definition holds its checkpoint, parked stream and in-flight events.
#ifndef CAIRN_SERVER_PERSISTENT_REGISTRY_H_
#define CAIRN_SERVER_PERSISTENT_REGISTRY_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/store.h"
#include "server/persistent_settings.h"
#include "server/rpc_error.h"

namespace cairn::server {

// One connected Read call, as GetInfo reports it.
struct PersistentConnection {
  std::string from;  // the peer
  std::string username;
  std::string connection_name;
  int32_t buffer_size = 0;
  std::atomic<int64_t> delivered{0};
  std::atomic<int32_t> in_flight{0};
};

class PersistentRegistry {
 public:
  explicit PersistentRegistry(Store* store) : store_(store) {}

  // Reads the newest stored definitions.
  Status Load();

  std::optional<PersistentDefinition> Find(std::string_view stream,
                                           std::string_view group);
  // Every definition (of `stream` only, when given), by key.
  std::vector<PersistentDefinition> List(
      std::optional<std::string_view> stream);

  // Stores the change: OK, PersistentSubscriptionExists (Create) or
  // PersistentSubscriptionNotFound (Update, Delete), or the store's
  // failure. Update and Delete end the definition's engine group (its
  // members' calls end), Delete forgetting its checkpoint and parked
  // events.
  RpcError Create(PersistentDefinition definition, std::string_view updated_by);
  RpcError Update(PersistentDefinition definition, std::string_view updated_by);
  RpcError Delete(std::string_view stream, std::string_view group,
                  std::string_view updated_by);
  // Ends every engine group; their calls end and clients reconnect.
  void RestartAll();

  void Connect(const std::string& key,
               const std::shared_ptr<PersistentConnection>& connection);
  void Disconnect(const std::string& key,
                  const std::shared_ptr<PersistentConnection>& connection);
  std::vector<std::shared_ptr<PersistentConnection>> Connections(
      const std::string& key);

  // A replay of at most `max_events` (nullopt: all) for the next
  // connection of `key`, and taking it.
  void DeferReplay(const std::string& key, std::optional<uint64_t> max_events);
  std::optional<std::optional<uint64_t>> TakeReplay(const std::string& key);

 private:
  // Sets definition->end_at to the end of its stream or of $all now.
  Status ResolveEnd(PersistentDefinition* definition);
  // Writes `next` as the new set (mu_ held).
  Status Write(const std::map<std::string, PersistentDefinition>& next,
               std::string_view updated_by);

  Store* const store_;
  std::mutex mu_;
  std::map<std::string, PersistentDefinition> definitions_;  // by Key()
  // The config stream's last revision, for the next write's expectation.
  std::optional<uint64_t> config_revision_;
  std::map<std::string, std::vector<std::shared_ptr<PersistentConnection>>>
      connections_;
  std::map<std::string, std::optional<uint64_t>> replays_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_PERSISTENT_REGISTRY_H_

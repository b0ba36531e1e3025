// Copyright (c) Cairn authors.
//
// A consumer group: one dispatcher thread reads the log from the group's
// checkpoint and hands each event to one member, partitioned by stream.
//
// Ordering rule: a stream is "owned" by one member while any of its events
// is queued for or in flight at that member; only a stream with nothing
// outstanding may move to another member (rendezvous hashing over the
// current members picks the new owner). So a join or a leave never lets two
// members hold events of one stream at once, and each stream's events are
// handed out, and can be processed, in log order. A member that leaves
// hands its queued and unacknowledged events to the new owners, in order.
//
// Checkpoint rule: the group's durable checkpoint is the lowest position
// still outstanding (or the read position when none is): everything below
// it was acknowledged. After a crash the group resumes there, so events
// acknowledged after the last save are delivered again (at-least-once; the
// window is one checkpoint_every interval plus max_in_flight per member).
//
// Failure rule: when the dispatcher can not read on (damage in the log, a
// failed refresh of a read-only opener), it hands out the events it read
// before the failure and stops; each member then receives its queued
// events and after them the error, on every later Receive, until the
// group is rebuilt (every member left and one joins again). When the store
// closes, every member's calls return Closed; the group saves its
// checkpoint before the store closes.
#ifndef CAIRN_ENGINE_SRC_CONSUMER_GROUP_H_
#define CAIRN_ENGINE_SRC_CONSUMER_GROUP_H_

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "cairn/subscription.h"
#include "engine/src/store_impl.h"

namespace cairn::engine {

class ConsumerGroup final : public Follower {
 public:
  static Result<std::shared_ptr<ConsumerGroup>> Create(
      StoreImpl* store, std::string name, const ConsumerGroupOptions& options);
  ~ConsumerGroup() override;

  Result<std::unique_ptr<GroupMember>> Join(
      const std::shared_ptr<ConsumerGroup>& self);
  // The store is closing: stops the dispatcher and saves the checkpoint.
  void StopFollowing() override;

  Result<std::vector<RecordedEvent>> Receive(uint64_t member, size_t max,
                                             std::chrono::milliseconds timeout);
  Status Ack(uint64_t member, GlobalPosition position);
  void Leave(uint64_t member);

  // The name of the group's checkpoint in the store.
  static std::string CheckpointName(const std::string& group) {
    return "group-" + group;
  }

 private:
  struct Member {
    std::deque<RecordedEvent> queue;
    std::map<uint64_t, RecordedEvent> in_flight;  // by position
  };

  ConsumerGroup(StoreImpl* store, std::string name,
                const ConsumerGroupOptions& options, uint64_t start);
  void Dispatch();
  // Reads from `from` and assigns what it read; an error stops the
  // dispatcher (recorded in failure_). False once it must stop.
  bool DispatchOnce(uint64_t from, uint64_t room, uint64_t epoch,
                    std::vector<RecordedEvent>* batch);
  // Owner for a stream with nothing outstanding (mu_ held, members_ not
  // empty).
  uint64_t PickOwner(const std::string& stream) const;
  // Hands `event` to its stream's owner (mu_ held).
  void Assign(RecordedEvent event);
  void MaybeSaveCheckpoint(bool force);
  void Shutdown(const Status& status);

  // Used by dispatcher_ only, which the store's Close() joins before the
  // store goes; calls from members go through registry_.
  StoreImpl* const store_;
  const std::shared_ptr<FollowerRegistry> registry_;
  const std::string name_;
  const ConsumerGroupOptions options_;

  std::mutex mu_;
  std::condition_variable members_cv_;   // events queued for members
  std::condition_variable dispatch_cv_;  // room freed / members changed
  std::map<uint64_t, Member> members_;
  uint64_t next_member_id_ = 1;
  std::unordered_map<std::string, uint64_t> owner_;
  std::unordered_map<std::string, uint64_t> outstanding_;
  std::set<uint64_t> pending_;  // positions handed out, not acknowledged
  uint64_t read_position_;
  // Bumped when the last member leaves and read_position_ is rewound, so a
  // dispatcher batch read before that is discarded, not applied.
  uint64_t epoch_ = 0;
  bool stopping_ = false;
  Status stop_status_;  // guarded by mu_: what Receive says once stopping
  // guarded by mu_: why the dispatcher stopped on its own (members get it
  // once their queues are empty).
  Status failure_;
  std::atomic<bool> stop_{false};

  std::mutex save_mu_;         // one checkpoint write at a time
  uint64_t saved_checkpoint_;  // guarded by save_mu_
  std::chrono::steady_clock::time_point last_save_;  // guarded by save_mu_

  std::mutex join_mu_;
  std::thread dispatcher_;
};

}  // namespace cairn::engine

#endif  // CAIRN_ENGINE_SRC_CONSUMER_GROUP_H_

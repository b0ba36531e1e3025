// Copyright (c) Cairn authors.
//
// A consumer group: one dispatcher thread reads the log (or one stream)
// from the group's checkpoint and hands each event to one member, as the
// group's ConsumerStrategy picks it. A $all group's cursor is a global
// position; a stream group's is the stream's next revision (its link
// revision in a $ce-/$et- stream): read_position_, pending_ and the
// checkpoint all count in the group's cursor (CursorOf).
//
// Strategies other than kOrderedByStream pick a member per event (and
// again per retry) and keep no order: the ordering rule below and the
// holding back of a retried event's stream apply to kOrderedByStream only.
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
// read from the log still outstanding (or the read position when none is):
// everything below it was acknowledged. After a crash the group resumes there,
// so events acknowledged after the last save are delivered again
// (at-least-once; the window is one checkpoint_every interval plus
// max_in_flight per member).
//
// Retry rule: a retried event (NackAction::kRetry, or its message timeout
// expired) stays outstanding, so its stream keeps its owner (or, when it
// is the stream's only outstanding event, goes to whichever member
// rendezvous hashing picks now). It is queued first at the owner, and while
// it is in flight again the owner's later events of that stream are held
// back, so they are not handed out before it is handled. After
// max_retry_count retries it is parked instead. Expiry is checked on the
// dispatcher thread, against options.clock, on every pass of its loop (at
// least every 100 ms).
//
// Park rule: parking appends a link to the parked stream (parked_stream.h)
// through the store's ordinary append path, and only a durable link makes
// the event handled; a failed append retries it instead. A replay
// (ReplayParked) reads the parked stream from the first revision not yet
// replayed and queues the linked events as retries outside the checkpoint
// (their links keep them safe); the parked stream's $tb advances past
// entries once they, and every replayed entry before them, were handled.
// Retry counts and a replay in progress live in memory only: a restart,
// or every member leaving, resets them (the links are still parked).
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
#include <optional>
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
  using Clock = std::chrono::steady_clock;

  // The group's key among the store's groups ("<stream>::<group>", "$all"
  // for a $all group), and the checks JoinConsumerGroup makes on the
  // names.
  static std::string Key(std::string_view group,
                         std::optional<std::string_view> stream);
  static Status ValidateNames(std::string_view group,
                              std::optional<std::string_view> stream);
  // Removes a group's durable state: its checkpoint and parked stream.
  static Status Forget(StoreImpl& store, std::string_view group,
                       std::optional<std::string_view> stream);

  static Result<std::shared_ptr<ConsumerGroup>> Create(
      StoreImpl* store, std::string name, const ConsumerGroupOptions& options);
  ~ConsumerGroup() override;

  Result<std::unique_ptr<GroupMember>> Join(
      const std::shared_ptr<ConsumerGroup>& self);
  // The store is closing: stops the dispatcher and saves the checkpoint
  // and the parked stream's truncation.
  void StopFollowing() override;

  Result<std::vector<GroupDelivery>> Receive(uint64_t member, size_t max,
                                             std::chrono::milliseconds timeout);
  Status Ack(uint64_t member, GlobalPosition position);
  Status Nack(uint64_t member, GlobalPosition position, NackAction action,
              std::string_view reason);
  void Leave(uint64_t member);

  // Store::ReplayParkedEvents and GetConsumerGroupInfo for a live group.
  Status ReplayParked(std::optional<uint64_t> max_events);
  Result<ConsumerGroupInfo> Info();
  // GetConsumerGroupInfo for a group with no member: the durable figures.
  // Parked entries before `replayed_before` count as replayed.
  static Result<ConsumerGroupInfo> DurableInfo(
      StoreImpl& store, const std::string& name,
      std::optional<std::string_view> stream, uint64_t replayed_before);
  // Store::EndConsumerGroup for a live group: stops it (members get
  // NotFound when `forget`, else Closed) and saves its state unless it is
  // to be forgotten.
  void End(bool forget);

  // The name of the group's checkpoint in the store: "group-<name>" for a
  // $all group with a plain name (CheckpointStore::ValidateName), else
  // "psub-" and the key with every other byte escaped as _XX.
  static std::string CheckpointName(std::string_view group,
                                    std::optional<std::string_view> stream);

 private:
  // An event handed out and not yet handled.
  struct Delivery {
    RecordedEvent event;
    uint32_t retries = 0;
    // Set for a replayed parked event: its revision in the parked stream.
    std::optional<uint64_t> parked_revision;
    Clock::time_point deadline{};  // in flight: when it times out
  };
  struct Member {
    std::deque<Delivery> queue;
    std::map<uint64_t, Delivery> in_flight;  // by position
    uint64_t delivered = 0;
  };

  ConsumerGroup(StoreImpl* store, std::string name,
                const ConsumerGroupOptions& options, uint64_t start);
  Clock::time_point Now() const;
  bool ordered() const {
    return options_.strategy == ConsumerStrategy::kOrderedByStream;
  }
  // Where `event` is in the group's cursor.
  uint64_t CursorOf(const RecordedEvent& event) const;
  // Whether `event` is queued or in flight at a member already, from the
  // log or from a replay (mu_ held).
  bool Outstanding(const RecordedEvent& event) const;
  // Events the group may hold outstanding now (mu_ held).
  uint64_t Capacity() const;
  // Whether the dispatcher should read now (mu_ held): there is room, and
  // either enough of it for a batch (a quarter of the capacity, at most a
  // read batch) or a member has nothing queued. Refilling after every ack
  // would cost a wake-up and a one-event read per ack; a member that runs
  // dry is served at once, so batching never starves one.
  bool WantsEvents() const;
  void Dispatch();
  // Reads the next events of the followed stream into `batch`; `next` is
  // the cursor after them (unchanged when there are none).
  Status ReadStreamBatch(uint64_t from, uint64_t room, uint64_t end,
                         std::vector<RecordedEvent>* batch, uint64_t* next);
  // Reads from `from` and assigns what it read; an error stops the
  // dispatcher (recorded in failure_). False once it must stop.
  bool DispatchOnce(uint64_t from, uint64_t room, uint64_t epoch,
                    std::vector<RecordedEvent>* batch);
  // Owner for a stream with nothing outstanding (mu_ held, members_ not
  // empty).
  uint64_t PickOwner(const std::string& stream) const;
  // The member the strategy picks for `event` (not kOrderedByStream; mu_
  // held, members_ not empty).
  uint64_t PickMember(const RecordedEvent& event);
  // Makes `delivery` outstanding and queues it at its stream's owner
  // (mu_ held, members_ not empty).
  void Assign(Delivery delivery);
  // Events outstanding: what flow control counts (mu_ held).
  uint64_t OutstandingCount() const {
    return pending_.size() + replaying_.size();
  }
  // `position` among `member`'s in-flight events (mu_ held).
  Result<std::map<uint64_t, Delivery>::iterator> FindInFlight(
      uint64_t member, uint64_t position);
  // Whether `delivery`, in flight, holds back its stream's later events.
  bool Holds(const Delivery& delivery) const {
    return ordered() && delivery.retries > 0;
  }
  // Takes `position` out of `member`'s in-flight events (mu_ held).
  Result<Delivery> TakeInFlight(uint64_t member, uint64_t position);
  // `delivery` (taken out of flight, still outstanding) is done (mu_
  // held).
  void Handled(const Delivery& delivery);
  // Queues `delivery` (taken out of flight) again, first at its stream's
  // owner, one retry more (mu_ held).
  void Retry(Delivery delivery);
  // Appends the link parking `delivery` (taken out of flight in `epoch`;
  // mu_ not held), then marks it handled, or retries it if the append
  // failed.
  Status Park(Delivery delivery, std::string_view reason, uint64_t epoch);
  // Retries or parks the in-flight events whose deadline passed.
  void ExpireDeliveries();
  // Advances the parked stream's $tb past handled replays.
  void TruncateReplayed();
  void MaybeSaveCheckpoint(bool force);
  void Shutdown(const Status& status);

  // Used by dispatcher_ only, which the store's Close() joins before the
  // store goes; calls from members go through registry_.
  StoreImpl* const store_;
  const std::shared_ptr<FollowerRegistry> registry_;
  const std::string name_;
  const std::optional<std::string> stream_;  // nullopt: $all
  const std::string checkpoint_name_;
  const std::string parked_stream_;
  const std::string parked_metastream_;  // where its $tb is set
  const ConsumerGroupOptions options_;

  std::mutex mu_;
  std::condition_variable members_cv_;   // events queued for members
  std::condition_variable dispatch_cv_;  // room freed / members changed
  std::map<uint64_t, Member> members_;
  uint64_t next_member_id_ = 1;
  std::unordered_map<std::string, uint64_t> owner_;
  std::unordered_map<std::string, uint64_t> outstanding_;
  // Streams with a retried event in flight: their queued events wait.
  std::unordered_map<std::string, uint32_t> blocked_;
  std::set<uint64_t> pending_;  // positions read from the log, outstanding
  // Replayed parked events outstanding: parked revision -> position.
  std::map<uint64_t, uint64_t> replaying_;
  std::set<uint64_t> replaying_positions_;
  uint64_t next_replay_ = 0;  // first parked revision not yet replayed
  uint64_t delivered_ = 0;
  uint64_t retries_ = 0;
  uint64_t handled_ = 0;
  uint64_t rr_next_ = 0;  // kRoundRobin: the member id to try first
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

  std::mutex save_mu_;            // one checkpoint write at a time
  uint64_t saved_checkpoint_;     // guarded by save_mu_
  Clock::time_point last_save_;   // guarded by save_mu_
  uint64_t handled_at_save_ = 0;  // guarded by save_mu_: handled_ then
  bool forgotten_ = false;        // guarded by save_mu_: save nothing more
  uint64_t truncated_ = 0;        // guarded by save_mu_: the $tb written last

  std::mutex join_mu_;
  std::thread dispatcher_;
};

}  // namespace cairn::engine

#endif  // CAIRN_ENGINE_SRC_CONSUMER_GROUP_H_

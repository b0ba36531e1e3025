// Copyright (c) Cairn authors. Public API.
//
// Subscriptions: follow the global log ($all) or one stream, catching up
// from history and then staying live, delivering each event once, in
// order, and only after it is durable. And consumer groups: members that
// share one subscription of the log or of a stream, each event handed to
// one member as the group's ConsumerStrategy picks it.
//
// Lifetimes: a Subscription or GroupMember and the Store it came from may
// be destroyed in any order, on any threads. Store::Close() (which the
// Store's destructor runs) stops every subscription (OnStopped gets Closed)
// and consumer group (each saves its checkpoint), waits for their threads,
// and detaches the handles: from then on they hold no reference to the
// store, Receive, Ack and Nack return Closed, and Stop, Leave and
// destruction do nothing more. A handler must not close or destroy the store it
// is called from (Close waits for the handler's call to return).
#ifndef CAIRN_SUBSCRIPTION_H_
#define CAIRN_SUBSCRIPTION_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/event.h"
#include "cairn/export.h"
#include "cairn/result.h"
#include "cairn/status.h"
#include "cairn/types.h"

namespace cairn {

struct SubscriptionOptions {
  // Follow one stream (from `from_revision`) instead of $all. Delivers
  // what ReadStream returns: the stream's metadata ($tb, $maxCount,
  // $maxAge) applies, and a tombstone stops the subscription with
  // StreamDeleted.
  std::optional<std::string> stream;
  StreamRevision from_revision;

  // $all only: where to start. nullopt = the start of the log. The first
  // event delivered is the first matching one at or after this position.
  std::optional<GlobalPosition> from_position;
  // $all only: start at the end of the log (only new events).
  bool from_end = false;

  // $all only: deliver only events whose stream / type starts with these.
  std::string stream_prefix;
  std::string type_prefix;

  // At most this many events are decoded per batch, and the subscription
  // counts as live while it is within this many events of the durable end
  // (beyond that it reports OnFellBehind and catches up from the segments).
  // Memory per subscription is bounded by one batch.
  uint32_t batch_size = 1024;

  // Filtered subscriptions report OnCheckpoint after this many events were
  // examined without a match, so a consumer can persist progress through
  // long stretches of unrelated events. 0 disables.
  uint32_t checkpoint_interval = 4096;
};

// Receives a subscription's events, on the subscription's own thread, one
// call at a time. A slow handler slows only its own subscription: writers
// and other subscriptions never wait for it.
class CAIRN_EXPORT SubscriptionHandler {
 public:
  virtual ~SubscriptionHandler() = default;
  // The view is valid during the call only.
  virtual void OnEvent(const RecordedEventView& event) = 0;
  // The subscription has delivered everything durable so far and is live;
  // `position` is where it continues.
  virtual void OnCaughtUp(GlobalPosition /*position*/) {}
  // The subscription fell more than a batch behind the durable end.
  virtual void OnFellBehind(GlobalPosition /*position*/) {}
  // Every event before `position` was examined (filtered subscriptions;
  // see checkpoint_interval). Safe to persist as a resume point.
  virtual void OnCheckpoint(GlobalPosition /*position*/) {}
  // Called once, last: after Stop() (OK), when the store closes (Closed),
  // or on an error (e.g. Corruption).
  virtual void OnStopped(const Status& /*status*/) {}
};

class CAIRN_EXPORT Subscription {
 public:
  virtual ~Subscription() = default;  // stops and joins
  // Stops delivery; returns after the handler's last call (OnStopped).
  // Must not be called from the handler itself. Safe after the store
  // closed or was destroyed.
  virtual void Stop() = 0;
  // The position after the last event examined ($all) — a resume point.
  virtual GlobalPosition position() const = 0;
};

// How a consumer group hands events to its members.
enum class ConsumerStrategy {
  // Each stream's events go to one member at a time, in order, also
  // while members join and leave (the ordering rule of GroupMember). Not
  // one of KurrentDB's strategies; the server offers it as
  // "OrderedByStream".
  kOrderedByStream,
  // KurrentDB's DispatchToSingle: every event goes to the first member
  // (oldest first) with a free slot (fewer than max_in_flight events
  // queued or in flight there), else to the least loaded one.
  kDispatchToSingle,
  // KurrentDB's RoundRobin: members with a free slot take turns.
  kRoundRobin,
  // KurrentDB's Pinned: the stream's hash picks the member among those
  // joined now; no order is kept when members change.
  kPinned,
  // KurrentDB's PinnedByCorrelation: as kPinned, on the "$correlationId"
  // of the event's JSON metadata, else on the stream.
  kPinnedByCorrelation,
};

struct ConsumerGroupOptions {
  // Follow one stream instead of $all. A stream group delivers what
  // ReadStream returns (the stream's metadata applies); its parked stream
  // is ParkedStreamName(group, stream) and it is a different group from
  // the $all group of the same name.
  std::optional<std::string> stream;
  // Stream groups: the revision a new group starts at.
  StreamRevision from_revision;
  // $all groups: the position a new group starts at (nullopt: the start).
  std::optional<GlobalPosition> from_position;
  // Where a new group starts (a group with a saved checkpoint resumes
  // from it instead): at the end of the log or the stream. Wins over
  // from_revision and from_position.
  bool from_end = false;
  // $all groups: only events whose stream / type starts with these.
  std::string stream_prefix;
  std::string type_prefix;
  ConsumerStrategy strategy = ConsumerStrategy::kOrderedByStream;
  // Members joined at once; one more join fails with LimitReached. 0 is
  // no limit.
  uint32_t max_members = 0;
  // Events handed to a member and not yet acknowledged, per member. A slow
  // member makes the group wait, never the writers.
  uint32_t max_in_flight = 1024;
  // Events the group holds outstanding (queued or in flight) across its
  // members; 0 means max_in_flight times the members joined. Bounds the
  // group's memory whatever the number of members.
  uint32_t max_buffered = 0;
  // Events read from the log per read; 0 means as many as there is room
  // for.
  uint32_t read_batch_size = 0;
  // The group's checkpoint is saved (durably) when it moved, at most this
  // often and only once min_checkpoint_count events were handled since the
  // last save, or at once when max_checkpoint_count were (0: never at
  // once). Time is measured on `clock`.
  std::chrono::milliseconds checkpoint_every{200};
  uint32_t min_checkpoint_count = 0;
  uint32_t max_checkpoint_count = 0;
  // An event received and neither acknowledged nor nacked within this is
  // retried (KurrentDB's message timeout). 0 disables the timeout.
  std::chrono::milliseconds message_timeout{30000};
  // An event retried this many times (by timeouts or NackAction::kRetry)
  // is parked at its next failure instead of retried again.
  uint32_t max_retry_count = 10;
  // The clock message timeouts and checkpoint intervals are measured on;
  // empty means std::chrono::steady_clock. Tests inject one to expire
  // events without waiting. The group's own thread looks at it at least
  // every 100 ms.
  std::function<std::chrono::steady_clock::time_point()> clock;
};

// What a member does with an event it can not handle (KurrentDB's nack
// actions).
enum class NackAction {
  // Deliver it again (to the stream's owner, first among the stream's
  // events), or park it once it was retried max_retry_count times.
  kRetry,
  // Append a link to it to the group's parked stream (ParkedStreamName);
  // ReplayParkedEvents delivers it again later. Handled once durable.
  kPark,
  // Drop it: it counts as handled.
  kSkip,
  // Nothing, as in KurrentDB: the event stays in flight until the message
  // timeout retries it or the member leaves.
  kStop,
};

// An event as a group hands it out, with how often it was retried.
struct GroupDelivery {
  RecordedEvent event;
  // 0 on first delivery; each timeout or kRetry adds one. Counts live in
  // memory only: they start again from 0 after a restart or once every
  // member left.
  uint32_t retry_count = 0;
};

// One member's figures, for ConsumerGroupInfo.
struct GroupMemberInfo {
  uint64_t id = 0;               // unique within the group's lifetime
  uint64_t in_flight = 0;        // received, not yet handled
  uint64_t queued = 0;           // assigned, not yet received
  uint64_t delivered = 0;        // events received, retries included
  uint32_t available_slots = 0;  // max_in_flight minus both above
};

// A consumer group's state (what KurrentDB's GetInfo reports).
struct ConsumerGroupInfo {
  std::string name;
  std::optional<std::string> stream;  // nullopt: $all
  std::string parked_stream;
  // False when no member is joined: then only the durable figures
  // (checkpoint, parked) are filled in.
  bool live = false;
  std::vector<GroupMemberInfo> members;
  uint64_t in_flight = 0;  // sum over members
  uint64_t queued = 0;     // sum over members
  uint64_t delivered = 0;  // since the group started, retries included
  uint64_t retries = 0;    // since the group started
  // Events in the parked stream not yet replayed.
  uint64_t parked = 0;
  // Replayed parked events not yet handled.
  uint64_t replaying = 0;
  // The last durably saved checkpoint (nullopt: none yet).
  std::optional<GlobalPosition> last_checkpoint;
  // Where the group reads the log next; for a stream group, the next
  // revision of its stream. Its checkpoint counts the same way.
  GlobalPosition read_position;
  // Events handled (acknowledged, skipped or parked) since the group
  // started.
  uint64_t handled = 0;
};

// The stream a group parks events in, named as KurrentDB names the parked
// stream of a persistent subscription to $all:
// "$persistentsubscription-$all::<group>-parked". Each event in it is a
// link (type "$>", data "<revision>@<stream>", metadata JSON with Added,
// Reason and SubscriptionEventNumber).
CAIRN_EXPORT std::string ParkedStreamName(std::string_view group);
// The parked stream of the group `group` following `stream` (KurrentDB's
// "$persistentsubscription-<stream>::<group>-parked"); "$all" names the
// $all group's.
CAIRN_EXPORT std::string ParkedStreamName(std::string_view group,
                                          std::string_view stream);

// One member of a consumer group. With kOrderedByStream (the other
// strategies keep no order), each stream's events go to one member at
// a time, in order; when members join or leave, streams move between
// members only once their delivered events have been acknowledged (or,
// for a member that left, are handed again to the new owner first). A
// retried event is handed out before the later events of its stream, and
// while it is in flight again those wait (they are not handed out) until
// it is acknowledged, parked or skipped.
class CAIRN_EXPORT GroupMember {
 public:
  virtual ~GroupMember() = default;  // leaves the group
  // Waits up to `timeout` for events assigned to this member; returns at
  // most `max_events` (empty on timeout). Closed once the store closed.
  // If the group can not read on (e.g. Corruption in the log), the member
  // first receives the events queued for it, then that error, on this and
  // every later call, until every member has left and the group is joined
  // afresh.
  virtual Result<std::vector<RecordedEvent>> Receive(
      size_t max_events, std::chrono::milliseconds timeout) = 0;
  // Receive, with each event's retry count.
  virtual Result<std::vector<GroupDelivery>> ReceiveDeliveries(
      size_t max_events, std::chrono::milliseconds timeout) = 0;
  // Acknowledges an event received by this member (by its position).
  // Closed once the store closed.
  virtual Status Ack(GlobalPosition position) = 0;
  // Negatively acknowledges an event received by this member (see
  // NackAction). A park returns once the link is durable; if the append
  // fails, the event is retried and the error returned. `reason` goes into
  // the parked link's metadata.
  virtual Status Nack(GlobalPosition position, NackAction action,
                      std::string_view reason) = 0;
  // Leaves the group: unacknowledged events go to the remaining members.
  virtual void Leave() = 0;
};

}  // namespace cairn

#endif  // CAIRN_SUBSCRIPTION_H_

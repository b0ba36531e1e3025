// Copyright (c) Cairn authors.
#include "engine/src/subscription.h"

#include <limits>
#include <optional>

#include "engine/io/thread_name.h"

namespace cairn::engine {
namespace {

// How long a caught-up subscription sleeps between checks when no wake-up
// comes (a writer in another process that died, say). Wake-ups normally
// come at once through the watermark futex.
constexpr std::chrono::milliseconds kIdleRecheck{200};

}  // namespace

Result<std::unique_ptr<Subscription>> SubscriptionImpl::Start(
    StoreImpl* store, const SubscriptionOptions& options,
    std::shared_ptr<SubscriptionHandler> handler, uint64_t start_position) {
  std::unique_ptr<SubscriptionImpl> sub(
      new SubscriptionImpl(store, options, std::move(handler), start_position));
  // Registered before the thread starts, so a Close() from now on stops
  // and joins it before the store goes away.
  Status s = sub->registry_->Add(sub.get());
  if (!s.ok()) return s;
  // Started under join_mu_, unless a Close() since the registration has
  // stopped the subscription already: Stop() sets stop_ before it takes
  // join_mu_ to join, so either it finds the thread to join or the thread
  // is never started (and can not outlive the Close).
  bool started = false;
  {
    std::lock_guard<std::mutex> lock(sub->join_mu_);
    if (!sub->stop_.load(std::memory_order_acquire)) {
      sub->thread_ =
          io::StartThread("cairn-subscribe", [raw = sub.get()] { raw->Run(); });
      started = true;
    }
  }
  if (!started) return Status::Closed("the store is closed");
  return std::unique_ptr<Subscription>(std::move(sub));
}

SubscriptionImpl::SubscriptionImpl(StoreImpl* store,
                                   const SubscriptionOptions& options,
                                   std::shared_ptr<SubscriptionHandler> handler,
                                   uint64_t start_position)
    : store_(store),
      registry_(store->followers()),
      options_(options),
      handler_(std::move(handler)),
      position_(start_position),
      examined_end_(start_position) {}

SubscriptionImpl::~SubscriptionImpl() {
  Stop();
  registry_->Remove(this);
}

void SubscriptionImpl::Stop() {
  stop_.store(true, std::memory_order_release);
  // Wakes the thread if it waits for new events. Once the store is
  // detached the thread was joined already, and nothing needs waking.
  (void)registry_->WithStore([](StoreImpl& store) {
    store.WakeFollowers();
    return Status::Ok();
  });
  std::lock_guard<std::mutex> lock(join_mu_);
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) {
    thread_.join();
  }
}

void SubscriptionImpl::StopFollowing() {
  store_closed_.store(true, std::memory_order_release);
  Stop();
}

void SubscriptionImpl::Run() {
  Status s = options_.stream ? RunStream() : RunAll();
  if (s.ok() && store_closed_.load(std::memory_order_acquire)) {
    s = Status::Closed("the store is closed");
  }
  handler_->OnStopped(s);
}

Status SubscriptionImpl::RunAll() {
  ReadAllOptions filter;
  filter.stream_prefix = options_.stream_prefix;
  filter.type_prefix = options_.type_prefix;
  const bool filtered =
      !filter.stream_prefix.empty() || !filter.type_prefix.empty();
  const uint64_t batch = std::max<uint32_t>(options_.batch_size, 1);
  bool live = false;
  // Length of the run of unmatched events just before position_.
  uint64_t unmatched_run = 0;
  uint64_t last_checkpoint = position_.load();
  // A filtered subscription examines at most a checkpoint interval per
  // scan, so progress is reported even when nothing matches for long.
  const uint64_t max_examined =
      filtered && options_.checkpoint_interval > 0
          ? std::max<uint64_t>(options_.checkpoint_interval, batch)
          : batch * 16;
  while (!stop_.load(std::memory_order_acquire)) {
    // Read the change sequence before the end, so a publish in between
    // makes the wait below return at once.
    const uint32_t seen = store_->ChangeSequence();
    auto end = store_->DurableEnd();
    if (!end.ok()) return end.status();
    uint64_t pos = position_.load(std::memory_order_relaxed);
    if (pos < *end) {
      if (live && *end - pos > batch) {
        live = false;
        handler_->OnFellBehind(GlobalPosition(pos));
      }
      std::optional<uint64_t> last_match;
      uint64_t delivered = 0;
      auto next =
          store_->ScanForward(pos, *end, filter, batch, max_examined,
                              [&](const RecordedEventView& event) {
                                last_match = event.position.value();
                                handler_->OnEvent(event);
                                ++delivered;
                                // Advance per event, so position() is exact if
                                // Stop() lands in the middle of a batch.
                                position_.store(event.position.value() + 1,
                                                std::memory_order_release);
                                return !stop_.load(std::memory_order_acquire);
                              });
      store_->activity().CountDelivered(delivered);
      if (!next.ok()) return next.status();
      if (stop_.load(std::memory_order_acquire)) break;
      unmatched_run = last_match ? *next - (*last_match + 1)
                                 : unmatched_run + (*next - pos);
      position_.store(*next, std::memory_order_release);
      if (filtered && options_.checkpoint_interval > 0 &&
          unmatched_run >= options_.checkpoint_interval &&
          *next > last_checkpoint) {
        handler_->OnCheckpoint(GlobalPosition(*next));
        last_checkpoint = *next;
        unmatched_run = 0;
      }
      continue;
    }
    if (!live) {
      live = true;
      if (filtered && pos > last_checkpoint) {
        handler_->OnCheckpoint(GlobalPosition(pos));
        last_checkpoint = pos;
      }
      handler_->OnCaughtUp(GlobalPosition(pos));
    }
    store_->WaitForChange(seen, kIdleRecheck);
  }
  return Status::Ok();
}

Status SubscriptionImpl::RunStream() {
  const std::string& stream = *options_.stream;
  uint64_t next_revision = options_.from_revision.value();
  bool live = false;
  ReadStreamOptions read;
  read.max_count = std::max<uint32_t>(options_.batch_size, 1);
  while (!stop_.load(std::memory_order_acquire)) {
    const uint32_t seen = store_->ChangeSequence();
    auto end = store_->DurableEnd();
    if (!end.ok()) return end.status();
    read.from = StreamRevision(next_revision);
    auto events = store_->ReadVisibleStream(stream, read);
    size_t delivered = 0;
    if (events.ok()) {
      for (const RecordedEvent& e : events->events) {
        // Only durable events (in kInterval mode the index runs ahead).
        if (e.position.value() >= *end) break;
        handler_->OnEvent(e.View());
        position_.store(e.position.value() + 1, std::memory_order_release);
        examined_end_.store(e.position.value() + 1, std::memory_order_relaxed);
        // Retention may skip revisions ($maxCount, $maxAge, $tb). A
        // category or type stream counts its own (link) revisions.
        next_revision =
            (e.link_revision ? *e.link_revision : e.revision).value() + 1;
        ++delivered;
        if (stop_.load(std::memory_order_acquire)) break;
      }
      store_->activity().CountDelivered(delivered);
      if (stop_.load(std::memory_order_acquire)) return Status::Ok();
    } else if (!events.status().IsNotFound()) {
      // Includes StreamDeleted: a tombstone ends the subscription.
      return events.status();
    }
    if (delivered > 0) continue;
    // Nothing of the stream below `end` is left to deliver.
    examined_end_.store(*end, std::memory_order_relaxed);
    if (!live) {
      live = true;
      handler_->OnCaughtUp(GlobalPosition(position_.load()));
    }
    store_->WaitForChange(seen, kIdleRecheck);
  }
  return Status::Ok();
}

}  // namespace cairn::engine

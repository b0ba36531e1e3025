// Copyright (c) Cairn authors.
#include "bench/serve/persistent_calls.h"

#include <chrono>
#include <utility>

namespace cairn::bench::serve {
namespace {

using tools::bench::NowNanos;

// A bound against a server that never answers, not a measurement.
constexpr auto kCreateTimeout = std::chrono::seconds(60);

}  // namespace

std::string CreateStreamGroup(psub::PersistentSubscriptions::Stub* stub,
                              const std::string& stream,
                              const std::string& group,
                              const std::string& strategy) {
  psub::CreateReq request;
  auto* options = request.mutable_options();
  options->mutable_stream()->mutable_stream_identifier()->set_stream_name(
      stream);
  options->mutable_stream()->mutable_start();
  options->set_group_name(group);
  // The Node clients' defaults (persistentSubscriptionSettings.ts).
  auto* settings = options->mutable_settings();
  settings->set_message_timeout_ms(30'000);
  settings->set_max_retry_count(10);
  settings->set_checkpoint_after_ms(2'000);
  settings->set_min_checkpoint_count(10);
  settings->set_max_checkpoint_count(1'000);
  settings->set_max_subscriber_count(0);
  settings->set_live_buffer_size(500);
  settings->set_read_batch_size(20);
  settings->set_history_buffer_size(500);
  settings->set_consumer_strategy(strategy);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kCreateTimeout);
  psub::CreateResp response;
  grpc::Status status = stub->Create(&context, request, &response);
  return status.ok() ? "" : "Create: " + status.error_message();
}

void AckCounter::Add() {
  std::lock_guard<std::mutex> lock(mu_);
  ++count_;
  changed_.notify_all();
}

bool AckCounter::WaitFor(uint64_t count, std::chrono::seconds stall) {
  std::unique_lock<std::mutex> lock(mu_);
  while (count_ < count) {
    const uint64_t before = count_;
    if (!changed_.wait_for(lock, stall, [&] { return count_ != before; })) {
      return false;
    }
  }
  return true;
}

uint64_t AckCounter::count() {
  std::lock_guard<std::mutex> lock(mu_);
  return count_;
}

PersistentConsumer::PersistentConsumer(
    psub::PersistentSubscriptions::Stub* stub, const std::string& stream,
    const std::string& group, int buffer_size, AckCounter* acks)
    : acks_(acks) {
  auto* options = options_.mutable_options();
  options->mutable_stream_identifier()->set_stream_name(stream);
  options->set_group_name(group);
  options->set_buffer_size(buffer_size);
  options->mutable_uuid_option()->mutable_string();
  stub->async()->Read(&context_, this);
  writing_ = true;
  StartWrite(&options_);
  StartRead(&response_);
  StartCall();
}

void PersistentConsumer::OnReadDone(bool ok) {
  if (!ok) return;  // OnDone follows.
  std::lock_guard<std::mutex> lock(mu_);
  if (response_.has_subscription_confirmation()) {
    subscription_id_ = response_.subscription_confirmation().subscription_id();
  } else if (response_.has_event()) {
    // As the clients do: the link's id when there is one, else the event's.
    const auto& read = response_.event();
    Ack ack{{}, NowNanos()};
    auto* request = ack.request.mutable_ack();
    request->set_id(subscription_id_);
    *request->add_ids() =
        read.has_link() ? read.link().id() : read.event().id();
    writes_.push_back(std::move(ack));
    if (!writing_) {
      writing_ = true;
      StartWrite(&writes_.front().request);
    }
  }
  StartRead(&response_);
}

void PersistentConsumer::OnWriteDone(bool ok) {
  if (!ok) return;  // OnDone reports why the call ended.
  bool acked = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!options_written_) {
      options_written_ = true;  // the first write: the options
    } else {
      latency_ns_.Record(
          static_cast<uint64_t>(NowNanos() - writes_.front().received_ns));
      writes_.pop_front();
      acked = true;
    }
    if (writes_.empty()) {
      writing_ = false;
    } else {
      StartWrite(&writes_.front().request);
    }
  }
  if (acked) acks_->Add();
}

void PersistentConsumer::OnDone(const grpc::Status& status) {
  std::lock_guard<std::mutex> lock(mu_);
  status_ = status;
  done_ = true;
  done_cv_.notify_all();
}

grpc::Status PersistentConsumer::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [this] { return done_; });
  return status_;
}

tools::bench::LatencyHistogram PersistentConsumer::latency_ns() {
  std::lock_guard<std::mutex> lock(mu_);
  return latency_ns_;
}

}  // namespace cairn::bench::serve

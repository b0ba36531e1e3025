// Copyright (c) Cairn authors.
//
// The events the `cairn serve` load generator sends: the same shape as the
// embedded `cairn bench` events (type `OrderPlaced`, JSON data padded to the
// event size, stream names `Order-<uuid>`), so that the figures compare.
// The data starts with the send time, so a subscriber can measure the time
// from an append's send to its delivery in the same process.
#ifndef CAIRN_BENCH_SERVE_LOAD_EVENTS_H_
#define CAIRN_BENCH_SERVE_LOAD_EVENTS_H_

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace cairn::bench::serve {

inline constexpr std::string_view kEventType = "OrderPlaced";

// This thread's random generator (calls start on gRPC's threads).
std::mt19937_64& Rng();

// A random RFC 4122 version 4 UUID in its string form.
std::string RandomUuid(std::mt19937_64& rng);

// JSON data of `event_size - kEventType.size()` bytes (at least the
// timestamp field) that carries `sent_ns`.
std::string EventData(int64_t sent_ns, size_t event_size, std::mt19937_64& rng);

// The send time EventData put into `data`, if it is there.
std::optional<int64_t> SentNanos(std::string_view data);

// Fills a proposed message (AppendReq or BatchAppendReq's, which have the
// same fields) with a fresh id, the type, the JSON content type and data.
template <typename Message>
void FillEvent(Message* message, int64_t sent_ns, size_t event_size,
               std::mt19937_64& rng) {
  message->mutable_id()->set_string(RandomUuid(rng));
  auto& metadata = *message->mutable_metadata();
  metadata["type"] = std::string(kEventType);
  metadata["content-type"] = "application/json";
  message->set_data(EventData(sent_ns, event_size, rng));
}

}  // namespace cairn::bench::serve

#endif  // CAIRN_BENCH_SERVE_LOAD_EVENTS_H_

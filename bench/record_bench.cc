// Copyright (c) Cairn authors.
//
// The record codec on the paths every append and every read take: encode
// + seal of a 200-byte event (append), and header decode + body checksum +
// event decode (read).
#include <benchmark/benchmark.h>

#include <string>

#include "segment/checksum.h"
#include "segment/record.h"

namespace cairn::segment {
namespace {

constexpr uint64_t kSeed = 0x5EEDF00DCAFEull;

// A typical event: stream "Order-<uuid>", 200 bytes of type + data +
// metadata (11 + 137 + 52), JSON-ish.
struct SampleEvent {
  std::string stream = "Order-3f2b6c1e-8d4a-4f0b-9a57-2c1e9b7d4a60";
  std::string type = "OrderPlaced";
  std::string metadata =
      "{\"correlationId\":\"c0ffee00-1234\",\"causationId\":\"beef-5678\"}";
  std::string data;

  SampleEvent() {
    data = "{\"orderId\":\"3f2b6c1e\",\"amount\":4200,\"note\":\"";
    const size_t target = 200 - type.size() - metadata.size() - 2;
    while (data.size() < target) data += "abcdefghij"[data.size() % 10];
    data += "\"}";
  }

  EventFields Fields() const {
    EventFields f;
    f.stream = stream;
    f.type = type;
    f.data = data;
    f.metadata = metadata;
    f.id = EventId::Generate();
    f.created_us = 1700000000000000;
    f.content_type = ContentType::kJson;
    return f;
  }
};

void BM_EncodeAndSeal(benchmark::State& state) {
  SampleEvent sample;
  const EventFields fields = sample.Fields();
  std::string out;
  uint64_t position = 0;
  for (auto _ : state) {
    out.clear();
    size_t size = EncodeEventRecord(fields, 4096, &out);
    SealRecord(reinterpret_cast<uint8_t*>(out.data()), position, position, 0,
               true, kSeed);
    ++position;
    benchmark::DoNotOptimize(size);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(out.size()));
  state.counters["record_bytes"] = static_cast<double>(out.size());
}
BENCHMARK(BM_EncodeAndSeal);

void BM_DecodeVerifyEvent(benchmark::State& state) {
  SampleEvent sample;
  std::string record;
  EncodeEventRecord(sample.Fields(), 4096, &record);
  SealRecord(reinterpret_cast<uint8_t*>(record.data()), 7, 7, 0, true, kSeed);
  const auto* data = reinterpret_cast<const uint8_t*>(record.data());
  std::string scratch;
  for (auto _ : state) {
    RecordHeader header;
    HeaderCheck check = DecodeRecordHeader(data, record.size(), kSeed, &header);
    bool ok =
        check == HeaderCheck::kOk && VerifyRecordBody(data, header, kSeed);
    EventFields fields;
    EventDecoder decoder(data, kSeed);
    ok = ok && decoder.Decode(data, header, &scratch, &fields);
    if (!ok) state.SkipWithError("record does not decode");
    benchmark::DoNotOptimize(fields);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(record.size()));
}
BENCHMARK(BM_DecodeVerifyEvent);

// The header alone: what VisitAll pays per record just to step to the next
// one (it decodes the header twice per event, once to step and once inside
// the full decode).
void BM_DecodeHeader(benchmark::State& state) {
  SampleEvent sample;
  std::string record;
  EncodeEventRecord(sample.Fields(), 4096, &record);
  SealRecord(reinterpret_cast<uint8_t*>(record.data()), 7, 7, 0, true, kSeed);
  const auto* data = reinterpret_cast<const uint8_t*>(record.data());
  for (auto _ : state) {
    RecordHeader header;
    HeaderCheck check = DecodeRecordHeader(data, record.size(), kSeed, &header);
    benchmark::DoNotOptimize(check);
    benchmark::DoNotOptimize(header);
  }
}
BENCHMARK(BM_DecodeHeader);

}  // namespace
}  // namespace cairn::segment

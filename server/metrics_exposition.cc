// Copyright (c) Cairn authors.
#include "server/metrics_exposition.h"

#include <type_traits>

#include "server/prometheus_text.h"

namespace cairn::server {

namespace {

// One family of `type` with one unlabelled sample: a count (any integer)
// or a real number (seconds), as PrometheusText::Sample writes either.
template <typename Value>
void Single(PrometheusText* out, std::string_view type, std::string_view name,
            std::string_view help, Value value) {
  using Sampled =
      std::conditional_t<std::is_floating_point_v<Value>, double, uint64_t>;
  out->Family(name, type, help);
  out->Sample(name, {}, static_cast<Sampled>(value));
}

template <typename Value>
void Counter(PrometheusText* out, std::string_view name, std::string_view help,
             Value value) {
  Single(out, "counter", name, help, value);
}

template <typename Value>
void Gauge(PrometheusText* out, std::string_view name, std::string_view help,
           Value value) {
  Single(out, "gauge", name, help, value);
}

void StoreSize(PrometheusText* out, const StoreStats& store) {
  Gauge(out, "cairn_events", "Events in the store (the next position).",
        store.events);
  Gauge(out, "cairn_streams", "Streams with at least one event.",
        store.streams);
  Gauge(out, "cairn_log_bytes", "Bytes of event records in the log.",
        store.bytes);
  Gauge(out, "cairn_durable_position",
        "Every event below this position is on stable storage.",
        store.durable_position_end.value());
}

void Writes(PrometheusText* out, const StoreActivity& a) {
  Counter(out, "cairn_appends_total",
          "Appends written and acknowledged (idempotent retries excluded).",
          a.appends);
  Counter(out, "cairn_written_events_total", "Events written by appends.",
          a.events_written);
  Counter(out, "cairn_written_bytes_total", "Record bytes written by appends.",
          a.bytes_written);
  out->Histogram("cairn_sync_duration_seconds",
                 "Duration of each durability sync (fdatasync) of the log.",
                 a.sync_micros, 1e6);
  out->Histogram("cairn_group_commit_events",
                 "Events per group commit (one write for all its appends).",
                 a.group_commit_events);
}

void Index(PrometheusText* out, const StoreIndexStats& index) {
  Counter(out, "cairn_index_flushes_total",
          "In-memory index entries written out as a table.", index.flushes);
  Counter(out, "cairn_index_merges_total", "Index tables merged into one.",
          index.merges);
  Gauge(out, "cairn_index_tables", "Sorted index tables.", index.tables);
  Gauge(out, "cairn_index_table_bytes", "Size of the index tables on disk.",
        index.table_bytes);
  Gauge(out, "cairn_index_memory_entries", "Index entries not yet in a table.",
        index.memory_entries);
  Counter(out, "cairn_index_cache_hits_total",
          "Stream-end lookups answered from the index cache.",
          index.cache_hits);
  Counter(out, "cairn_index_cache_misses_total",
          "Stream-end lookups that read the index tables.", index.cache_misses);
}

void Reads(PrometheusText* out, const StoreActivity& a) {
  out->Family("cairn_reads_total", "counter",
              "Read calls by kind: a stream, a category or event-type "
              "stream, or $all.");
  out->Sample("cairn_reads_total", {{"kind", "stream"}}, a.stream_reads);
  out->Sample("cairn_reads_total", {{"kind", "category_or_type"}},
              a.link_stream_reads);
  out->Sample("cairn_reads_total", {{"kind", "all"}}, a.all_reads);
  Counter(out, "cairn_subscription_delivered_events_total",
          "Events delivered to subscriptions.", a.subscription_events);
  Gauge(out, "cairn_subscriptions", "Live subscriptions.", a.subscriptions);
  Gauge(out, "cairn_subscription_max_lag_events",
        "Durable events the furthest-behind subscription has yet to "
        "examine.",
        a.subscription_lag_max);
  Gauge(out, "cairn_subscription_summed_lag_events",
        "Durable events yet to examine, summed over all subscriptions.",
        a.subscription_lag_sum);
}

void Scavenges(PrometheusText* out, const StoreActivity& a) {
  Counter(out, "cairn_scavenges_total",
          "Scavenge runs finished (stopped ones included).", a.scavenges);
  Gauge(out, "cairn_scavenge_running", "1 while a scavenge runs.",
        a.scavenge_running ? 1 : 0);
  Gauge(out, "cairn_scavenge_parts_done",
        "Parts of the log the running (or last) scavenge has rewritten.",
        a.scavenge_parts_done);
  Gauge(out, "cairn_scavenge_parts",
        "Parts of the log the running (or last) scavenge rewrites.",
        a.scavenge_parts_total);
  Counter(out, "cairn_scavenged_events_total", "Events scavenges removed.",
          a.scavenged_events);
  Counter(out, "cairn_scavenged_bytes_total", "Disk bytes scavenges gave back.",
          a.scavenged_bytes);
}

void Server(PrometheusText* out, const ServerFigures& server) {
  out->Family("cairn_grpc_calls_total", "counter",
              "gRPC calls answered, by method and status code.");
  for (const CallMetrics::Count& count : server.calls) {
    out->Sample("cairn_grpc_calls_total",
                {{"method", std::string(count.method)},
                 {"code", std::string(StatusCodeName(count.code))}},
                count.calls);
  }
  if (server.open_connections) {
    Gauge(out, "cairn_open_connections", "Open client TCP connections.",
          *server.open_connections);
  }
  Gauge(out, "cairn_persistent_subscriptions",
        "Persistent subscriptions defined.", server.persistent_subscriptions);
  Gauge(out, "cairn_persistent_subscription_connections",
        "Read calls connected to persistent subscriptions.",
        server.persistent_connections);
  Gauge(out, "cairn_persistent_subscription_in_flight",
        "Events persistent subscriptions handed out and not yet handled.",
        server.persistent_in_flight);
  Gauge(out, "cairn_persistent_subscription_parked",
        "Events parked by persistent subscriptions, not yet replayed.",
        server.persistent_parked);
}

// The Prometheus process collector's names and units.
void Process(PrometheusText* out, const ProcessFigures& process) {
  Counter(out, "process_cpu_seconds_total",
          "User and system CPU time spent, in seconds.", process.cpu_seconds);
  Gauge(out, "process_resident_memory_bytes", "Resident memory size in bytes.",
        process.resident_bytes);
  Gauge(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.",
        process.virtual_bytes);
  Gauge(out, "process_open_fds", "Number of open file descriptors.",
        process.open_fds);
  Gauge(out, "process_max_fds", "Maximum number of open file descriptors.",
        process.max_fds);
  Gauge(out, "process_threads", "Number of threads of the process.",
        process.threads);
  Gauge(out, "process_start_time_seconds",
        "Start time of the process since the Unix epoch in seconds.",
        process.start_time_seconds);
}

}  // namespace

std::string MetricsExposition(const StoreStats& store,
                              const ServerFigures& server) {
  PrometheusText out;
  StoreSize(&out, store);
  Writes(&out, store.activity);
  Index(&out, store.index);
  Reads(&out, store.activity);
  Server(&out, server);
  Scavenges(&out, store.activity);
  if (server.process) Process(&out, *server.process);
  return out.text();
}

}  // namespace cairn::server

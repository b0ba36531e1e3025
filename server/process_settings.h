// Copyright (c) Cairn authors.
//
// Process-wide settings of the gRPC runtime, for each process that serves
// or drives gRPC calls at volume: `cairn serve`, and the benchmarks' load
// generator and gRPC ceiling server (bench/serve/), so that their figures
// compare.
#ifndef CAIRN_SERVER_PROCESS_SETTINGS_H_
#define CAIRN_SERVER_PROCESS_SETTINGS_H_

namespace cairn::server {

// Turns abseil's mutex deadlock detector off. Debian builds abseil, on
// which gRPC's own locks are built, without NDEBUG, and in such a build
// every lock of a gRPC mutex also updates a lock-order graph and checks it
// for cycles: a debugging aid that an optimised abseil leaves out, and a
// few per cent of a busy server's CPU. Cairn's own code does not use
// abseil's mutexes. Call it before the process starts a gRPC server or
// channel; later calls change nothing.
void ApplyGrpcProcessSettings();

}  // namespace cairn::server

#endif  // CAIRN_SERVER_PROCESS_SETTINGS_H_

// Copyright (c) Cairn authors.
//
// The system events KurrentDB writes into a fresh database, which client
// test suites read (`$users` is never empty; `$all` starts with system
// events): the default users `admin` and `ops` (`$user-<login>` with a
// `$UserCreated` event and its metadata stream, and a `$User` event per
// login in `$users`; user_store.h) with KurrentDB's well-known default
// password `changeit`, and the `$settings` event with the default ACLs.
//
// Each stream is written with ExpectedVersion::NoStream and fixed event
// ids, so the bootstrap runs at every start and writes each event exactly
// once: an event already written is an idempotent replay, a stream that
// already exists (written by an earlier start, or by a client) is left
// alone. A crash in the middle leaves the events written so far; the next
// start writes the rest before it serves.
#ifndef CAIRN_SERVER_BOOTSTRAP_H_
#define CAIRN_SERVER_BOOTSTRAP_H_

#include <string>
#include <vector>

#include "cairn/result.h"
#include "cairn/status.h"
#include "cairn/store.h"

namespace cairn::server {

// Writes the missing bootstrap events; the events written by this call
// are durable when it returns OK.
Status WriteBootstrapEvents(Store* store);

// The default users (admin, ops) that are enabled and still have the
// default password, which `cairn serve` warns about at every start.
Result<std::vector<std::string>> UsersWithDefaultPassword(Store* store);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_BOOTSTRAP_H_

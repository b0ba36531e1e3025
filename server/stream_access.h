// Copyright (c) Cairn authors.
//
// Whether a principal (authenticator.h) may use a stream, as KurrentDB's
// legacy ACLs decide: the unrestricted principal (authentication off) and
// `$admins` may do anything; the anonymous principal nothing (KurrentDB's
// default, AllowAnonymousStreamAccess=false); anyone else needs one of the
// roles of the right (its login, one of its groups, or `$all` for every
// authenticated user). The roles come from the stream's metadata `$acl`
// (`$r $w $d $mr $mw`), else from the default ACLs in the newest
// `$settings` event (`$userStreamAcl`, or `$systemStreamAcl` for names
// starting with '$'), else from the built-in defaults: `$all` for user
// streams, `$admins` for system streams. Reading or writing `$$X` is
// reading or writing X's metadata; writing or deleting `$all` is never
// allowed. Fail closed: metadata or settings that cannot be read or parsed
// deny (or answer the store's failure), never allow.
//
// Rules are read from the store on every check, so a change of `$acl` or
// `$settings` applies to the next call.
#ifndef CAIRN_SERVER_STREAM_ACCESS_H_
#define CAIRN_SERVER_STREAM_ACCESS_H_

#include <string_view>

#include "cairn/store.h"
#include "server/authenticator.h"
#include "server/rpc_error.h"

namespace cairn::server {

enum class StreamRight { kRead, kWrite, kDelete, kMetaRead, kMetaWrite };

class StreamAccess {
 public:
  explicit StreamAccess(Store* store) : store_(store) {}

  // OK, AccessDenied (PERMISSION_DENIED `access-denied`), or the store's
  // failure.
  RpcError Check(const Principal& principal, std::string_view stream,
                 StreamRight right) const;

 private:
  Store* store_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_STREAM_ACCESS_H_

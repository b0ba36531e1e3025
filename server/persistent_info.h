// Copyright (c) Cairn authors.
//
// GetInfo's and List's SubscriptionInfo: a definition's settings, its
// engine group's figures (checkpoint, read position, delivered, in
// flight, queued, parked) and its connected Read calls. Positions are
// reported as KurrentDB formats them: a stream's last checkpointed or
// read revision, "C:<n>/P:<n>" for $all, empty before the first.
#ifndef CAIRN_SERVER_PERSISTENT_INFO_H_
#define CAIRN_SERVER_PERSISTENT_INFO_H_

#include <memory>
#include <vector>

#include "cairn/subscription.h"
#include "persistent.pb.h"
#include "server/persistent_registry.h"
#include "server/persistent_settings.h"

namespace cairn::server {

void SubscriptionInfoToProto(
    const PersistentDefinition& definition, const ConsumerGroupInfo& group,
    const std::vector<std::shared_ptr<PersistentConnection>>& connections,
    event_store::client::persistent_subscriptions::SubscriptionInfo* out);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_PERSISTENT_INFO_H_

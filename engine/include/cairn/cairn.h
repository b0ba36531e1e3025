// Copyright (c) Cairn authors. Public API: the one header to include.
#ifndef CAIRN_CAIRN_H_
#define CAIRN_CAIRN_H_

#include "cairn/event.h"            // IWYU pragma: export
#include "cairn/options.h"          // IWYU pragma: export
#include "cairn/result.h"           // IWYU pragma: export
#include "cairn/snapshot.h"         // IWYU pragma: export
#include "cairn/status.h"           // IWYU pragma: export
#include "cairn/store.h"            // IWYU pragma: export
#include "cairn/store_metrics.h"    // IWYU pragma: export
#include "cairn/stream_metadata.h"  // IWYU pragma: export
#include "cairn/subscription.h"     // IWYU pragma: export
#include "cairn/text.h"             // IWYU pragma: export
#include "cairn/types.h"            // IWYU pragma: export
#include "cairn/version.h"          // IWYU pragma: export

#endif  // CAIRN_CAIRN_H_

// Copyright (c) Cairn authors.
#include "cairn/version.h"

namespace cairn {

const char* Version() { return CAIRN_VERSION_STRING; }

}  // namespace cairn

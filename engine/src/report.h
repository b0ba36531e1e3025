// Copyright (c) Cairn authors.
//
// Report: how the engine tells Options::logger what it did on its own (a
// repair at open, a failure of background work). Reports are for people;
// nothing in the engine depends on whether a logger is set.
#ifndef CAIRN_ENGINE_SRC_REPORT_H_
#define CAIRN_ENGINE_SRC_REPORT_H_

#include <string>

#include "cairn/options.h"

namespace cairn::engine {

inline void Report(const Options& options, LogLevel level,
                   const std::string& message) {
  if (options.logger) options.logger(level, message);
}

}  // namespace cairn::engine

#endif  // CAIRN_ENGINE_SRC_REPORT_H_

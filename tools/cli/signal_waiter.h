// Copyright (c) Cairn authors.
//
// Waits for SIGINT or SIGTERM, for a program that runs until it is told to
// stop (`cairn serve`, the benchmarks' gRPC ceiling server). A handler, not
// sigwait, catches them, because libraries may have started threads that
// do not block the signals; the handler only posts a semaphore, which is
// async-signal-safe. One SignalWaiter at a time per process: the
// constructor installs the handlers, the destructor puts the old ones back.
#ifndef CAIRN_TOOLS_CLI_SIGNAL_WAITER_H_
#define CAIRN_TOOLS_CLI_SIGNAL_WAITER_H_

#include <csignal>

namespace cairn::tools {

class SignalWaiter {
 public:
  SignalWaiter();
  ~SignalWaiter();
  SignalWaiter(const SignalWaiter&) = delete;
  SignalWaiter& operator=(const SignalWaiter&) = delete;

  // The signal that arrived, or 0 for Request.
  int Wait();
  // Ends Wait as a signal would (Operations.Shutdown); returns at once.
  static void Request();

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

}  // namespace cairn::tools

#endif  // CAIRN_TOOLS_CLI_SIGNAL_WAITER_H_

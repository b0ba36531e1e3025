// Copyright (c) Cairn authors.
#include "tools/cli/signal_waiter.h"

#include <semaphore.h>

namespace cairn::tools {
namespace {

sem_t g_signalled;
volatile std::sig_atomic_t g_signal = 0;

extern "C" void OnStopSignal(int signal) {
  g_signal = signal;
  sem_post(&g_signalled);
}

}  // namespace

SignalWaiter::SignalWaiter() {
  sem_init(&g_signalled, 0, 0);
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &old_int_);
  sigaction(SIGTERM, &action, &old_term_);
}

SignalWaiter::~SignalWaiter() {
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
  sem_destroy(&g_signalled);
}

int SignalWaiter::Wait() {
  while (sem_wait(&g_signalled) != 0) {
  }
  return g_signal;
}

void SignalWaiter::Request() { sem_post(&g_signalled); }

}  // namespace cairn::tools

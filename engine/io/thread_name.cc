// Copyright (c) Cairn authors.
#include "engine/io/thread_name.h"

#include <pthread.h>

#include <algorithm>
#include <string>

namespace cairn::io {

namespace {

void NameThread(pthread_t thread, std::string_view name) {
  constexpr size_t kMaxName = 15;  // TASK_COMM_LEN minus the NUL
  const std::string cut(name.substr(0, std::min(name.size(), kMaxName)));
  (void)pthread_setname_np(thread, cut.c_str());
}

}  // namespace

void NameThisThread(std::string_view name) { NameThread(pthread_self(), name); }

void NameStartedThread(std::thread& thread, std::string_view name) {
  NameThread(thread.native_handle(), name);
}

}  // namespace cairn::io

// Copyright (c) Cairn authors.
//
// Names the calling thread, so that top -H, perf, gdb and /proc show which
// of a process's threads are Cairn's and what each one does. Every thread
// Cairn starts names itself "cairn-<role>" first; docs/architecture.md
// ("Threads") lists them.
#ifndef CAIRN_ENGINE_IO_THREAD_NAME_H_
#define CAIRN_ENGINE_IO_THREAD_NAME_H_

#include <string_view>
#include <thread>
#include <utility>

namespace cairn::io {

// Linux keeps 15 bytes of a thread's name; longer names are cut there.
// Naming is best effort: a failure changes nothing else.
void NameThisThread(std::string_view name);

// Names `thread`, which the caller has just started and not joined.
void NameStartedThread(std::thread& thread, std::string_view name);

// A thread named `name` (a literal: it must outlive the thread's start)
// that runs fn(). It is named before this returns, so that it never shows
// under its creator's name. It names itself too as it starts: naming
// another thread goes through /proc, naming oneself does not.
template <typename Fn>
std::thread StartThread(const char* name, Fn&& fn) {
  std::thread thread([name, fn = std::forward<Fn>(fn)]() mutable {
    NameThisThread(name);
    fn();
  });
  NameStartedThread(thread, name);
  return thread;
}

}  // namespace cairn::io

#endif  // CAIRN_ENGINE_IO_THREAD_NAME_H_

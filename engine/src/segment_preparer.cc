// Copyright (c) Cairn authors.
#include "engine/src/segment_preparer.h"

#include <algorithm>
#include <vector>

#include "engine/io/thread_name.h"
#include "segment/segment_header.h"

namespace cairn::engine {
namespace {

// Sync every so often so the zeros trickle out instead of landing as one
// huge flush that would stall the commit thread's next fdatasync.
constexpr uint64_t kSyncEvery = 16ull << 20;

}  // namespace

std::string SpareFileName(uint64_t segment_number) {
  return segment::SegmentFileName(segment_number) + ".spare";
}

Status WriteZeros(io::File* file, uint64_t begin, uint64_t end,
                  const std::atomic<bool>* stop) {
  const std::vector<uint8_t> zeros(
      std::min<uint64_t>(kPrepareWriteSize, end > begin ? end - begin : 0), 0);
  for (uint64_t at = begin; at < end;) {
    if (stop != nullptr && stop->load(std::memory_order_relaxed)) {
      return Status::Closed("segment preparation stopped");
    }
    const uint64_t boundary = (at / kPrepareWriteSize + 1) * kPrepareWriteSize;
    const auto n = static_cast<size_t>(std::min(end, boundary) - at);
    Status s = file->Write(at, zeros.data(), n);
    if (!s.ok()) return s;
    at += n;
  }
  return Status::Ok();
}

Status PrepareZeroedFile(io::FileSystem* fs, const std::string& path,
                         uint64_t size, const std::atomic<bool>* stop) {
  if (fs->Exists(path)) {
    Status s = fs->RemoveFile(path);
    if (!s.ok()) return s;
  }
  auto file = fs->OpenFile(path, io::OpenMode::kCreateExclusive);
  if (!file.ok()) return file.status();
  Status s = (*file)->Allocate(size);
  for (uint64_t offset = 0; s.ok() && offset < size;) {
    const uint64_t next = std::min(size, offset + kSyncEvery);
    s = WriteZeros(file->get(), offset, next, stop);
    if (s.ok() && next < size) s = (*file)->Sync();
    offset = next;
  }
  if (s.ok()) s = (*file)->Sync();
  if (s.ok()) s = (*file)->Close();
  // Should even the removal fail, the unfinished spare is harmless: the
  // next preparation replaces it, and the next writable open adopts only a
  // spare that reads as zeros and removes any other.
  if (!s.ok()) (void)fs->RemoveFile(path);
  return s;
}

SegmentPreparer::SegmentPreparer(io::FileSystem* fs, std::string dir,
                                 uint64_t size)
    : fs_(fs), dir_(std::move(dir)), size_(size) {
  thread_ = io::StartThread("cairn-prepare", [this] { Run(); });
}

SegmentPreparer::~SegmentPreparer() { Stop(); }

void SegmentPreparer::RequestStop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
}

void SegmentPreparer::Stop() {
  RequestStop();
  std::lock_guard<std::mutex> lock(join_mu_);
  if (thread_.joinable()) thread_.join();
}

void SegmentPreparer::Request(uint64_t number) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (ready_ == number || working_ == number || wanted_ == number) return;
    wanted_ = number;
  }
  cv_.notify_all();
}

void SegmentPreparer::Adopt(uint64_t number) {
  std::lock_guard<std::mutex> lock(mu_);
  ready_ = number;
}

bool SegmentPreparer::TakeReady(uint64_t number) {
  std::unique_lock<std::mutex> lock(mu_);
  // Queued but not started: take the request back, the caller prepares it.
  if (wanted_ == number) wanted_.reset();
  // Started: wait for it rather than have two writers on one file.
  cv_.wait(lock, [&] { return working_ != number; });
  if (ready_ != number) return false;
  ready_.reset();
  return true;
}

void SegmentPreparer::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || wanted_.has_value(); });
    if (stop_) return;
    uint64_t number = *wanted_;
    wanted_.reset();
    working_ = number;
    lock.unlock();
    Status s = PrepareZeroedFile(fs_, io::JoinPath(dir_, SpareFileName(number)),
                                 size_, &stop_);
    lock.lock();
    working_.reset();
    // A failure (a full disk, say) leaves no spare: the roll then creates
    // the segment itself and reports the error to the append that needed it.
    if (s.ok()) ready_ = number;
    cv_.notify_all();
  }
}

}  // namespace cairn::engine

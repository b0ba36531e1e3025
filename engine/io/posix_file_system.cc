// Copyright (c) Cairn authors.
//
// The production FileSystem: thin wrappers over POSIX calls. Every
// descriptor is opened O_CLOEXEC so a child process spawned by the host
// application never inherits (and keeps alive) a segment file or, worse,
// the writer lock.
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/io/file_system.h"

namespace cairn::io {
namespace {

// Builds the status for a failed system call. Running out of space gets
// its own code because the engine can stay up (and say so) when a device
// fills, whereas other I/O errors make it fail-stop.
Status ErrnoStatus(std::string_view op, std::string_view path, int err) {
  std::string msg(op);
  msg += ' ';
  msg += path;
  if (err == ENOSPC || err == EDQUOT) {
    msg +=
        err == ENOSPC ? ": no space left on device" : ": disk quota exceeded";
    return Status::NoSpace(msg);
  }
  if (err == ENOENT) {
    msg += ": no such file or directory";
    return Status::NotFound(msg);
  }
  return Status::IOError(msg, err);
}

// Opens with EINTR retried: open() of a FIFO or on some network file
// systems can be interrupted, and retrying an open has no side effect.
int OpenRetry(const std::string& path, int flags, mode_t mode = 0) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

size_t PageSize() {
  static const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  return page;
}

// Returned by Map(…, 0): mmap rejects empty lengths, yet callers may
// legitimately ask for an empty view and should get a non-null pointer.
const uint8_t kEmptyBytes[1] = {0};

class PosixMappedRegion final : public MappedRegion {
 public:
  PosixMappedRegion(void* base, size_t length, size_t delta, size_t size)
      : base_(base), length_(length), delta_(delta), size_(size) {}
  ~PosixMappedRegion() override {
    if (base_ != nullptr) ::munmap(base_, length_);
  }
  PosixMappedRegion(const PosixMappedRegion&) = delete;
  PosixMappedRegion& operator=(const PosixMappedRegion&) = delete;

  const uint8_t* data() const override {
    if (base_ == nullptr) return kEmptyBytes;
    return static_cast<const uint8_t*>(base_) + delta_;
  }
  size_t size() const override { return size_; }

 private:
  void* base_;     // page-aligned start of the mapping (null when empty)
  size_t length_;  // bytes mapped from base_
  size_t delta_;   // requested offset minus the page boundary below it
  size_t size_;    // bytes the caller asked for
};

class PosixSharedRegion final : public SharedRegion {
 public:
  PosixSharedRegion(void* base, size_t size) : base_(base), size_(size) {}
  ~PosixSharedRegion() override {
    if (base_ != nullptr) ::munmap(base_, size_);
  }
  PosixSharedRegion(const PosixSharedRegion&) = delete;
  PosixSharedRegion& operator=(const PosixSharedRegion&) = delete;

  uint8_t* data() override {
    static uint8_t empty[1];
    return base_ == nullptr ? empty : static_cast<uint8_t*>(base_);
  }
  size_t size() const override { return size_; }

 private:
  void* base_;
  size_t size_;
};

class PosixFile final : public File {
 public:
  PosixFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixFile() override {
    // Errors are ignored here by contract; callers that care use Close().
    if (fd_ >= 0) ::close(fd_);
  }
  PosixFile(const PosixFile&) = delete;
  PosixFile& operator=(const PosixFile&) = delete;

  Status Write(uint64_t offset, const void* data, size_t size) override {
    if (fd_ < 0) return Closed("write");
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
      ssize_t n = ::pwrite(fd_, p, size, static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("write", path_, errno);
      }
      if (n == 0) {
        // pwrite should never make no progress on a regular file; looping
        // would spin forever, so treat it as a device error.
        return Status::IOError("write " + path_ + ": no progress", EIO);
      }
      p += n;
      offset += static_cast<uint64_t>(n);
      size -= static_cast<size_t>(n);
    }
    return Status::Ok();
  }

  Status Read(uint64_t offset, void* out, size_t size, size_t* read) override {
    *read = 0;
    if (fd_ < 0) return Closed("read");
    char* p = static_cast<char*>(out);
    while (size > 0) {
      ssize_t n = ::pread(fd_, p, size, static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("read", path_, errno);
      }
      if (n == 0) break;  // end of file
      p += n;
      offset += static_cast<uint64_t>(n);
      size -= static_cast<size_t>(n);
      *read += static_cast<size_t>(n);
    }
    return Status::Ok();
  }

  // Never retried, not even on EINTR: after a failed fsync the kernel may
  // have dropped the dirty pages and marked them clean, so a second call
  // can "succeed" while the data is gone (fsyncgate). The caller must
  // treat any failure as fatal for the data written so far. ENOSPC is
  // reported as IOError too, for the same reason: unlike a failed write,
  // nothing can be assumed about what reached the disk.
  Status Sync() override {
    if (fd_ < 0) return Closed("sync");
    if (::fdatasync(fd_) != 0) {
      return Status::IOError("fdatasync " + path_, errno);
    }
    return Status::Ok();
  }

  Status Allocate(uint64_t size) override {
    if (fd_ < 0) return Closed("allocate");
    if (size == 0) return Status::Ok();
    // Mode 0 allocates every block in [0, size), holes included, and
    // extends the file, so later writes and mapped reads of the range can
    // not fail for lack of space.
    int rc;
    do {
      rc = ::fallocate(fd_, 0, 0, static_cast<off_t>(size));
    } while (rc != 0 && errno == EINTR);
    if (rc == 0) return Status::Ok();
    if (errno != EOPNOTSUPP && errno != ENOSYS) {
      return ErrnoStatus("fallocate", path_, errno);
    }
    return AllocateByWriting(size);
  }

  Status Truncate(uint64_t size) override {
    if (fd_ < 0) return Closed("truncate");
    int rc;
    do {
      rc = ::ftruncate(fd_, static_cast<off_t>(size));
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) return ErrnoStatus("ftruncate", path_, errno);
    return Status::Ok();
  }

  Status DropCache(uint64_t offset, uint64_t size) override {
    if (fd_ < 0) return Closed("fadvise");
    if (size == 0) return Status::Ok();  // for fadvise, 0 means "to the end"
    // Returns the error number instead of setting errno.
    const int rc =
        ::posix_fadvise(fd_, static_cast<off_t>(offset),
                        static_cast<off_t>(size), POSIX_FADV_DONTNEED);
    if (rc != 0) return ErrnoStatus("posix_fadvise", path_, rc);
    return Status::Ok();
  }

  Result<uint64_t> Size() override {
    if (fd_ < 0) return Closed("fstat");
    struct stat st;
    if (::fstat(fd_, &st) != 0) return ErrnoStatus("fstat", path_, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  Result<std::unique_ptr<MappedRegion>> Map(uint64_t offset,
                                            size_t size) override {
    if (fd_ < 0) return Closed("mmap");
    // Touching a mapped page wholly past end of file raises SIGBUS, so a
    // range beyond the file is refused here rather than crashing later.
    Status s = CheckRange("mmap", offset, size);
    if (!s.ok()) return s;
    if (size == 0) {
      return std::unique_ptr<MappedRegion>(
          std::make_unique<PosixMappedRegion>(nullptr, 0, 0, 0));
    }
    // mmap wants a page-aligned file offset: map from the page boundary
    // below and hide the difference behind data().
    const uint64_t aligned = offset & ~static_cast<uint64_t>(PageSize() - 1);
    const size_t delta = static_cast<size_t>(offset - aligned);
    const size_t length = size + delta;
    void* base = ::mmap(nullptr, length, PROT_READ, MAP_SHARED, fd_,
                        static_cast<off_t>(aligned));
    if (base == MAP_FAILED) return ErrnoStatus("mmap", path_, errno);
    return std::unique_ptr<MappedRegion>(
        std::make_unique<PosixMappedRegion>(base, length, delta, size));
  }

  Result<std::unique_ptr<SharedRegion>> MapShared(size_t size) override {
    if (fd_ < 0) return Closed("mmap");
    Status s = CheckRange("mmap", 0, size);
    if (!s.ok()) return s;
    if (size == 0) {
      return std::unique_ptr<SharedRegion>(
          std::make_unique<PosixSharedRegion>(nullptr, 0));
    }
    void* base =
        ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    if (base == MAP_FAILED) return ErrnoStatus("mmap", path_, errno);
    return std::unique_ptr<SharedRegion>(
        std::make_unique<PosixSharedRegion>(base, size));
  }

  Status Close() override {
    if (fd_ < 0) return Status::Ok();
    const int fd = std::exchange(fd_, -1);
    // Never retried: Linux releases the descriptor even when close()
    // fails (EINTR included), so a retry could close an unrelated file
    // another thread just opened. The error itself matters, though: on
    // NFS and some other file systems it is where a failed writeback is
    // first reported.
    if (::close(fd) != 0) return Status::IOError("close " + path_, errno);
    return Status::Ok();
  }

 private:
  Status Closed(std::string_view op) const {
    std::string msg(op);
    msg += ' ';
    msg += path_;
    msg += ": file is closed";
    return Status::IOError(msg, EBADF);
  }

  Status CheckRange(std::string_view op, uint64_t offset, size_t size) {
    Result<uint64_t> file_size = Size();
    if (!file_size.ok()) return file_size.status();
    if (offset > *file_size || size > *file_size - offset) {
      std::string msg(op);
      msg += ' ';
      msg += path_;
      msg += ": range [" + std::to_string(offset) + ", +" +
             std::to_string(size) + ") is beyond the file size " +
             std::to_string(*file_size);
      return Status::InvalidArgument(msg);
    }
    return Status::Ok();
  }

  // For file systems without fallocate: writing real zeros is the only
  // way to make the blocks exist. Holes below the current size are left
  // alone (finding them would need SEEK_HOLE): the engine allocates only
  // past what it has written or truncated to, so it never has any.
  Status AllocateByWriting(uint64_t size) {
    Result<uint64_t> current = Size();
    if (!current.ok()) return current.status();
    static constexpr size_t kChunk = size_t{64} * 1024;
    const std::vector<uint8_t> zeros(kChunk, 0);
    for (uint64_t pos = *current; pos < size;) {
      const size_t n =
          static_cast<size_t>(std::min<uint64_t>(kChunk, size - pos));
      Status s = Write(pos, zeros.data(), n);
      if (!s.ok()) return s;
      pos += n;
    }
    return Status::Ok();
  }

  int fd_;
  const std::string path_;
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  // Closing the only descriptor of the open file description releases the
  // OFD lock.
  ~PosixFileLock() override { ::close(fd_); }
  PosixFileLock(const PosixFileLock&) = delete;
  PosixFileLock& operator=(const PosixFileLock&) = delete;

 private:
  const int fd_;
};

// A write lock over the whole file. OFD locks (rather than classic POSIX
// record locks) belong to the open file description, not the process, so
// a second open in the same process conflicts too, and closing some other
// descriptor of the same file does not silently drop the lock.
struct flock WholeFileWriteLock() {
  struct flock lock;
  std::memset(&lock, 0, sizeof(lock));
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  lock.l_start = 0;
  lock.l_len = 0;  // to end of file, however it grows
  lock.l_pid = 0;  // required by F_OFD_* commands
  return lock;
}

class PosixFileSystemImpl final : public FileSystem {
 public:
  Result<std::unique_ptr<File>> OpenFile(const std::string& path,
                                         OpenMode mode) override {
    int flags = 0;
    switch (mode) {
      case OpenMode::kReadOnly:
        flags = O_RDONLY;
        break;
      case OpenMode::kReadWrite:
        flags = O_RDWR;
        break;
      case OpenMode::kCreate:
        flags = O_RDWR | O_CREAT;
        break;
      case OpenMode::kCreateExclusive:
        flags = O_RDWR | O_CREAT | O_EXCL;
        break;
    }
    const int fd = OpenRetry(path, flags, 0644);
    if (fd < 0) return ErrnoStatus("open", path, errno);
    auto file = std::make_unique<PosixFile>(fd, path);
    // open(O_RDONLY) succeeds on a directory; refuse it here so the
    // caller gets a clear error instead of EISDIR from the first read.
    struct stat st;
    if (::fstat(fd, &st) != 0) return ErrnoStatus("fstat", path, errno);
    if (S_ISDIR(st.st_mode)) return Status::IOError("open " + path, EISDIR);
    return std::unique_ptr<File>(std::move(file));
  }

  Status CreateDir(const std::string& path) override {
    if (::mkdir(path.c_str(), 0755) == 0) return Status::Ok();
    const int err = errno;
    if (err == EEXIST) {
      struct stat st;
      if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
        return Status::Ok();
      }
    }
    return ErrnoStatus("mkdir", path, err);
  }

  Status SyncDir(const std::string& path) override {
    const int fd = OpenRetry(path, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return ErrnoStatus("open directory", path, errno);
    // As with File::Sync, a failed fsync is never retried.
    if (::fsync(fd) != 0) {
      const int err = errno;
      ::close(fd);
      return Status::IOError("fsync directory " + path, err);
    }
    if (::close(fd) != 0) return Status::IOError("close " + path, errno);
    return Status::Ok();
  }

  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    // opendir() would do, but fdopendir on our own descriptor makes the
    // O_CLOEXEC guarantee explicit rather than a libc detail.
    const int fd = OpenRetry(path, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return ErrnoStatus("opendir", path, errno);
    DIR* dir = ::fdopendir(fd);
    if (dir == nullptr) {
      const int err = errno;
      ::close(fd);
      return ErrnoStatus("fdopendir", path, err);
    }
    std::vector<std::string> names;
    for (;;) {
      errno = 0;  // readdir returns null both at the end and on error
      // Thread-safe here: the stream is this call's own.
      const dirent* entry = ::readdir(dir);  // NOLINT(concurrency-mt-unsafe)
      if (entry == nullptr) break;
      const std::string_view name(entry->d_name);
      if (name == "." || name == "..") continue;
      names.emplace_back(name);
    }
    const int err = errno;
    ::closedir(dir);
    if (err != 0) return ErrnoStatus("readdir", path, err);
    // readdir order depends on the file system; sorting makes callers
    // (and the in-memory implementation) deterministic.
    std::sort(names.begin(), names.end());
    return names;
  }

  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return ErrnoStatus("unlink", path, errno);
    return Status::Ok();
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return ErrnoStatus("rename", from + " to " + to, errno);
    }
    return Status::Ok();
  }

  bool Exists(const std::string& path) override {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
  }

  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    const int fd = OpenRetry(path, O_RDWR | O_CREAT, 0644);
    if (fd < 0) return ErrnoStatus("open lock file", path, errno);
    struct flock lock = WholeFileWriteLock();
    if (::fcntl(fd, F_OFD_SETLK, &lock) == 0) {
      return std::unique_ptr<FileLock>(std::make_unique<PosixFileLock>(fd));
    }
    const int err = errno;
    if (err != EAGAIN && err != EACCES) {
      ::close(fd);
      return Status::IOError("lock " + path, err);
    }
    // The kernel reports the holder's pid only for classic POSIX locks;
    // for OFD locks (ours) it reports -1, so the pid is usually unknown.
    std::string msg = path + " is locked by another writer";
    struct flock holder = WholeFileWriteLock();
    if (::fcntl(fd, F_OFD_GETLK, &holder) == 0 && holder.l_type != F_UNLCK &&
        holder.l_pid > 0) {
      msg += " (pid " + std::to_string(holder.l_pid) + ")";
    }
    ::close(fd);
    return Status::Locked(msg);
  }

  bool IsLocked(const std::string& path) override {
    // A fresh open file description conflicts with every holder, this
    // process's own FileLocks included. Read-only is enough: F_OFD_GETLK
    // only asks, it takes nothing. Closing the probe would drop classic
    // POSIX locks this process held on the file, one more reason the
    // FileLocks here are OFD locks.
    const int fd = OpenRetry(path, O_RDONLY);
    if (fd < 0) return false;
    struct flock probe = WholeFileWriteLock();
    const bool locked =
        ::fcntl(fd, F_OFD_GETLK, &probe) == 0 && probe.l_type != F_UNLCK;
    ::close(fd);
    return locked;
  }
};

}  // namespace

FileSystem* PosixFileSystem() {
  // Deliberately leaked: files and locks may still be in use by other
  // static destructors or detached threads at exit.
  static FileSystem* const fs = new PosixFileSystemImpl();
  return fs;
}

}  // namespace cairn::io

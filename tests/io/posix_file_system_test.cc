// Copyright (c) Cairn authors.
//
// POSIX-only behaviour; the shared contract is in
// file_system_contract_test.cc.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engine/io/file_system.h"
#include "tests/io/io_test_util.h"

namespace cairn::io {
namespace {

using testing_util::ReadString;
using testing_util::ScopedTempDir;
using testing_util::WriteString;

class PosixFileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(dir_.path().empty()); }
  std::string Path(const std::string& name) const {
    return JoinPath(dir_.path(), name);
  }

  FileSystem* fs_ = PosixFileSystem();
  ScopedTempDir dir_;
};

// Descriptors of this process whose target is `path`, found through
// /proc/self/fd since the FileSystem API hides them.
std::vector<int> DescriptorsOf(const std::string& path) {
  std::vector<int> fds;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return fds;
  // The stream is this function's own.
  // NOLINTNEXTLINE(concurrency-mt-unsafe)
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    const std::string link = std::string("/proc/self/fd/") + entry->d_name;
    char target[4096];
    const ssize_t n = ::readlink(link.c_str(), target, sizeof(target) - 1);
    if (n <= 0) continue;
    if (std::string(target, static_cast<size_t>(n)) == path) {
      fds.push_back(std::atoi(entry->d_name));
    }
  }
  ::closedir(dir);
  return fds;
}

TEST_F(PosixFileSystemTest, IsOneProcessWideInstance) {
  EXPECT_EQ(PosixFileSystem(), PosixFileSystem());
}

TEST_F(PosixFileSystemTest, DescriptorsAreCloseOnExec) {
  // Compare against the canonical path: the temp dir may sit behind a
  // symlink, and /proc shows resolved targets.
  const std::string real = std::filesystem::canonical(dir_.path()).string();

  auto file = fs_->OpenFile(Path("data"), OpenMode::kCreate);
  IO_ASSERT_OK(file);
  auto lock = fs_->LockFile(Path("LOCK"));
  IO_ASSERT_OK(lock);

  for (const char* name : {"data", "LOCK"}) {
    SCOPED_TRACE(name);
    const std::vector<int> fds = DescriptorsOf(JoinPath(real, name));
    ASSERT_EQ(fds.size(), 1u);
    const int flags = ::fcntl(fds[0], F_GETFD);
    ASSERT_GE(flags, 0);
    EXPECT_TRUE(flags & FD_CLOEXEC);
  }
}

TEST_F(PosixFileSystemTest, DestroyingAFileClosesItsDescriptor) {
  const std::string real =
      JoinPath(std::filesystem::canonical(dir_.path()).string(), "data");
  {
    auto file = fs_->OpenFile(Path("data"), OpenMode::kCreate);
    IO_ASSERT_OK(file);
    EXPECT_EQ(DescriptorsOf(real).size(), 1u);
  }
  EXPECT_TRUE(DescriptorsOf(real).empty());
}

TEST_F(PosixFileSystemTest, FullDeviceIsNoSpace) {
  // /dev/full fails every write with ENOSPC.
  auto full = fs_->OpenFile("/dev/full", OpenMode::kReadWrite);
  if (!full.ok()) GTEST_SKIP() << full.status().ToString();
  Status s = WriteString(**full, 0, "x");
  EXPECT_TRUE(s.IsNoSpace()) << s.ToString();
  EXPECT_NE(s.message().find("/dev/full"), std::string::npos);
}

TEST_F(PosixFileSystemTest, ErrorsNameThePathAndErrno) {
  auto missing = fs_->OpenFile(Path("missing"), OpenMode::kReadOnly);
  ASSERT_TRUE(missing.status().IsNotFound());
  EXPECT_NE(missing.status().message().find(Path("missing")),
            std::string::npos);

  auto exists = fs_->OpenFile(Path("f"), OpenMode::kCreate);
  IO_ASSERT_OK(exists);
  Status s = fs_->SyncDir(Path("f"));  // not a directory
  ASSERT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_EQ(s.errno_value(), ENOTDIR);
  EXPECT_NE(s.message().find(Path("f")), std::string::npos);
}

TEST_F(PosixFileSystemTest, AllocateReservesBlocks) {
  auto file = fs_->OpenFile(Path("seg"), OpenMode::kCreate);
  IO_ASSERT_OK(file);
  constexpr uint64_t kSize = 1 << 20;
  IO_ASSERT_OK((*file)->Allocate(kSize));
  struct stat st;
  ASSERT_EQ(::stat(Path("seg").c_str(), &st), 0);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), kSize);
  // Not sparse: st_blocks counts 512-byte units actually allocated.
  EXPECT_GE(static_cast<uint64_t>(st.st_blocks) * 512, kSize);
}

TEST_F(PosixFileSystemTest, NewFilesAreCreatedWith0644) {
  const mode_t old_mask = ::umask(022);
  auto file = fs_->OpenFile(Path("f"), OpenMode::kCreateExclusive);
  ::umask(old_mask);
  IO_ASSERT_OK(file);
  struct stat st;
  ASSERT_EQ(::stat(Path("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST_F(PosixFileSystemTest, LockSurvivesClosingAnotherDescriptorOfTheFile) {
  // With classic POSIX record locks, closing any descriptor of the file
  // drops the process's lock; OFD locks must not have that trap.
  auto lock = fs_->LockFile(Path("LOCK"));
  IO_ASSERT_OK(lock);
  {
    auto other = fs_->OpenFile(Path("LOCK"), OpenMode::kReadWrite);
    IO_ASSERT_OK(other);
    IO_ASSERT_OK((*other)->Close());
  }
  EXPECT_TRUE(fs_->IsLocked(Path("LOCK")));
  EXPECT_TRUE(fs_->LockFile(Path("LOCK")).status().IsLocked());
}

TEST_F(PosixFileSystemTest, LockConflictsWithAnotherProcess) {
  // A child process holds a classic F_SETLK lock (as a non-Cairn tool
  // might). It must conflict with ours, and for classic locks the kernel
  // tells us the holder's pid. Pipes, not sleeps, order the two sides.
  const std::string path = Path("LOCK");
  int locked_pipe[2];
  int release_pipe[2];
  ASSERT_EQ(::pipe2(locked_pipe, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(release_pipe, O_CLOEXEC), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Only async-signal-safe calls between fork and _exit. O_CLOEXEC
    // does not apply to fork: drop the inherited write end, or the read
    // below would never see end of file.
    ::close(release_pipe[1]);
    ::close(locked_pipe[0]);
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    struct flock lock;
    std::memset(&lock, 0, sizeof(lock));
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    const char ok = (fd >= 0 && ::fcntl(fd, F_SETLK, &lock) == 0) ? 1 : 0;
    if (::write(locked_pipe[1], &ok, 1) != 1) ::_exit(2);
    char byte;
    (void)::read(release_pipe[0], &byte, 1);  // returns at EOF
    ::_exit(0);
  }
  ::close(locked_pipe[1]);
  ::close(release_pipe[0]);
  char ok = 0;
  ASSERT_EQ(::read(locked_pipe[0], &ok, 1), 1);
  ::close(locked_pipe[0]);
  ASSERT_EQ(ok, 1);

  EXPECT_TRUE(fs_->IsLocked(path));
  auto ours = fs_->LockFile(path);
  EXPECT_TRUE(ours.status().IsLocked()) << ours.status().ToString();
  EXPECT_NE(ours.status().message().find("(pid " + std::to_string(child) + ")"),
            std::string::npos)
      << ours.status().message();

  ::close(release_pipe[1]);  // the child exits, dropping its lock
  int wstatus = 0;
  ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
  EXPECT_FALSE(fs_->IsLocked(path));
  IO_EXPECT_OK(fs_->LockFile(path));
}

TEST_F(PosixFileSystemTest, MapReadsFileWrittenByAnotherHandle) {
  auto writer = fs_->OpenFile(Path("seg"), OpenMode::kCreate);
  IO_ASSERT_OK(writer);
  IO_ASSERT_OK((*writer)->Allocate(8192));
  auto reader = fs_->OpenFile(Path("seg"), OpenMode::kReadOnly);
  IO_ASSERT_OK(reader);
  auto region = (*reader)->Map(4000, 200);
  IO_ASSERT_OK(region);
  IO_ASSERT_OK(WriteString(**writer, 4096, "across the page"));
  EXPECT_EQ(std::memcmp((*region)->data() + 96, "across the page", 15), 0);
  EXPECT_EQ(ReadString(**reader, 4096, 6), "across");
}

}  // namespace
}  // namespace cairn::io

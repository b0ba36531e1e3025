// Copyright (c) Cairn authors.
//
// What every `cairn` subcommand shares: exit codes, the streams it writes
// to, how errors are reported, opening a store, and buffered output. Each
// subcommand lives in its own cmd_*.cc and registers itself through one of
// the Add*Command functions declared at the end.
#ifndef CAIRN_TOOLS_CLI_COMMAND_H_
#define CAIRN_TOOLS_CLI_COMMAND_H_

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cairn/options.h"
#include "cairn/result.h"
#include "cairn/status.h"
#include "cairn/store.h"

namespace cairn::tools {

// Exit codes of `cairn` (docs/cli.md lists them for users).
enum ExitCode : int {
  kExitOk = 0,
  // An operation failed: I/O error, missing store, locked store, bad input
  // line in an import, ...
  kExitError = 1,
  // The command line itself is wrong (unknown option, bad value).
  kExitUsage = 2,
  // An append's expected version did not match the stream.
  kExitWrongExpectedVersion = 3,
  // The data is damaged: verify or dump found problems, or the store
  // refused to open with a Corruption status.
  kExitDamage = 4,
  // verify: only the index is damaged. It is derived data (the log is
  // intact): `cairn index rebuild` recreates it.
  kExitIndexDamage = 5,
};

// The exit code for a failed operation's status.
int ExitCodeFor(const Status& status);

struct Io {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
};

// A registered subcommand: its parser, and what runs once it was chosen.
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

// `text` as an unsigned decimal number: digits only (no sign, space or
// base prefix; leading zeros are decimal), at most 2^64 - 1.
std::optional<uint64_t> ParseUnsignedDecimal(std::string_view text);

// For an unsigned option: the value must be ParseUnsignedDecimal's. CLI11
// 2.1 would read "-1" as 2^64 - 1 and "010" as octal 8, "0x10" as 16; the
// value is handed on as the number's plain digits, so "010" is ten. Added
// with ->transform.
CLI::Validator UnsignedDecimal();

// Writes "cairn <command>: <message>\n" to io.err and returns `code`.
int Fail(const Io& io, std::string_view command, std::string_view message,
         int code);
// The same for a failed Status, with the exit code it maps to. Wrong
// expected versions read "wrong expected version: expected version 2, but
// the stream is at revision 5".
int FailStatus(const Io& io, std::string_view command, const Status& status);

// Opens the store in `dir`. Read-only opens never create anything and work
// beside a running writer; writable opens create the store if missing.
// Unless `base` has a logger, the store's warnings and errors (repairs at
// open, failed background work) go to standard error as
// "cairn: warning: ..." lines.
Result<std::unique_ptr<Store>> OpenStore(const std::string& dir, bool read_only,
                                         const Options& base = Options());

// Collects output and writes it to a stream in large pieces, so commands
// printing millions of lines do not pay a stream call per line.
class OutputBuffer {
 public:
  explicit OutputBuffer(std::ostream& out) : out_(out) {}
  OutputBuffer(const OutputBuffer&) = delete;
  OutputBuffer& operator=(const OutputBuffer&) = delete;
  ~OutputBuffer() { (void)Flush(); }

  // Append to this, then call MaybeFlush().
  std::string* buffer() { return &buffer_; }
  void MaybeFlush() {
    if (buffer_.size() >= kFlushBytes) (void)Flush();
  }
  // Returns false if the stream reported a write error.
  bool Flush();

 private:
  static constexpr size_t kFlushBytes = 1 << 20;
  std::ostream& out_;
  std::string buffer_;
};

// Parses an --expected value (any, no-stream, exists or a revision):
// InvalidArgument naming the option otherwise.
Result<ExpectedVersion> ParseExpectedOption(const std::string& text);
// "0x0123456789abcdef", "0x89abcdef": fixed-width hex for ids, hashes and
// checksums in dumps.
std::string HexDigits(uint64_t v, int digits);
inline std::string Hex64(uint64_t v) { return HexDigits(v, 16); }
inline std::string Hex32(uint32_t v) { return HexDigits(v, 8); }

// Reads `path` whole ("-" means io.in); InvalidArgument for a directory or
// more than `limit` bytes (read no further), IOError for a read that
// fails or ends short.
Result<std::string> ReadInput(const Io& io, const std::string& path,
                              uint64_t limit);

// Resolves a --data/--metadata argument: "@path" reads a file ("@-" standard
// input); anything else is the value itself. Without `binary` the value
// must be JSON (InvalidArgument naming `what` otherwise); whitespace
// around it is dropped because it carries no meaning and would keep
// `read --json` from showing the value as is.
Status LoadPayload(const Io& io, const std::string& arg, bool binary,
                   std::string_view what, std::string* out);

Command AddAppendCommand(CLI::App& app, const Io& io);
Command AddReadCommand(CLI::App& app, const Io& io);
Command AddReadAllCommand(CLI::App& app, const Io& io);
Command AddImportCommand(CLI::App& app, const Io& io);
Command AddExportCommand(CLI::App& app, const Io& io);
Command AddDumpCommand(CLI::App& app, const Io& io);
Command AddVerifyCommand(CLI::App& app, const Io& io);
Command AddStatsCommand(CLI::App& app, const Io& io);
Command AddDeleteCommand(CLI::App& app, const Io& io);
Command AddTombstoneCommand(CLI::App& app, const Io& io);
Command AddMetadataCommand(CLI::App& app, const Io& io);
Command AddIndexCommand(CLI::App& app, const Io& io);
Command AddBackupCommand(CLI::App& app, const Io& io);
Command AddScavengeCommand(CLI::App& app, const Io& io);
Command AddSnapshotCommand(CLI::App& app, const Io& io);
// Only in builds with the server layer (CAIRN_WITH_SERVER).
Command AddServeCommand(CLI::App& app, const Io& io);

}  // namespace cairn::tools

#endif  // CAIRN_TOOLS_CLI_COMMAND_H_

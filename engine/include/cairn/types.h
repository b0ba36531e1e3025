// Copyright (c) Cairn authors. Public API.
//
// Strong types for the numbers an event store juggles, so a revision can not
// be passed where a global position is meant.
#ifndef CAIRN_TYPES_H_
#define CAIRN_TYPES_H_

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cairn/export.h"

namespace cairn {

// Revision of an event within its stream: 0, 1, 2, ... without gaps.
class StreamRevision {
 public:
  constexpr StreamRevision() = default;
  constexpr explicit StreamRevision(uint64_t value) : value_(value) {}
  constexpr uint64_t value() const { return value_; }
  // NOLINTNEXTLINE(modernize-use-nullptr): as for GlobalPosition below
  constexpr auto operator<=>(const StreamRevision&) const = default;

 private:
  uint64_t value_ = 0;
};

// Position of an event in the global log ($all): 0, 1, 2, ... without gaps,
// assigned in commit order across all streams.
class GlobalPosition {
 public:
  constexpr GlobalPosition() = default;
  constexpr explicit GlobalPosition(uint64_t value) : value_(value) {}
  constexpr uint64_t value() const { return value_; }
  // clang-tidy 14 flags the literal 0 of the defaulted comparison's
  // synthesised body (a false positive of modernize-use-nullptr).
  // NOLINTNEXTLINE(modernize-use-nullptr)
  constexpr auto operator<=>(const GlobalPosition&) const = default;

 private:
  uint64_t value_ = 0;
};

// The optimistic-concurrency condition of an append (KurrentDB semantics).
class CAIRN_EXPORT ExpectedVersion {
 public:
  enum class Kind : uint8_t {
    kAny,           // no check
    kNoStream,      // the stream must not exist yet
    kStreamExists,  // the stream must have at least one event
    kExact,         // the stream's last revision must equal revision()
  };

  static constexpr ExpectedVersion Any() {
    return ExpectedVersion(Kind::kAny, 0);
  }
  static constexpr ExpectedVersion NoStream() {
    return ExpectedVersion(Kind::kNoStream, 0);
  }
  static constexpr ExpectedVersion StreamExists() {
    return ExpectedVersion(Kind::kStreamExists, 0);
  }
  static constexpr ExpectedVersion Exact(uint64_t revision) {
    return ExpectedVersion(Kind::kExact, revision);
  }

  constexpr Kind kind() const { return kind_; }
  // Meaningful only for kExact.
  constexpr uint64_t revision() const { return revision_; }
  constexpr bool operator==(const ExpectedVersion&) const = default;

  // Whether a stream whose last revision is `current` (nullopt: the stream
  // has no events) satisfies this condition.
  constexpr bool Allows(std::optional<uint64_t> current) const {
    switch (kind_) {
      case Kind::kAny:
        return true;
      case Kind::kNoStream:
        return !current.has_value();
      case Kind::kStreamExists:
        return current.has_value();
      case Kind::kExact:
        return current.has_value() && *current == revision_;
    }
    return false;
  }

  // "any", "no-stream", "exists" or the decimal revision.
  std::string ToString() const;
  // Parses the forms ToString() produces; nullopt on anything else.
  static std::optional<ExpectedVersion> Parse(std::string_view text);

 private:
  constexpr ExpectedVersion(Kind kind, uint64_t revision)
      : kind_(kind), revision_(revision) {}
  Kind kind_;
  uint64_t revision_;
};

// A 16-byte event identifier (a UUID). The all-zero id is "nil" and means
// "let the store generate one".
class CAIRN_EXPORT EventId {
 public:
  constexpr EventId() = default;
  explicit EventId(const std::array<uint8_t, 16>& bytes) : bytes_(bytes) {}

  // A random (version 4) UUID.
  static EventId Generate();
  // Accepts the canonical 8-4-4-4-12 hex form (either case).
  static std::optional<EventId> Parse(std::string_view text);

  const std::array<uint8_t, 16>& bytes() const { return bytes_; }
  bool IsNil() const;
  // Lower-case canonical 8-4-4-4-12 form.
  std::string ToString() const;
  // NOLINTNEXTLINE(modernize-use-nullptr): as for GlobalPosition
  auto operator<=>(const EventId&) const = default;

 private:
  std::array<uint8_t, 16> bytes_{};
};

enum class ContentType : uint8_t {
  kBinary = 0,
  kJson = 1,
};

enum class Direction : uint8_t {
  kForward = 0,
  kBackward = 1,
};

}  // namespace cairn

#endif  // CAIRN_TYPES_H_

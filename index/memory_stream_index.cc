// Copyright (c) Cairn authors.
#include <algorithm>
#include <string>
#include <unordered_map>

#include "index/stream_index.h"

namespace cairn::index {
namespace {

// Heterogeneous lookup so a string_view finds a std::string key without a
// temporary allocation on the read path.
struct NameHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const {
    return std::hash<std::string_view>{}(s);
  }
};

class MemoryStreamIndex final : public StreamIndex {
 public:
  bool Add(std::string_view stream, uint64_t revision,
           uint64_t position) override {
    auto it = streams_.find(stream);
    if (it == streams_.end()) {
      if (revision != 0) return false;
      streams_.emplace(std::string(stream), std::vector<uint64_t>{position});
      return true;
    }
    if (revision != it->second.size()) return false;
    it->second.push_back(position);
    return true;
  }

  std::optional<uint64_t> LastRevision(std::string_view stream) const override {
    auto it = streams_.find(stream);
    if (it == streams_.end()) return std::nullopt;
    return it->second.size() - 1;
  }

  std::optional<uint64_t> PositionOf(std::string_view stream,
                                     uint64_t revision) const override {
    auto it = streams_.find(stream);
    if (it == streams_.end() || revision >= it->second.size()) {
      return std::nullopt;
    }
    return it->second[revision];
  }

  void Positions(std::string_view stream, uint64_t from, Direction direction,
                 uint64_t max_count,
                 std::vector<uint64_t>* out) const override {
    auto it = streams_.find(stream);
    if (it == streams_.end()) return;
    const std::vector<uint64_t>& positions = it->second;
    if (from >= positions.size() || max_count == 0) return;
    if (direction == Direction::kForward) {
      uint64_t end =
          from + std::min<uint64_t>(max_count, positions.size() - from);
      out->insert(out->end(), positions.begin() + static_cast<ptrdiff_t>(from),
                  positions.begin() + static_cast<ptrdiff_t>(end));
    } else {
      uint64_t count = std::min<uint64_t>(max_count, from + 1);
      for (uint64_t i = 0; i < count; ++i) out->push_back(positions[from - i]);
    }
  }

  uint64_t StreamCount() const override { return streams_.size(); }

 private:
  std::unordered_map<std::string, std::vector<uint64_t>, NameHash,
                     std::equal_to<>>
      streams_;
};

}  // namespace

std::unique_ptr<StreamIndex> NewMemoryStreamIndex() {
  return std::make_unique<MemoryStreamIndex>();
}

}  // namespace cairn::index

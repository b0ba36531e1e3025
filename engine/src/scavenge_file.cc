// Copyright (c) Cairn authors.
#include "engine/src/scavenge_file.h"

#include <algorithm>
#include <sstream>

#include "segment/checksum.h"
#include "segment/segment_header.h"

namespace cairn::engine {
namespace {

constexpr uint64_t kCommitSeed = 0x53435631;  // "SCV1"
constexpr char kChecksumWord[] = "checksum ";

void AppendList(std::ostringstream& out, const char* word,
                const index::StagedTables& tables) {
  out << word;
  if (!tables.numbers.empty()) {
    out << ' ' << tables.first_position << ' ' << tables.end_position;
    for (const uint64_t table : tables.numbers) out << ' ' << table;
  }
  out << '\n';
}

bool ParseList(const std::string& line, const char* word,
               index::StagedTables* tables) {
  std::istringstream in(line);
  std::string first;
  if (!(in >> first) || first != word) return false;
  if (in >> std::ws; in.eof()) return true;
  if (!(in >> tables->first_position >> tables->end_position) ||
      tables->first_position >= tables->end_position) {
    return false;
  }
  uint64_t table = 0;
  while (in >> table) tables->numbers.push_back(table);
  return in.eof() && !tables->numbers.empty();
}

}  // namespace

std::string EncodeScavengeCommit(const ScavengeCommit& commit) {
  std::ostringstream out;
  out << "cairn-scavenge 1\nstore " << commit.store_id << '\n';
  for (const ScavengeUnitEntry& unit : commit.units) {
    out << "unit " << unit.number << ' ' << unit.generation << ' ' << unit.size
        << ' ' << std::hex << unit.hash << std::dec << '\n';
  }
  AppendList(out, "index", commit.index_tables);
  AppendList(out, "links", commit.link_tables);
  const std::string body = out.str();
  std::ostringstream sum;
  sum << std::hex << segment::Checksum64(body.data(), body.size(), kCommitSeed);
  return body + kChecksumWord + sum.str() + "\n";
}

std::optional<ScavengeCommit> DecodeScavengeCommit(std::string_view text) {
  const size_t last = text.rfind(kChecksumWord);
  if (last == std::string_view::npos || (last > 0 && text[last - 1] != '\n')) {
    return std::nullopt;
  }
  const std::string_view body = text.substr(0, last);
  std::istringstream tail(std::string(text.substr(last + 9)));
  uint64_t sum = 0;
  std::string rest;
  if (!(tail >> std::hex >> sum) || (tail >> rest) ||
      sum != segment::Checksum64(body.data(), body.size(), kCommitSeed)) {
    return std::nullopt;
  }
  std::istringstream in{std::string(body)};
  std::string line;
  ScavengeCommit commit;
  {
    std::string word;
    int version = 0;
    if (!std::getline(in, line)) return std::nullopt;
    std::istringstream first(line);
    if (!(first >> word >> version) || word != "cairn-scavenge" ||
        version != 1) {
      return std::nullopt;
    }
    if (!std::getline(in, line)) return std::nullopt;
    std::istringstream store(line);
    if (!(store >> word >> commit.store_id) || word != "store") {
      return std::nullopt;
    }
  }
  while (std::getline(in, line) && line.rfind("unit ", 0) == 0) {
    std::istringstream unit_line(line.substr(5));
    ScavengeUnitEntry unit;
    std::string extra;
    if (!(unit_line >> unit.number >> unit.generation >> unit.size >>
          std::hex >> unit.hash) ||
        (unit_line >> extra) || unit.generation == 0) {
      return std::nullopt;
    }
    commit.units.push_back(unit);
  }
  if (!ParseList(line, "index", &commit.index_tables)) return std::nullopt;
  if (!std::getline(in, line) ||
      !ParseList(line, "links", &commit.link_tables)) {
    return std::nullopt;
  }
  if (std::getline(in, line)) return std::nullopt;
  // Only the canonical text is a commit: stray whitespace (a damaged
  // newline) or leading zeros are damage, not another spelling.
  if (EncodeScavengeCommit(commit) != text) return std::nullopt;
  return commit;
}

uint64_t ScavengeFileHash(std::string_view bytes) {
  return segment::Checksum64(bytes.data(), bytes.size(), 0);
}

Result<uint64_t> ScavengeFileHashOf(
    io::FileSystem* fs, const std::string& path, uint64_t size, size_t piece,
    std::string* buffer,
    const std::function<void(uint64_t offset, std::string_view bytes)>&
        each_piece) {
  auto file = fs->OpenFile(path, io::OpenMode::kReadOnly);
  if (!file.ok()) return file.status();
  auto file_size = (*file)->Size();
  if (!file_size.ok()) return file_size.status();
  if (*file_size != size) {
    return Status::Corruption(path, 0,
                              "the file has " + std::to_string(*file_size) +
                                  " bytes, expected " + std::to_string(size));
  }
  if (buffer->size() < piece) buffer->resize(piece);
  segment::StreamingChecksum64 hash(0);
  uint64_t done = 0;
  while (done < size) {
    const size_t want =
        static_cast<size_t>(std::min<uint64_t>(piece, size - done));
    size_t got = 0;
    Status s = (*file)->Read(done, buffer->data(), want, &got);
    if (!s.ok()) return s;
    if (got != want) {
      return Status::Corruption(path, done + got,
                                "the file ended while it was read");
    }
    hash.Update(buffer->data(), got);
    if (each_piece) each_piece(done, std::string_view(buffer->data(), got));
    done += got;
  }
  return hash.Digest();
}

}  // namespace cairn::engine

// Copyright (c) Cairn authors.
//
// Parses a Prometheus text exposition (format 0.0.4) and checks the
// format's rules, for the tests of /metrics: metric and label names match
// the format's patterns, each family has one TYPE line before its samples
// and its samples are together, no series appears twice, label values use
// only the three escapes, counters end in _total, and every histogram's
// buckets are cumulative, end with le="+Inf" and match its _count.
#ifndef CAIRN_TESTS_SERVER_PROMETHEUS_EXPOSITION_CHECKER_H_
#define CAIRN_TESTS_SERVER_PROMETHEUS_EXPOSITION_CHECKER_H_

#include <cstdlib>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace cairn::server::testing {

class ExpositionChecker {
 public:
  // Parses `text`; errors() lists every broken rule (empty: valid).
  explicit ExpositionChecker(const std::string& text) { Parse(text); }

  const std::vector<std::string>& errors() const { return errors_; }
  // The value of the series `key`, written as `name{a="x",b="y"}` with the
  // labels in the order of the exposition (-1 if absent).
  double Value(const std::string& key) const {
    auto it = values_.find(key);
    return it == values_.end() ? -1 : it->second;
  }
  bool Has(const std::string& key) const { return values_.count(key) > 0; }
  const std::map<std::string, std::string>& types() const { return types_; }

 private:
  struct Histogram {
    std::vector<std::pair<double, double>> buckets;  // (le, count)
    double count = -1;
  };

  void Error(const std::string& line, const std::string& what) {
    errors_.push_back(what + ": " + line);
  }

  // The family a sample belongs to: its name, or for a histogram's
  // samples the name without _bucket, _sum or _count.
  std::string FamilyOf(const std::string& name) const {
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string s(suffix);
      if (name.size() > s.size() &&
          name.compare(name.size() - s.size(), s.size(), s) == 0) {
        std::string base = name.substr(0, name.size() - s.size());
        auto it = types_.find(base);
        if (it != types_.end() && it->second == "histogram") return base;
      }
    }
    return name;
  }

  void Parse(const std::string& text) {
    static const std::regex kName("[a-zA-Z_:][a-zA-Z0-9_:]*");
    static const std::regex kLabelName("[a-zA-Z_][a-zA-Z0-9_]*");
    if (!text.empty() && text.back() != '\n') {
      errors_.emplace_back("the exposition must end with a line feed");
    }
    std::istringstream lines(text);
    std::string line;
    std::string current;  // family of the last TYPE line
    std::set<std::string> helps;
    std::set<std::string> finished;  // families whose samples have ended
    std::set<std::string> series;
    std::map<std::string, Histogram> histograms;
    while (std::getline(lines, line)) {
      if (line.empty()) continue;
      if (line[0] == '#') {
        std::istringstream words(line);
        std::string hash, keyword, name, rest;
        words >> hash >> keyword >> name;
        if (keyword != "HELP" && keyword != "TYPE") continue;  // a comment
        if (!std::regex_match(name, kName)) Error(line, "bad metric name");
        if (keyword == "HELP") {
          if (!helps.insert(name).second) Error(line, "second HELP");
          continue;
        }
        words >> rest;
        if (types_.count(name) > 0) Error(line, "second TYPE");
        if (rest != "counter" && rest != "gauge" && rest != "histogram" &&
            rest != "summary" && rest != "untyped") {
          Error(line, "bad type");
        }
        if (rest == "counter" &&
            (name.size() < 6 || name.substr(name.size() - 6) != "_total")) {
          Error(line, "counter without _total");
        }
        if (!current.empty()) finished.insert(current);
        types_[name] = rest;
        current = name;
        continue;
      }
      // name{labels} value
      size_t i = 0;
      while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
      const std::string name = line.substr(0, i);
      if (!std::regex_match(name, kName)) Error(line, "bad metric name");
      std::string key = name;
      double le = -1;
      bool has_le = false;
      if (i < line.size() && line[i] == '{') {
        ++i;
        key += "{";
        bool first = true;
        while (i < line.size() && line[i] != '}') {
          size_t eq = line.find('=', i);
          if (eq == std::string::npos || eq + 1 >= line.size() ||
              line[eq + 1] != '"') {
            Error(line, "bad label");
            return;
          }
          const std::string label = line.substr(i, eq - i);
          if (!std::regex_match(label, kLabelName)) Error(line, "label name");
          std::string value;
          size_t j = eq + 2;
          for (; j < line.size() && line[j] != '"'; ++j) {
            if (line[j] == '\\') {
              ++j;
              if (j >= line.size()) break;
              if (line[j] == 'n') {
                value.push_back('\n');
              } else if (line[j] == '\\' || line[j] == '"') {
                value.push_back(line[j]);
              } else {
                Error(line, "bad escape in a label value");
              }
            } else {
              value.push_back(line[j]);
            }
          }
          if (j >= line.size()) {
            Error(line, "unterminated label value");
            return;
          }
          if (label == "le") {
            has_le = true;
            le = value == "+Inf" ? 1e308 : std::strtod(value.c_str(), nullptr);
          }
          key += (first ? "" : ",") + label + "=\"" +
                 line.substr(eq + 2, j - eq - 2) + "\"";
          first = false;
          i = j + 1;
          if (i < line.size() && line[i] == ',') ++i;
        }
        if (i >= line.size()) {
          Error(line, "unterminated labels");
          return;
        }
        key += "}";
        ++i;
      }
      if (i >= line.size() || line[i] != ' ') {
        Error(line, "no value");
        continue;
      }
      const std::string value_text = line.substr(i + 1);
      char* end = nullptr;
      double value = std::strtod(value_text.c_str(), &end);
      if (value_text == "+Inf") value = 1e308;
      if (value_text != "+Inf" && (end == value_text.c_str() || *end != '\0')) {
        Error(line, "bad value");
      }
      const std::string family = FamilyOf(name);
      if (types_.count(family) == 0) Error(line, "sample before its TYPE");
      if (finished.count(family) > 0 || family != current) {
        Error(line, "sample outside its family's block");
      }
      if (!series.insert(key).second) Error(line, "duplicate series");
      values_[key] = value;
      if (types_[family] == "histogram") {
        Histogram& h = histograms[family];
        if (name == family + "_bucket") {
          if (!has_le) Error(line, "bucket without le");
          h.buckets.emplace_back(le, value);
        } else if (name == family + "_count") {
          h.count = value;
        }
      }
    }
    for (const auto& [family, h] : histograms) {
      if (h.buckets.empty() || h.buckets.back().first != 1e308) {
        errors_.push_back(family + ": buckets do not end with +Inf");
        continue;
      }
      for (size_t k = 1; k < h.buckets.size(); ++k) {
        if (h.buckets[k].first <= h.buckets[k - 1].first) {
          errors_.push_back(family + ": bucket bounds not increasing");
        }
        if (h.buckets[k].second < h.buckets[k - 1].second) {
          errors_.push_back(family + ": bucket counts decrease");
        }
      }
      if (h.buckets.back().second != h.count) {
        errors_.push_back(family + ": +Inf bucket differs from _count");
      }
    }
  }

  std::vector<std::string> errors_;
  std::map<std::string, double> values_;
  std::map<std::string, std::string> types_;
};

}  // namespace cairn::server::testing

#endif  // CAIRN_TESTS_SERVER_PROMETHEUS_EXPOSITION_CHECKER_H_

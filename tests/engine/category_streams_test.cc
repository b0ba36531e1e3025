// Copyright (c) Cairn authors.
//
// Category and event-type streams ($ce-<category>, $et-<type>): reads
// forwards and backwards, gapless revisions in commit order under
// concurrent appends, refusal of appends, the option that turns them off,
// reopen, rebuild and crash recovery of their index, stream subscriptions
// across catch-up into live, and read-only openers.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <latch>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "cairn/cairn.h"
#include "engine/src/store_impl.h"
#include "testing/fault_injection_file_system.h"
#include "testing/memory_file_system.h"
#include "tests/support/store_test_util.h"
#include "tests/support/subscription_recorder.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using testing::Event;
using testing::SubscriptionRecorder;

// One appended event, as the model of what the link streams must hold.
struct Appended {
  std::string stream;
  uint64_t revision;
  uint64_t position;
  std::string type;
};

// What $ce-/$et- streams should hold: for each name, the appended events
// in position order.
using Model = std::map<std::string, std::vector<Appended>>;

std::string CategoryOf(const std::string& stream) {
  const size_t dash = stream.find('-');
  if (dash == std::string::npos || dash == 0) return "";
  return "$ce-" + stream.substr(0, dash);
}

Model BuildModel(const std::vector<Appended>& appended) {
  Model model;
  for (const Appended& a : appended) {
    const std::string category = CategoryOf(a.stream);
    if (!category.empty()) model[category].push_back(a);
    if (a.type.front() != '$') model["$et-" + a.type].push_back(a);
  }
  return model;
}

// Appends `count` single-event appends over a few categories, streams
// without a category and a few types, remembering them.
void Fill(Store* store, int count, std::vector<Appended>* appended) {
  static const char* kStreams[] = {"Order-1", "Order-2",   "Customer-7",
                                   "plain",   "Order-1-x", "-lead"};
  static const char* kTypes[] = {"Placed", "Shipped", "$system", "Created"};
  for (int i = 0; i < count; ++i) {
    const std::string stream = kStreams[(appended->size() * 7 + 3) % 6];
    const std::string type = kTypes[(appended->size() * 5 + 1) % 4];
    auto r = store->Append(stream, ExpectedVersion::Any(), {Event(type)});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    appended->push_back(
        {stream, r->first_revision.value(), r->first_position.value(), type});
  }
}

// Every link stream of the model reads back exactly, forwards in pages and
// backwards, with gapless link revisions.
void ExpectModel(Store* store, const std::vector<Appended>& appended) {
  const Model model = BuildModel(appended);
  for (const auto& [name, events] : model) {
    SCOPED_TRACE(name);
    auto last = store->GetStreamRevision(name);
    ASSERT_TRUE(last.ok()) << last.status().ToString();
    ASSERT_TRUE(last->has_value());
    EXPECT_EQ(last->value(), StreamRevision(events.size() - 1));
    std::vector<RecordedEvent> forward;
    ReadStreamOptions page = testing::StreamUpTo(7);
    for (;;) {
      page.from = StreamRevision(forward.size());
      auto read = store->ReadStream(name, page);
      ASSERT_TRUE(read.ok()) << read.status().ToString();
      forward.insert(forward.end(), read->events.begin(), read->events.end());
      if (read->end_of_stream) break;
      ASSERT_FALSE(read->events.empty());
    }
    ASSERT_EQ(forward.size(), events.size());
    for (size_t i = 0; i < events.size(); ++i) {
      const RecordedEvent& e = forward[i];
      ASSERT_EQ(e.link_revision, StreamRevision(i));
      EXPECT_EQ(e.stream, events[i].stream);
      EXPECT_EQ(e.revision, StreamRevision(events[i].revision));
      EXPECT_EQ(e.position, GlobalPosition(events[i].position));
      EXPECT_EQ(e.type, events[i].type);
    }
    ReadStreamOptions back;
    back.direction = Direction::kBackward;
    auto read = store->ReadStream(name, back);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    ASSERT_EQ(read->events.size(), events.size());
    EXPECT_TRUE(read->end_of_stream);
    for (size_t i = 0; i < events.size(); ++i) {
      EXPECT_EQ(read->events[i].position,
                GlobalPosition(events[events.size() - 1 - i].position));
    }
  }
}

Options SmallTables() {
  Options o = testing::SmallOptions();
  o.segment_size = 64 * 1024;
  o.index_memtable_events = 50;  // several tables, and merges
  return o;
}

std::unique_ptr<Store> Open(const std::string& dir, const Options& options) {
  auto store = Store::Open(dir, options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

// One writer session: opens, checks what is there, appends, checks again,
// closes.
void Session(const std::string& dir, const Options& options, int appends,
             std::vector<Appended>* appended) {
  auto store = Open(dir, options);
  ASSERT_NE(store, nullptr);
  ExpectModel(store.get(), *appended);
  Fill(store.get(), appends, appended);
  ExpectModel(store.get(), *appended);
  CAIRN_ASSERT_OK(store->Close());
}

TEST(CategoryStreamsTest, ReadsForwardsAndBackwardsFromAnyRevision) {
  testing::TempDir dir;
  auto store = Open(dir.path(), testing::SmallOptions());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store
                  ->Append("Order-1", ExpectedVersion::NoStream(),
                           {Event("Placed"), Event("Shipped")})
                  .ok());
  ASSERT_TRUE(
      store->Append("Customer-1", ExpectedVersion::Any(), {Event("Created")})
          .ok());
  ASSERT_TRUE(
      store->Append("Order-2", ExpectedVersion::Any(), {Event("Placed")}).ok());
  ASSERT_TRUE(
      store->Append("plain", ExpectedVersion::Any(), {Event("Placed")}).ok());

  auto ce = store->ReadStream("$ce-Order", {});
  ASSERT_TRUE(ce.ok()) << ce.status().ToString();
  ASSERT_EQ(ce->events.size(), 3u);
  EXPECT_EQ(ce->last_revision, StreamRevision(2));
  EXPECT_TRUE(ce->end_of_stream);
  const uint64_t positions[] = {0, 1, 3};
  const char* streams[] = {"Order-1", "Order-1", "Order-2"};
  const uint64_t revisions[] = {0, 1, 0};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(ce->events[i].link_revision, StreamRevision(i));
    EXPECT_EQ(ce->events[i].position, GlobalPosition(positions[i]));
    EXPECT_EQ(ce->events[i].stream, streams[i]);
    EXPECT_EQ(ce->events[i].revision, StreamRevision(revisions[i]));
  }

  ReadStreamOptions from1;
  from1.from = StreamRevision(1);
  from1.max_count = 1;
  auto one = store->ReadStream("$ce-Order", from1);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->events.size(), 1u);
  EXPECT_EQ(one->events[0].type, "Shipped");
  EXPECT_FALSE(one->end_of_stream);

  ReadStreamOptions back;
  back.direction = Direction::kBackward;
  back.from = StreamRevision(1);
  auto et = store->ReadStream("$et-Placed", back);
  ASSERT_TRUE(et.ok()) << et.status().ToString();
  ASSERT_EQ(et->events.size(), 2u);
  EXPECT_EQ(et->events[0].stream, "Order-2");
  EXPECT_EQ(et->events[0].link_revision, StreamRevision(1));
  EXPECT_EQ(et->events[1].stream, "Order-1");
  EXPECT_EQ(et->last_revision, StreamRevision(2));  // "plain" is the third

  // A plain stream's events carry no link revision.
  auto plain = store->ReadStream("Order-1", {});
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->events[0].link_revision.has_value());

  // No category without a '-': "plain" is in no $ce- stream.
  EXPECT_TRUE(store->ReadStream("$ce-plain", {}).status().IsNotFound());
  auto none = store->GetStreamRevision("$ce-plain");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST(CategoryStreamsTest, SystemTypesAndEmptyCategoriesAreInNoStream) {
  testing::TempDir dir;
  auto store = Open(dir.path(), testing::SmallOptions());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(
      store->Append("-lead", ExpectedVersion::Any(), {Event("Placed")}).ok());
  ASSERT_TRUE(
      store->Append("Order-1", ExpectedVersion::Any(), {Event("$internal")})
          .ok());
  EXPECT_TRUE(store->ReadStream("$ce-", {}).status().IsNotFound());
  EXPECT_TRUE(store->ReadStream("$et-$internal", {}).status().IsNotFound());
  auto ce = store->ReadStream("$ce-Order", {});
  ASSERT_TRUE(ce.ok());
  ASSERT_EQ(ce->events.size(), 1u);
  EXPECT_EQ(ce->events[0].type, "$internal");
  auto et = store->ReadStream("$et-Placed", {});
  ASSERT_TRUE(et.ok());
  EXPECT_EQ(et->events.size(), 1u);
}

TEST(CategoryStreamsTest, AppendsToThemAreRefusedAndChangeNothing) {
  testing::TempDir dir;
  auto store = Open(dir.path(), testing::SmallOptions());
  ASSERT_NE(store, nullptr);
  for (const char* name : {"$ce-Order", "$et-Placed"}) {
    auto r = store->Append(name, ExpectedVersion::Any(), {Event("Placed")});
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
    EXPECT_NE(r.status().message().find("category or event-type"),
              std::string::npos);
  }
  auto stats = store->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->events, 0u);
}

TEST(CategoryStreamsTest, RevisionsAreGaplessInCommitOrderUnderConcurrency) {
  testing::TempDir dir;
  auto store = Open(dir.path(), SmallTables());
  ASSERT_NE(store, nullptr);
  constexpr int kWriters = 4;
  constexpr int kAppends = 150;
  std::latch start(kWriters);
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      start.arrive_and_wait();
      for (int i = 0; i < kAppends; ++i) {
        const std::string type = (i % 2 == 0) ? "Even" : "Odd";
        auto r =
            store->Append("Order-" + std::to_string(w), ExpectedVersion::Any(),
                          {Event(type), Event(type)});
        ASSERT_TRUE(r.ok()) << r.status().ToString();
      }
    });
  }
  for (auto& t : writers) t.join();
  auto ce = store->ReadStream("$ce-Order", testing::StreamUpTo(1 << 20));
  ASSERT_TRUE(ce.ok()) << ce.status().ToString();
  ASSERT_EQ(ce->events.size(), size_t{kWriters * kAppends * 2});
  std::map<std::string, uint64_t> next_revision;
  for (size_t i = 0; i < ce->events.size(); ++i) {
    const RecordedEvent& e = ce->events[i];
    ASSERT_EQ(e.link_revision, StreamRevision(i));
    // Commit order: every event of the store is in $ce-Order, so its link
    // revision is its position; and each stream's own order is kept.
    ASSERT_EQ(e.position, GlobalPosition(i));
    ASSERT_EQ(e.revision, StreamRevision(next_revision[e.stream]++));
  }
  uint64_t previous = 0;
  auto even = store->ReadStream("$et-Even", testing::StreamUpTo(1 << 20));
  ASSERT_TRUE(even.ok());
  ASSERT_EQ(even->events.size(), size_t{kWriters * kAppends});
  for (size_t i = 0; i < even->events.size(); ++i) {
    ASSERT_EQ(even->events[i].link_revision, StreamRevision(i));
    ASSERT_EQ(even->events[i].type, "Even");
    if (i > 0) {
      ASSERT_GT(even->events[i].position.value(), previous);
    }
    previous = even->events[i].position.value();
  }
}

TEST(CategoryStreamsTest, SurviveReopenAndRebuild) {
  testing::TempDir dir;
  std::vector<Appended> appended;
  Session(dir.path(), SmallTables(), 700, &appended);
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(dir.path()) /
                                      "index" / "links" / "MANIFEST"));
  Session(dir.path(), SmallTables(), 30, &appended);
  Options rebuild = SmallTables();
  rebuild.rebuild_index = true;
  uint64_t replayed = 0;
  rebuild.open_progress = [&](const OpenProgress& p) { replayed = p.events; };
  auto store = Open(dir.path(), rebuild);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(replayed, appended.size());
  ExpectModel(store.get(), appended);
}

TEST(CategoryStreamsTest, OptionOffRefusesReadsAndReopeningOnCatchesUp) {
  testing::TempDir dir;
  std::vector<Appended> appended;
  Session(dir.path(), SmallTables(), 120, &appended);
  Options off = SmallTables();
  off.category_and_type_streams = false;
  {
    auto store = Open(dir.path(), off);
    ASSERT_NE(store, nullptr);
    auto read = store->ReadStream("$ce-Order", {});
    EXPECT_EQ(read.status().code(), StatusCode::kNotSupported)
        << read.status().ToString();
    EXPECT_EQ(store->GetStreamRevision("$et-Placed").status().code(),
              StatusCode::kNotSupported);
    Fill(store.get(), 200, &appended);
    // Appends to them stay refused with the option off.
    EXPECT_TRUE(
        store->Append("$ce-Order", ExpectedVersion::Any(), {Event("Placed")})
            .status()
            .IsInvalidArgument());
    CAIRN_ASSERT_OK(store->Close());
  }
  uint64_t replayed = 0;
  Options on = SmallTables();
  on.open_progress = [&](const OpenProgress& p) { replayed = p.events; };
  auto store = Open(dir.path(), on);
  ASSERT_NE(store, nullptr);
  // The link index replays what it lacks: the appends made while off.
  EXPECT_EQ(replayed, 200u);
  ExpectModel(store.get(), appended);
}

TEST(CategoryStreamsTest, CrashRecoveryKeepsRevisionsGapless) {
  io::MemoryFileSystem base;
  std::vector<Appended> appended;
  Options options = SmallTables();
  for (int incarnation = 0; incarnation < 3; ++incarnation) {
    io::FaultInjectionFileSystem process(&base, 1);
    process.set_crash_options(io::CrashOptions::LoseUnsynced());
    auto opened = engine::StoreImpl::Open(&process, "/store", options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    ExpectModel(opened->get(), appended);
    Fill(opened->get(), 160, &appended);
    if (incarnation == 1) {
      static_cast<engine::StoreImpl*>(opened->get())->WaitIndexIdle();
    }
    process.Crash();
  }
  auto store = engine::StoreImpl::Open(&base, "/store", options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ExpectModel(store->get(), appended);
}

// Reads every link stream of the model: each read must succeed and match
// it.
void ExpectReadsMatch(Store* store, const std::vector<Appended>& appended) {
  for (const auto& [name, events] : BuildModel(appended)) {
    ReadStreamOptions options = testing::StreamUpTo(1 << 20);
    auto read = store->ReadStream(name, options);
    if (!read.ok()) {
      ADD_FAILURE() << name << ": " << read.status().ToString();
      continue;
    }
    EXPECT_EQ(read->events.size(), events.size()) << name;
    for (size_t i = 0; i < read->events.size() && i < events.size(); ++i) {
      EXPECT_EQ(read->events[i].position, GlobalPosition(events[i].position))
          << name << " " << i;
    }
  }
}

// A bit flip anywhere in the link index's files costs nothing: the open
// drops what fails its checks and replays the log, and the reads that meet
// a damaged entry block rebuild it from the log.
TEST(CategoryStreamsTest, DamagedLinkIndexFilesAreRebuilt) {
  namespace fs = std::filesystem;
  testing::TempDir dir;
  const fs::path pristine = fs::path(dir.path()) / "pristine";
  std::vector<Appended> appended;
  Session(pristine.string(), SmallTables(), 400, &appended);
  std::vector<std::pair<std::string, uint64_t>> flips;
  for (const auto& entry :
       fs::directory_iterator(pristine / "index" / "links")) {
    const uint64_t size = entry.file_size();
    // The header, the first fence, and the revision of the last block's
    // first entry (damage past a block's last entry is read by no lookup).
    for (uint64_t offset :
         {uint64_t{30}, uint64_t{4096 + 8}, size - 4096 + 8}) {
      if (offset < size) {
        flips.emplace_back(entry.path().filename().string(), offset);
      }
    }
  }
  ASSERT_GE(flips.size(), 4u);
  for (const auto& [file, offset] : flips) {
    SCOPED_TRACE(file + " at " + std::to_string(offset));
    const fs::path store = fs::path(dir.path()) / "damaged";
    fs::remove_all(store);
    fs::copy(pristine, store, fs::copy_options::recursive);
    {
      std::fstream f(store / "index" / "links" / file,
                     std::ios::in | std::ios::out | std::ios::binary);
      f.seekg(static_cast<std::streamoff>(offset));
      const char byte = static_cast<char>(f.get() ^ 0x10);
      f.seekp(static_cast<std::streamoff>(offset));
      f.put(byte);
    }
    for (int open = 0; open < 2; ++open) {
      SCOPED_TRACE("open " + std::to_string(open));
      auto opened = Open(store.string(), SmallTables());
      ASSERT_NE(opened, nullptr);
      ExpectReadsMatch(opened.get(), appended);
    }
  }
}

TEST(CategoryStreamsTest, SubscriptionCatchesUpThenGoesLive) {
  testing::TempDir dir;
  auto store = Open(dir.path(), testing::SmallOptions());
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(store
                    ->Append(i % 2 ? "Order-" + std::to_string(i) : "Other-1",
                             ExpectedVersion::Any(), {Event("Placed")})
                    .ok());
  }
  auto recorder = std::make_shared<SubscriptionRecorder>();
  SubscriptionOptions options;
  options.stream = "$ce-Order";
  options.batch_size = 3;
  auto sub = store->Subscribe(options, recorder);
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();
  ASSERT_TRUE(recorder->WaitForEvents(10));
  ASSERT_TRUE(
      recorder->WaitFor([&] { return !recorder->caught_up_locked().empty(); }));
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(store
                    ->Append(i % 2 ? "Order-x" : "Other-2",
                             ExpectedVersion::Any(), {Event("Live")})
                    .ok());
  }
  ASSERT_TRUE(recorder->WaitForEvents(15));
  (*sub)->Stop();
  auto events = recorder->events();
  ASSERT_EQ(events.size(), 15u);
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].link_revision, StreamRevision(i));
    EXPECT_EQ(events[i].stream.rfind("Order-", 0), 0u);
    EXPECT_EQ(events[i].type, i < 10 ? "Placed" : "Live");
  }
}

TEST(CategoryStreamsTest, ReadOnlyOpenerReadsThem) {
  testing::TempDir dir;
  std::vector<Appended> appended;
  auto writer = Open(dir.path(), SmallTables());
  ASSERT_NE(writer, nullptr);
  Fill(writer.get(), 260, &appended);
  Options read_only = SmallTables();
  read_only.read_only = true;
  auto reader = Open(dir.path(), read_only);
  ASSERT_NE(reader, nullptr);
  ExpectModel(reader.get(), appended);
  Fill(writer.get(), 90, &appended);
  ExpectModel(reader.get(), appended);
}

}  // namespace
}  // namespace cairn

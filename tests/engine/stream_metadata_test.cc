// Copyright (c) Cairn authors.
//
// Stream metadata: the JSON codec's rules (KurrentDB's), and getting and
// setting metadata through the store with optimistic concurrency.
#include <gtest/gtest.h>

#include <string>

#include "cairn/cairn.h"
#include "tests/support/store_test_util.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using testing::Events;

TEST(StreamMetadataJsonTest, ParsesEveryKnownProperty) {
  auto m = StreamMetadata::FromJson(
      R"({"$maxCount":5,"$maxAge":60,"$tb":2,"$cacheControl":30,)"
      R"("$acl":{"$r":"$all","$w":["ops","admin"],"$mr":[]},)"
      R"("owner":{"team":"orders"},"$tmp":true})");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->max_count, 5u);
  EXPECT_EQ(m->max_age_seconds, 60u);
  EXPECT_EQ(m->truncate_before, 2u);
  EXPECT_EQ(m->cache_control_seconds, 30u);
  ASSERT_TRUE(m->acl.has_value());
  EXPECT_EQ(m->acl->read, std::vector<std::string>{"$all"});
  EXPECT_EQ(m->acl->write, (std::vector<std::string>{"ops", "admin"}));
  EXPECT_EQ(m->acl->meta_read, std::vector<std::string>{});
  EXPECT_FALSE(m->acl->delete_.has_value());
  EXPECT_FALSE(m->acl->meta_write.has_value());
  ASSERT_EQ(m->custom.size(), 2u);
  EXPECT_EQ(m->custom[0].first, "owner");
  EXPECT_EQ(m->custom[0].second, R"({"team":"orders"})");
  EXPECT_EQ(m->custom[1].first, "$tmp");
  EXPECT_EQ(m->custom[1].second, "true");
}

TEST(StreamMetadataJsonTest, RefusesBadValuesNamingTheProperty) {
  const std::pair<const char*, const char*> cases[] = {
      {"[]", "object"},
      {"{", "valid JSON"},
      {R"({"$maxCount":0})", "$maxCount"},
      {R"({"$maxCount":-1})", "$maxCount"},
      {R"({"$maxCount":1.5})", "$maxCount"},
      {R"({"$maxCount":"5"})", "$maxCount"},
      {R"({"$maxAge":0})", "$maxAge"},
      {R"({"$cacheControl":0})", "$cacheControl"},
      {R"({"$tb":-1})", "$tb"},
      {R"({"$tb":9223372036854775808})", "$tb"},
      {R"({"$acl":[]})", "$acl"},
      {R"({"$acl":{"$w":5}})", "$acl.$w"},
      {R"({"$acl":{"$r":["a",1]}})", "$acl.$r"},
  };
  for (const auto& [json, property] : cases) {
    auto m = StreamMetadata::FromJson(json);
    ASSERT_FALSE(m.ok()) << json;
    EXPECT_TRUE(m.status().IsInvalidArgument()) << json;
    EXPECT_NE(m.status().message().find(property), std::string::npos)
        << json << ": " << m.status().message();
  }
}

TEST(StreamMetadataJsonTest, TruncateBeforeAcceptsTheSoftDeleteMarker) {
  auto m = StreamMetadata::FromJson(R"({"$tb":9223372036854775807})");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->truncate_before, kSoftDeletedTruncateBefore);
}

TEST(StreamMetadataJsonTest, ToJsonRoundTrips) {
  StreamMetadata m;
  m.max_count = 3;
  m.max_age_seconds = 86400;
  m.acl = StreamAcl{};
  m.acl->delete_ = std::vector<std::string>{"ops"};
  m.custom = {{"note", R"("keep")"}, {"n", "[1, 2]"}};
  auto json = m.ToJson();
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  EXPECT_EQ(*json, R"({"$maxCount":3,"$maxAge":86400,"$acl":{"$d":["ops"]},)"
                   R"("note":"keep","n":[1,2]})");
  auto back = StreamMetadata::FromJson(*json);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->max_count, m.max_count);
  EXPECT_EQ(back->acl, m.acl);
  EXPECT_EQ(back->custom[1].second, "[1,2]");
}

TEST(StreamMetadataJsonTest, ToJsonRefusesBadFields) {
  StreamMetadata zero;
  zero.max_count = 0;
  EXPECT_TRUE(zero.ToJson().status().IsInvalidArgument());
  StreamMetadata bad_custom;
  bad_custom.custom = {{"x", "{not json"}};
  EXPECT_TRUE(bad_custom.ToJson().status().IsInvalidArgument());
}

class StreamMetadataStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Store::Open(dir_.Sub("store"), testing::SmallOptions());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }
  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StreamMetadataStoreTest, UnsetMetadataIsEmpty) {
  CAIRN_ASSERT_OK_AND_ASSIGN(got, store_->GetStreamMetadata("Order-1"));
  EXPECT_EQ(got.json, "{}");
  EXPECT_FALSE(got.metastream_revision.has_value());
  EXPECT_EQ(got.metadata, StreamMetadata{});
}

TEST_F(StreamMetadataStoreTest, StoresJsonByteForByte) {
  const std::string json =
      "{ \"$maxCount\" : 10,\n  \"custom\": {\"b\": 1.50, \"a\": \"\\u00e9\"} "
      "}";
  CAIRN_ASSERT_OK_AND_ASSIGN(
      set, store_->SetStreamMetadataJson("Order-1", ExpectedVersion::NoStream(),
                                         json));
  EXPECT_EQ(set.first_revision, StreamRevision(0));
  CAIRN_ASSERT_OK_AND_ASSIGN(got, store_->GetStreamMetadata("Order-1"));
  EXPECT_EQ(got.json, json);
  EXPECT_EQ(got.metadata.max_count, 10u);
  EXPECT_EQ(got.metastream_revision, StreamRevision(0));
  // The metadata is an event of "$$Order-1" in the global log.
  CAIRN_ASSERT_OK_AND_ASSIGN(all, store_->ReadAll(testing::AllUpTo(10)));
  ASSERT_EQ(all.events.size(), 1u);
  EXPECT_EQ(all.events[0].stream, "$$Order-1");
  EXPECT_EQ(all.events[0].type, "$metadata");
  EXPECT_EQ(all.events[0].data, json);
}

TEST_F(StreamMetadataStoreTest, TypedSetWritesTheJson) {
  StreamMetadata m;
  m.max_age_seconds = 5;
  m.custom = {{"owner", R"("billing")"}};
  CAIRN_ASSERT_OK(
      store_->SetStreamMetadata("s", ExpectedVersion::Any(), m).status());
  CAIRN_ASSERT_OK_AND_ASSIGN(got, store_->GetStreamMetadata("s"));
  EXPECT_EQ(got.json, R"({"$maxAge":5,"owner":"billing"})");
  EXPECT_EQ(got.metadata, m);
}

TEST_F(StreamMetadataStoreTest, OptimisticConcurrencyOnTheMetadataStream) {
  CAIRN_ASSERT_OK(store_
                      ->SetStreamMetadataJson("s", ExpectedVersion::NoStream(),
                                              R"({"$maxCount":1})")
                      .status());
  auto again = store_->SetStreamMetadataJson("s", ExpectedVersion::NoStream(),
                                             R"({"$maxCount":2})");
  ASSERT_TRUE(again.status().IsWrongExpectedVersion());
  EXPECT_EQ(again.status().wrong_expected_version()->actual_revision, 0u);
  CAIRN_ASSERT_OK(store_
                      ->SetStreamMetadataJson("s", ExpectedVersion::Exact(0),
                                              R"({"$maxCount":2})")
                      .status());
  auto stale = store_->SetStreamMetadataJson("s", ExpectedVersion::Exact(0),
                                             R"({"$maxCount":3})");
  EXPECT_TRUE(stale.status().IsWrongExpectedVersion());
  CAIRN_ASSERT_OK_AND_ASSIGN(got, store_->GetStreamMetadata("s"));
  EXPECT_EQ(got.metadata.max_count, 2u);
  EXPECT_EQ(got.metastream_revision, StreamRevision(1));
}

TEST_F(StreamMetadataStoreTest, BadInputChangesNothing) {
  EXPECT_TRUE(store_
                  ->SetStreamMetadataJson("s", ExpectedVersion::Any(),
                                          R"({"$maxCount":0})")
                  .status()
                  .IsInvalidArgument());
  EXPECT_TRUE(store_->SetStreamMetadataJson("$$s", ExpectedVersion::Any(), "{}")
                  .status()
                  .IsInvalidArgument());
  EXPECT_TRUE(store_->SetStreamMetadataJson("", ExpectedVersion::Any(), "{}")
                  .status()
                  .IsInvalidArgument());
  EXPECT_TRUE(store_->GetStreamMetadata("$$s").status().IsInvalidArgument());
  CAIRN_ASSERT_OK_AND_ASSIGN(stats, store_->GetStats());
  EXPECT_EQ(stats.events, 0u);
}

TEST_F(StreamMetadataStoreTest, UserAppendsCanNotWriteSystemRecords) {
  EXPECT_TRUE(store_->Append("$$s", ExpectedVersion::Any(), Events(1))
                  .status()
                  .IsInvalidArgument());
  EXPECT_TRUE(store_
                  ->Append("s", ExpectedVersion::Any(),
                           {testing::Event("$streamDeleted")})
                  .status()
                  .IsInvalidArgument());
}

TEST_F(StreamMetadataStoreTest, MetadataSurvivesReopen) {
  CAIRN_ASSERT_OK(store_
                      ->SetStreamMetadataJson("s", ExpectedVersion::Any(),
                                              R"({"$maxCount":7,"x":1})")
                      .status());
  CAIRN_ASSERT_OK(store_->Close());
  store_.reset();
  Options rebuild = testing::SmallOptions();
  rebuild.rebuild_index = true;
  CAIRN_ASSERT_OK_AND_ASSIGN(reopened, Store::Open(dir_.Sub("store"), rebuild));
  CAIRN_ASSERT_OK_AND_ASSIGN(got, reopened->GetStreamMetadata("s"));
  EXPECT_EQ(got.json, R"({"$maxCount":7,"x":1})");
  EXPECT_EQ(got.metastream_revision, StreamRevision(0));
}

}  // namespace
}  // namespace cairn

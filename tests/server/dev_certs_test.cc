// Copyright (c) Cairn authors.
#include "server/dev_certs.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <string>

#include "server/openssl_ptr.h"
#include "server/tls_files.h"
#include "tests/support/temp_dir.h"

namespace cairn::server {
namespace {

X509Ptr ParseCertificate(const std::string& pem) {
  BioPtr bio = MemoryBio(pem);
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

TEST(DevCertsTest, NodeCertificateChainsToTheCaAndNamesLocalhost) {
  auto certificates = GenerateDevCertificates();
  ASSERT_TRUE(certificates.ok()) << certificates.status().ToString();
  X509Ptr ca = ParseCertificate(certificates.value().ca_cert_pem);
  X509Ptr node = ParseCertificate(certificates.value().node_cert_pem);
  ASSERT_TRUE(ca && node);

  std::unique_ptr<X509_STORE, OpenSslFree<X509_STORE, X509_STORE_free>> store(
      X509_STORE_new());
  ASSERT_EQ(X509_STORE_add_cert(store.get(), ca.get()), 1);
  std::unique_ptr<X509_STORE_CTX,
                  OpenSslFree<X509_STORE_CTX, X509_STORE_CTX_free>>
      context(X509_STORE_CTX_new());
  ASSERT_EQ(
      X509_STORE_CTX_init(context.get(), store.get(), node.get(), nullptr), 1);
  X509_STORE_CTX_set_purpose(context.get(), X509_PURPOSE_SSL_SERVER);
  EXPECT_EQ(X509_verify_cert(context.get()), 1)
      << X509_verify_cert_error_string(X509_STORE_CTX_get_error(context.get()));

  EXPECT_EQ(X509_check_host(node.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(node.get(), "127.0.0.1", 0), 1);
  EXPECT_NE(X509_check_host(node.get(), "example.com", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ca(ca.get()), 1);
  EXPECT_EQ(X509_check_ca(node.get()), 0);
}

TEST(DevCertsTest, EachRunMakesNewKeys) {
  auto first = GenerateDevCertificates();
  auto second = GenerateDevCertificates();
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(first.value().ca_key_pem, second.value().ca_key_pem);
  EXPECT_NE(first.value().node_key_pem, second.value().node_key_pem);
}

TEST(DevCertsTest, WritesFilesThatLoadWithPrivateKeys) {
  testing::TempDir dir;
  const std::string certs = dir.Sub("certs");
  auto written = WriteDevCertificates(certs);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  ASSERT_EQ(written.value().size(), 4u);
  for (const std::string& path : written.value()) {
    struct stat st;
    ASSERT_EQ(::stat(path.c_str(), &st), 0) << path;
    if (path.ends_with(".key")) {
      EXPECT_EQ(st.st_mode & 0777, 0600u) << path;
    } else {
      EXPECT_EQ(st.st_mode & 0600, 0600u) << path;
    }
  }
  auto material = LoadTlsMaterial(
      {certs + "/node.crt", certs + "/node.key", certs + "/ca.crt"});
  EXPECT_TRUE(material.ok()) << material.status().ToString();
}

TEST(DevCertsTest, RefusesToOverwriteAndWritesNothing) {
  testing::TempDir dir;
  const std::string certs = dir.Sub("certs");
  auto first = WriteDevCertificates(certs);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto before = LoadTlsMaterial({certs + "/node.crt", certs + "/node.key", ""});
  ASSERT_TRUE(before.ok());

  auto second = WriteDevCertificates(certs);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("refusing to overwrite"),
            std::string::npos);
  auto after = LoadTlsMaterial({certs + "/node.crt", certs + "/node.key", ""});
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after.value().key_pem, before.value().key_pem);
}

}  // namespace
}  // namespace cairn::server

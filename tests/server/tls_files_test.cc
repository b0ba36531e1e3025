// Copyright (c) Cairn authors.
#include "server/tls_files.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "server/dev_certs.h"
#include "tests/support/temp_dir.h"

namespace cairn::server {
namespace {

class TlsFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(WriteDevCertificates(Path("a")).ok());
    ASSERT_TRUE(WriteDevCertificates(Path("b")).ok());
  }

  std::string Path(const std::string& name) const { return dir_.Sub(name); }

  // A file holding `text`.
  std::string Write(const std::string& name, const std::string& text) {
    std::ofstream(Path(name)) << text;
    return Path(name);
  }

  // The error LoadTlsMaterial gives for `files`; fails the test if none.
  std::string Error(const TlsFiles& files) {
    auto material = LoadTlsMaterial(files);
    EXPECT_FALSE(material.ok());
    if (material.ok()) return "";
    EXPECT_TRUE(material.status().IsInvalidArgument());
    return material.status().message();
  }

  testing::TempDir dir_;
};

TEST_F(TlsFilesTest, LoadsAMatchingPairAndTheClientCa) {
  auto material = LoadTlsMaterial(
      {Path("a/node.crt"), Path("a/node.key"), Path("b/ca.crt")});
  ASSERT_TRUE(material.ok()) << material.status().ToString();
  EXPECT_NE(material.value().cert_chain_pem.find("BEGIN CERTIFICATE"),
            std::string::npos);
  EXPECT_NE(material.value().key_pem.find("PRIVATE KEY"), std::string::npos);
  EXPECT_NE(material.value().client_ca_pem.find("BEGIN CERTIFICATE"),
            std::string::npos);
  auto no_ca = LoadTlsMaterial({Path("a/node.crt"), Path("a/node.key"), ""});
  ASSERT_TRUE(no_ca.ok());
  EXPECT_TRUE(no_ca.value().client_ca_pem.empty());
}

TEST_F(TlsFilesTest, MissingFilesAreNamed) {
  const std::string missing = Path("missing.pem");
  std::string error = Error({missing, Path("a/node.key"), ""});
  EXPECT_NE(error.find("TLS certificate " + missing), std::string::npos)
      << error;
  error = Error({Path("a/node.crt"), missing, ""});
  EXPECT_NE(error.find("TLS private key " + missing), std::string::npos)
      << error;
  error = Error({Path("a/node.crt"), Path("a/node.key"), missing});
  EXPECT_NE(error.find("TLS client CA " + missing), std::string::npos) << error;
}

TEST_F(TlsFilesTest, ContentThatIsNotPemIsNamed) {
  const std::string garbage = Write("garbage.pem", "not a certificate\n");
  std::string error = Error({garbage, Path("a/node.key"), ""});
  EXPECT_NE(error.find(garbage), std::string::npos) << error;
  EXPECT_NE(error.find("no PEM certificate"), std::string::npos) << error;
  error = Error({Path("a/node.crt"), garbage, ""});
  EXPECT_NE(error.find(garbage), std::string::npos) << error;
  EXPECT_NE(error.find("not an unencrypted PEM private key"), std::string::npos)
      << error;
  // A certificate where the key belongs.
  error = Error({Path("a/node.crt"), Path("a/node.crt"), ""});
  EXPECT_NE(error.find("TLS private key " + Path("a/node.crt")),
            std::string::npos)
      << error;
  error = Error({Path("a/node.crt"), Path("a/node.key"), garbage});
  EXPECT_NE(error.find("TLS client CA " + garbage), std::string::npos) << error;
}

TEST_F(TlsFilesTest, AKeyOfAnotherCertificateIsRefused) {
  const std::string error = Error({Path("a/node.crt"), Path("b/node.key"), ""});
  EXPECT_NE(error.find("TLS private key " + Path("b/node.key") +
                       " does not match the certificate " + Path("a/node.crt")),
            std::string::npos)
      << error;
}

TEST_F(TlsFilesTest, ADirectoryIsNotACertificate) {
  const std::string error = Error({Path("a"), Path("a/node.key"), ""});
  EXPECT_NE(error.find("TLS certificate " + Path("a")), std::string::npos)
      << error;
}

}  // namespace
}  // namespace cairn::server

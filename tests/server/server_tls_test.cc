// Copyright (c) Cairn authors.
//
// The server over TLS, on a real port: clients that trust the CA work,
// plaintext and untrusting clients do not, and without TLS or --insecure
// the server does not start.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "server/dev_certs.h"
#include "server/http_endpoint.h"
#include "server/server.h"
#include "serverfeatures.grpc.pb.h"
#include "tests/server/server_test_util.h"

namespace cairn::server {
namespace {

class ServerTlsTest : public testing::ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    ASSERT_TRUE(WriteDevCertificates(Path("a")).ok());
    ASSERT_TRUE(WriteDevCertificates(Path("b")).ok());
  }

  std::string Path(const std::string& name) const { return certs_.Sub(name); }

  TlsMaterial Material(const std::string& client_ca = "") const {
    auto material =
        LoadTlsMaterial({Path("a/node.crt"), Path("a/node.key"), client_ca});
    EXPECT_TRUE(material.ok()) << material.status().ToString();
    return material.value();
  }

  // The CA certificate of dev certificate set `name`.
  std::string CaPem(const std::string& name) const {
    auto pem = LoadPemCertificates("CA", Path(name + "/ca.crt"));
    EXPECT_TRUE(pem.ok());
    return pem.value();
  }

  void StartTls(const std::string& client_ca = "") {
    ServerOptions options;
    options.tls = Material(client_ca);
    StartServer(options);
  }

  std::shared_ptr<grpc::Channel> Channel(
      const std::shared_ptr<grpc::ChannelCredentials>& credentials) {
    return grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                               credentials);
  }

  // The credentials of a client trusting CA `ca` (and, with `client`, with
  // that set's node certificate as its own).
  std::shared_ptr<grpc::ChannelCredentials> Trusting(
      const std::string& ca, const std::string& client = "") {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = CaPem(ca);
    if (!client.empty()) {
      auto material = LoadTlsMaterial(
          {Path(client + "/node.crt"), Path(client + "/node.key"), ""});
      EXPECT_TRUE(material.ok());
      ssl.pem_cert_chain = material.value().cert_chain_pem;
      ssl.pem_private_key = material.value().key_pem;
    }
    return grpc::SslCredentials(ssl);
  }

  // ServerFeatures.GetSupportedMethods over `channel`; a bound keeps a
  // failing handshake from waiting for ever.
  static grpc::Status Features(const std::shared_ptr<grpc::Channel>& channel) {
    auto stub =
        event_store::client::server_features::ServerFeatures::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
    event_store::client::server_features::SupportedMethods methods;
    return stub->GetSupportedMethods(&context, {}, &methods);
  }

  cairn::testing::TempDir certs_;
};

TEST_F(ServerTlsTest, AClientTrustingTheCaReadsFeaturesAndAppends) {
  StartTls();
  auto channel = Channel(Trusting("a"));
  grpc::Status features = Features(channel);
  ASSERT_TRUE(features.ok()) << features.error_message();
  stub_ = testing::streams::Streams::NewStub(channel);
  testing::streams::AppendResp response;
  grpc::Status appended =
      Append(AnyOptions("orders"), {Proposed("Placed")}, &response);
  ASSERT_TRUE(appended.ok()) << appended.error_message();
  EXPECT_TRUE(response.has_success());
  auto read = store_->ReadStream("orders", ReadStreamOptions());
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read.value().events.size(), 1u);
  EXPECT_EQ(read.value().events[0].type, "Placed");
}

TEST_F(ServerTlsTest, PlaintextAndUntrustingClientsFail) {
  StartTls();
  EXPECT_FALSE(Features(Channel(grpc::InsecureChannelCredentials())).ok());
  EXPECT_FALSE(Features(Channel(Trusting("b"))).ok());
}

TEST_F(ServerTlsTest, WithAClientCaClientCertificatesAreVerifiedWhenSent) {
  StartTls(Path("a/ca.crt"));
  EXPECT_TRUE(Features(Channel(Trusting("a"))).ok());
  EXPECT_TRUE(Features(Channel(Trusting("a", "a"))).ok());
  // A certificate from a CA the server does not trust.
  EXPECT_FALSE(Features(Channel(Trusting("a", "b"))).ok());
}

TEST_F(ServerTlsTest, RefusesToStartWithoutTlsOrInsecure) {
  ServerOptions options;
  auto server = Server::Start(store_.get(), options);
  ASSERT_FALSE(server.ok());
  EXPECT_TRUE(server.status().IsInvalidArgument());
  for (const char* hint : {"--tls-cert", "--tls-key", "--insecure"}) {
    EXPECT_NE(server.status().message().find(hint), std::string::npos)
        << server.status().message();
  }
}

// gRPC binds the TLS port itself: a port another socket holds fails the
// start with a status, and the half-built server shuts down cleanly.
TEST_F(ServerTlsTest, APortInUseFailsTheStart) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), length), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  server_.reset();
  ServerOptions options;
  options.tls = Material();
  options.authentication = false;
  options.listen.port = ntohs(address.sin_port);
  auto server = Server::Start(store_.get(), options);
  close(fd);
  ASSERT_FALSE(server.ok());
  EXPECT_TRUE(server.status().IsIOError()) << server.status().ToString();
}

TEST_F(ServerTlsTest, HttpEndpointServesHttpsWithTheSameCertificate) {
  const TlsMaterial material = Material();
  HttpEndpoint endpoint(&material);
  ASSERT_TRUE(endpoint.Start({"127.0.0.1", 0}).ok());
  endpoint.SetReady(true);

  httplib::SSLClient trusting("127.0.0.1", endpoint.port());
  trusting.set_ca_cert_path(Path("a/ca.crt"));
  trusting.enable_server_certificate_verification(true);
  auto live = trusting.Get("/health/live");
  ASSERT_TRUE(live) << httplib::to_string(live.error());
  EXPECT_EQ(live->status, 204);

  httplib::SSLClient untrusting("127.0.0.1", endpoint.port());
  untrusting.set_ca_cert_path(Path("b/ca.crt"));
  untrusting.enable_server_certificate_verification(true);
  EXPECT_FALSE(untrusting.Get("/health/live"));

  httplib::Client plaintext("127.0.0.1", endpoint.port());
  auto answer = plaintext.Get("/health/live");
  EXPECT_TRUE(!answer || answer->status != 204);
  endpoint.Stop();
}

}  // namespace
}  // namespace cairn::server

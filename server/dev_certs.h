// Copyright (c) Cairn authors.
//
// `cairn serve --dev-certs DIR`: a certificate authority and a node
// certificate it signs, for trying TLS on one machine (clients trust
// ca.crt). EC P-256 keys, valid for a year; the node certificate names
// localhost and 127.0.0.1. Built with OpenSSL's C API, not the openssl
// command, so nothing depends on a tool being installed.
#ifndef CAIRN_SERVER_DEV_CERTS_H_
#define CAIRN_SERVER_DEV_CERTS_H_

#include <string>
#include <vector>

#include "cairn/result.h"

namespace cairn::server {

struct DevCertificates {
  std::string ca_cert_pem;
  std::string ca_key_pem;
  std::string node_cert_pem;
  std::string node_key_pem;
};

// Fresh keys and certificates, each in PEM.
Result<DevCertificates> GenerateDevCertificates();

// The file names WriteDevCertificates writes in its directory.
inline constexpr const char* kDevCaCert = "ca.crt";
inline constexpr const char* kDevCaKey = "ca.key";
inline constexpr const char* kDevNodeCert = "node.crt";
inline constexpr const char* kDevNodeKey = "node.key";

// Generates and writes ca.crt, ca.key, node.crt and node.key into `dir`
// (created if missing), the keys readable by the owner only. Refuses,
// writing nothing, when any of them exists. Returns the paths written.
Result<std::vector<std::string>> WriteDevCertificates(const std::string& dir);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_DEV_CERTS_H_

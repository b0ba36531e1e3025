// Copyright (c) Cairn authors.
//
// The certificate, private key and client CA that `cairn serve` uses for
// TLS, read and checked with OpenSSL before gRPC or cpp-httplib see them:
// both would otherwise fail late (at the first handshake) or with messages
// that do not say which file is wrong.
#ifndef CAIRN_SERVER_TLS_FILES_H_
#define CAIRN_SERVER_TLS_FILES_H_

#include <string>
#include <string_view>

#include "cairn/result.h"

using SSL_CTX = struct ssl_ctx_st;

namespace cairn::server {

struct TlsFiles {
  std::string cert;  // the node's certificate (chain), PEM
  std::string key;   // its private key, PEM
  std::string ca;    // client certificates' CA, PEM; empty: none asked
};

// Checked PEM text, as gRPC's SslServerCredentials takes it.
struct TlsMaterial {
  std::string cert_chain_pem;
  std::string key_pem;
  // Non-empty: clients are asked for a certificate, and one they send
  // must chain to these.
  std::string client_ca_pem;
};

// Reads the files and checks that each parses as PEM and that the key
// belongs to the certificate. Errors are InvalidArgument and name the file
// and what is wrong with it (missing, unreadable, not PEM, not matching).
Result<TlsMaterial> LoadTlsMaterial(const TlsFiles& files);

// The PEM text of `path`, checked to hold at least one certificate (a CA
// file, for clients too). `what` names the file in errors.
Result<std::string> LoadPemCertificates(std::string_view what,
                                        const std::string& path);

// Sets `tls`'s certificate chain and key on an OpenSSL server context (the
// HTTPS port's), and TLS 1.2 as the oldest version; client certificates
// are not asked for there.
Status UseTlsMaterial(SSL_CTX* context, const TlsMaterial& tls);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_TLS_FILES_H_

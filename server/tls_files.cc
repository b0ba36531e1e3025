// Copyright (c) Cairn authors.
#include "server/tls_files.h"

#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <vector>

#include "server/openssl_ptr.h"

namespace cairn::server {

namespace {

// PEM files are a few kilobytes; a bound keeps a wrong path (a store
// segment, /dev/zero) from being read whole.
constexpr uint64_t kMaxPemFileSize = 1 << 20;

// Files the operator names are read with the standard library, as the
// tools read their input files: the io::FileSystem seam is the store's.
Result<std::string> ReadPemFile(std::string_view what,
                                const std::string& path) {
  const std::string context = std::string(what) + " " + path + ": ";
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return Status::InvalidArgument(
        context + "cannot open (" +
        std::strerror(errno) +  // NOLINT(concurrency-mt-unsafe)
        ")");
  }
  std::string text(kMaxPemFileSize + 1, '\0');
  file.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (file.bad()) {
    return Status::InvalidArgument(
        context + "cannot read (" +
        std::strerror(errno) +  // NOLINT(concurrency-mt-unsafe)
        ")");
  }
  text.resize(static_cast<size_t>(file.gcount()));
  if (text.size() > kMaxPemFileSize) {
    return Status::InvalidArgument(context + "larger than 1 MiB, not PEM");
  }
  return text;
}

// All certificates in `pem`, in order; none if it holds none.
std::vector<X509Ptr> ParseCertificates(const std::string& pem) {
  std::vector<X509Ptr> certificates;
  BioPtr bio = MemoryBio(pem);
  while (X509* certificate =
             PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certificates.emplace_back(certificate);
  }
  // The loop ends with a "no start line" error; it is not a failure.
  ERR_clear_error();
  return certificates;
}

EvpPkeyPtr ParsePrivateKey(const std::string& pem) {
  BioPtr bio = MemoryBio(pem);
  // A callback that gives no passphrase: without one, OpenSSL would
  // prompt on the terminal for an encrypted key.
  pem_password_cb* no_passphrase = [](char*, int, int, void*) { return 0; };
  return EvpPkeyPtr(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
}

}  // namespace

Result<std::string> LoadPemCertificates(std::string_view what,
                                        const std::string& path) {
  Result<std::string> pem = ReadPemFile(what, path);
  if (!pem.ok()) return pem.status();
  if (ParseCertificates(pem.value()).empty()) {
    return Status::InvalidArgument(std::string(what) + " " + path +
                                   ": no PEM certificate in the file");
  }
  return pem;
}

Result<TlsMaterial> LoadTlsMaterial(const TlsFiles& files) {
  TlsMaterial material;
  Result<std::string> cert = LoadPemCertificates("TLS certificate", files.cert);
  if (!cert.ok()) return cert.status();
  material.cert_chain_pem = std::move(cert.value());
  const std::vector<X509Ptr> chain = ParseCertificates(material.cert_chain_pem);

  Result<std::string> key = ReadPemFile("TLS private key", files.key);
  if (!key.ok()) return key.status();
  EvpPkeyPtr private_key = ParsePrivateKey(key.value());
  if (!private_key) {
    return Status::InvalidArgument("TLS private key " + files.key +
                                   ": not an unencrypted PEM private key (" +
                                   TakeOpenSslError() + ")");
  }
  if (X509_check_private_key(chain.front().get(), private_key.get()) != 1) {
    ERR_clear_error();
    return Status::InvalidArgument("TLS private key " + files.key +
                                   " does not match the certificate " +
                                   files.cert);
  }
  material.key_pem = std::move(key.value());

  if (!files.ca.empty()) {
    Result<std::string> ca = LoadPemCertificates("TLS client CA", files.ca);
    if (!ca.ok()) return ca.status();
    material.client_ca_pem = std::move(ca.value());
  }
  return material;
}

Status UseTlsMaterial(SSL_CTX* context, const TlsMaterial& tls) {
  std::vector<X509Ptr> chain = ParseCertificates(tls.cert_chain_pem);
  EvpPkeyPtr key = ParsePrivateKey(tls.key_pem);
  bool ok = !chain.empty() && key &&
            SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) == 1 &&
            SSL_CTX_use_certificate(context, chain.front().get()) == 1;
  for (size_t i = 1; ok && i < chain.size(); ++i) {
    ok = SSL_CTX_add1_chain_cert(context, chain[i].get()) == 1;
  }
  ok = ok && SSL_CTX_use_PrivateKey(context, key.get()) == 1 &&
       SSL_CTX_check_private_key(context) == 1;
  if (!ok) {
    return Status::InvalidArgument("TLS certificate or key rejected: " +
                                   TakeOpenSslError());
  }
  return Status::Ok();
}

}  // namespace cairn::server

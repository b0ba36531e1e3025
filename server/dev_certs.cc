// Copyright (c) Cairn authors.
#include "server/dev_certs.h"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>  // strstr, in OpenSSL's EVP_EC_gen
#include <string>
#include <string_view>
#include <utility>

#include "server/openssl_ptr.h"

namespace cairn::server {

namespace {

// long: the type X509_gmtime_adj takes.
// NOLINTNEXTLINE(google-runtime-int)
constexpr long kValiditySeconds = 365L * 24 * 60 * 60;

Status OpenSslFailure(std::string_view step) {
  return Status::IOError("dev certificates: " + std::string(step) +
                         " failed: " + TakeOpenSslError());
}

Result<EvpPkeyPtr> NewKey() {
  EvpPkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return OpenSslFailure("EC P-256 key generation");
  return key;
}

Status AddExtension(X509* certificate, X509V3_CTX* context, int nid,
                    const char* value) {
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, context, nid, value);
  if (extension == nullptr) return OpenSslFailure(value);
  const int added = X509_add_ext(certificate, extension, -1);
  X509_EXTENSION_free(extension);
  return added == 1 ? Status::Ok() : OpenSslFailure("X509_add_ext");
}

// A random positive 159-bit serial (RFC 5280 allows 20 octets): every run
// names its CA the same, and clients such as browsers refuse two
// different certificates with the same issuer and serial.
Status SetRandomSerial(X509* certificate) {
  std::unique_ptr<BIGNUM, OpenSslFree<BIGNUM, BN_free>> serial(BN_new());
  if (!serial ||
      BN_rand(serial.get(), 159, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) != 1) {
    return OpenSslFailure("serial number");
  }
  if (BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(certificate)) ==
      nullptr) {
    return OpenSslFailure("serial number");
  }
  return Status::Ok();
}

struct Extension {
  int nid;
  const char* value;
};

// A certificate for `key` named `common_name`, signed by `issuer_key` as
// `issuer` (both null: self-signed), with `extensions`.
Result<X509Ptr> NewCertificate(EVP_PKEY* key, const char* common_name,
                               X509* issuer, EVP_PKEY* issuer_key,
                               std::initializer_list<Extension> extensions) {
  X509Ptr certificate(X509_new());
  if (!certificate) return OpenSslFailure("X509_new");
  X509* cert = certificate.get();
  if (X509_set_version(cert, X509_VERSION_3) != 1) {
    return OpenSslFailure("X509_set_version");
  }
  if (Status serial = SetRandomSerial(cert); !serial.ok()) return serial;
  if (X509_gmtime_adj(X509_getm_notBefore(cert), 0) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert), kValiditySeconds) == nullptr) {
    return OpenSslFailure("validity");
  }
  if (X509_set_pubkey(cert, key) != 1) return OpenSslFailure("public key");
  X509_NAME* name = X509_get_subject_name(cert);
  auto text = [](const char* value) {
    return reinterpret_cast<const unsigned char*>(value);
  };
  if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, text("Cairn"), -1, -1,
                                 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, text(common_name),
                                 -1, -1, 0) != 1) {
    return OpenSslFailure("subject name");
  }
  if (issuer == nullptr) {
    issuer = cert;
    issuer_key = key;
  }
  if (X509_set_issuer_name(cert, X509_get_subject_name(issuer)) != 1) {
    return OpenSslFailure("issuer name");
  }
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  for (const Extension& extension : extensions) {
    if (Status added =
            AddExtension(cert, &context, extension.nid, extension.value);
        !added.ok()) {
      return added;
    }
  }
  if (X509_sign(cert, issuer_key, EVP_sha256()) == 0) {
    return OpenSslFailure("signing");
  }
  return certificate;
}

Result<std::string> BioText(BIO* bio) {
  char* data = nullptr;
  const auto size = BIO_get_mem_data(bio, &data);
  if (size <= 0) return OpenSslFailure("PEM encoding");
  return std::string(data, static_cast<size_t>(size));
}

Result<std::string> CertificatePem(X509* certificate) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), certificate) != 1) {
    return OpenSslFailure("PEM_write_bio_X509");
  }
  return BioText(bio.get());
}

// PKCS #8, unencrypted: what gRPC, OpenSSL and the Node clients read.
Result<std::string> KeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0,
                                       nullptr, nullptr) != 1) {
    return OpenSslFailure("PEM_write_bio_PrivateKey");
  }
  return BioText(bio.get());
}

Status Errno(const std::string& step, const std::string& path) {
  return Status::IOError(step + " " + path, errno);
}

// Creates `path` with `mode` (never replacing a file: O_EXCL) and writes
// `text` durably. Direct POSIX calls, as operator-named files are outside
// the store's io::FileSystem; the mode is set at creation, so a key is
// never readable by others, not even for a moment.
Status WriteNewFile(const std::string& path, const std::string& text,
                    mode_t mode) {
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Errno("create", path);
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status status = Errno("write", path);
      ::close(fd);
      return status;
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Status status = Errno("fsync", path);
    ::close(fd);
    return status;
  }
  if (::close(fd) != 0) return Errno("close", path);
  return Status::Ok();
}

Status SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("open", dir);
  const bool synced = ::fsync(fd) == 0;
  Status status = synced ? Status::Ok() : Errno("fsync", dir);
  ::close(fd);
  return status;
}

}  // namespace

Result<DevCertificates> GenerateDevCertificates() {
  Result<EvpPkeyPtr> ca_key = NewKey();
  if (!ca_key.ok()) return ca_key.status();
  Result<X509Ptr> ca = NewCertificate(
      ca_key.value().get(), "Cairn development CA", nullptr, nullptr,
      {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
       {NID_key_usage, "critical,keyCertSign,cRLSign"},
       {NID_subject_key_identifier, "hash"}});
  if (!ca.ok()) return ca.status();
  Result<EvpPkeyPtr> node_key = NewKey();
  if (!node_key.ok()) return node_key.status();
  Result<X509Ptr> node =
      NewCertificate(node_key.value().get(), "localhost", ca.value().get(),
                     ca_key.value().get(),
                     {{NID_basic_constraints, "critical,CA:FALSE"},
                      {NID_key_usage, "critical,digitalSignature"},
                      {NID_ext_key_usage, "serverAuth,clientAuth"},
                      {NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"},
                      {NID_subject_key_identifier, "hash"},
                      {NID_authority_key_identifier, "keyid:always"}});
  if (!node.ok()) return node.status();

  DevCertificates result;
  for (auto [pem, text] :
       {std::pair{&result.ca_cert_pem, CertificatePem(ca.value().get())},
        std::pair{&result.ca_key_pem, KeyPem(ca_key.value().get())},
        std::pair{&result.node_cert_pem, CertificatePem(node.value().get())},
        std::pair{&result.node_key_pem, KeyPem(node_key.value().get())}}) {
    if (!text.ok()) return text.status();
    *pem = std::move(text.value());
  }
  return result;
}

Result<std::vector<std::string>> WriteDevCertificates(const std::string& dir) {
  Result<DevCertificates> certificates = GenerateDevCertificates();
  if (!certificates.ok()) return certificates.status();
  const DevCertificates& c = certificates.value();
  struct Output {
    const char* name;
    const std::string* pem;
    mode_t mode;
  };
  const Output outputs[] = {{kDevCaCert, &c.ca_cert_pem, 0644},
                            {kDevCaKey, &c.ca_key_pem, 0600},
                            {kDevNodeCert, &c.node_cert_pem, 0644},
                            {kDevNodeKey, &c.node_key_pem, 0600}};
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return Errno("mkdir", dir);
  }
  std::vector<std::string> paths;
  for (const Output& output : outputs) {
    paths.push_back(dir + "/" + output.name);
    struct stat st;
    if (::lstat(paths.back().c_str(), &st) == 0) {
      return Status::InvalidArgument("refusing to overwrite " + paths.back());
    }
  }
  // O_EXCL also refuses a file that appears meanwhile.
  for (size_t i = 0; i < paths.size(); ++i) {
    if (Status s = WriteNewFile(paths[i], *outputs[i].pem, outputs[i].mode);
        !s.ok()) {
      return s;
    }
  }
  if (Status s = SyncDir(dir); !s.ok()) return s;
  return paths;
}

}  // namespace cairn::server

// Copyright (c) Cairn authors.
//
// Owning pointers for the OpenSSL objects the TLS code builds and parses,
// and OpenSSL's error queue as text, so that every early return frees what
// it made and every failure can say why.
#ifndef CAIRN_SERVER_OPENSSL_PTR_H_
#define CAIRN_SERVER_OPENSSL_PTR_H_

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <string_view>

namespace cairn::server {

template <typename T, void (*Free)(T*)>
struct OpenSslFree {
  void operator()(T* object) const { Free(object); }
};

using BioPtr = std::unique_ptr<BIO, OpenSslFree<BIO, BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, OpenSslFree<X509, X509_free>>;
using EvpPkeyPtr =
    std::unique_ptr<EVP_PKEY, OpenSslFree<EVP_PKEY, EVP_PKEY_free>>;

// A read-only memory BIO over `text` (which must outlive it).
inline BioPtr MemoryBio(std::string_view text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// The oldest queued OpenSSL error as text (empty if none); clears the
// queue so the next failure reports its own cause.
inline std::string TakeOpenSslError() {
  const auto code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

}  // namespace cairn::server

#endif  // CAIRN_SERVER_OPENSSL_PTR_H_

// Copyright (c) Cairn authors.
//
// The `authorization` metadata value the clients send for a login and
// password.
#ifndef CAIRN_TESTS_SERVER_CREDENTIALS_TEST_UTIL_H_
#define CAIRN_TESTS_SERVER_CREDENTIALS_TEST_UTIL_H_

#include <sodium.h>

#include <string>

namespace cairn::server::testing {

// "Basic " + base64(`credentials`), `credentials` being "login:password".
inline std::string Basic(const std::string& credentials) {
  std::string encoded(sodium_base64_ENCODED_LEN(credentials.size(),
                                                sodium_base64_VARIANT_ORIGINAL),
                      '\0');
  sodium_bin2base64(encoded.data(), encoded.size(),
                    reinterpret_cast<const unsigned char*>(credentials.data()),
                    credentials.size(), sodium_base64_VARIANT_ORIGINAL);
  encoded.resize(encoded.find('\0'));
  return "Basic " + encoded;
}

}  // namespace cairn::server::testing

#endif  // CAIRN_TESTS_SERVER_CREDENTIALS_TEST_UTIL_H_

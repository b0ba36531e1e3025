// Copyright (c) Cairn authors. Public API.
//
// CAIRN_EXPORT marks what libcairn exports. The library is built with
// hidden visibility, so a shared libcairn.so exports the public API and
// nothing else; consumers see the same attribute, which is harmless for
// the static library.
#ifndef CAIRN_EXPORT_H_
#define CAIRN_EXPORT_H_

#if defined(__GNUC__) || defined(__clang__)
#define CAIRN_EXPORT [[gnu::visibility("default")]]
#else
#define CAIRN_EXPORT
#endif

#endif  // CAIRN_EXPORT_H_

// Copyright (c) Cairn authors.
//
// Compiled (syntax only) by the Layering.* tests of tests/CMakeLists.txt
// with one layer's include roots and -DCAIRN_PROBE_HEADER="folder/x.h":
// a header of the layer itself or of a layer below it must compile, one of
// a layer above it must not be found.
#include CAIRN_PROBE_HEADER

int main() { return 0; }

// Copyright (c) Cairn authors.
#include <iostream>

#include "tools/cli/cli.h"

int main(int argc, char** argv) {
  return cairn::tools::RunCli(argc, argv, std::cin, std::cout, std::cerr);
}

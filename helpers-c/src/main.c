/* skiff-helper: the only part of skiff that makes namespaces. One binary,
 * libc only, a few modes; the TypeScript side decides, this side does. */
#include "protocol.h"
#include "report.h"
#include "run.h"

#include <stdio.h>
#include <string.h>

static int usage(void) {
  fprintf(stderr, "usage: skiff-helper run   (spec on fd %d; see docs/helper-protocol.md)\n"
                  "       skiff-helper version\n", SKIFF_SPEC_FD);
  return EXIT_SKIFF_FAILED;
}

int main(int argc, char **argv) {
  if (argc < 2) return usage();
  if (strcmp(argv[1], "run") == 0) run_main();
  if (strcmp(argv[1], "version") == 0) {
    printf("skiff-helper protocol %d\n", SKIFF_PROTOCOL_VERSION);
    return 0;
  }
  return usage();
}

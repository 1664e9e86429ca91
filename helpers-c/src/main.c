/* skiff-helper: the only part of skiff that makes namespaces. One binary,
 * libc only, a few modes; the TypeScript side decides, this side does. */
#include "protocol.h"
#include "report.h"
#include "fsops.h"
#include "exec.h"
#include "run.h"
#include "sealed.h"
#include "kill.h"
#include "userns.h"
#include "copy.h"
#include "walk.h"
#include "network.h"

#include <stdio.h>
#include <sys/prctl.h>
#include <string.h>

static int usage(void) {
  fprintf(stderr, "usage: skiff-helper run [--sealed] (spec on fd %d; see docs/helper-protocol.md)\n"
                  "       skiff-helper userns    (spec on fd %d)\n"
                  "       skiff-helper exec      (spec on fd 3: join a running container)\n"
                  "       skiff-helper fsops DIR (operations on stdin)\n"
                  "       skiff-helper kill PID SIGNAL\n"
                  "       skiff-helper cp        (spec on fd 3: copy to, from or out of a container)\n"
                  "       skiff-helper walk      (spec on fd 3: diff, size or remove a tree by fd)\n"
                  "       skiff-helper netholder (spec on fd 3: the namespace of user-defined networks)\n"
                  "       skiff-helper netattach|netdetach (spec on fd 3: network connect, disconnect)\n"
                  "       skiff-helper version\n", SKIFF_SPEC_FD, SKIFF_SPEC_FD);
  return EXIT_SKIFF_FAILED;
}

int main(int argc, char **argv) {
  /* The same name whether run from the file or from its sealed memfd copy:
   * skiff recognises its live helpers by it (/proc/PID/stat). */
  prctl(PR_SET_NAME, "skiff-helper", 0, 0, 0);
  if (argc < 2) return usage();
  if (strcmp(argv[1], "run") == 0) {
    /* --sealed: the helper itself will live in the container (--init). */
    if (argc > 2 && strcmp(argv[2], "--sealed") == 0) sealed_reexec(argv);
    run_main();
  }
  if (strcmp(argv[1], "userns") == 0) userns_main();
  if (strcmp(argv[1], "cp") == 0) copy_main(argv);
  if (strcmp(argv[1], "walk") == 0) walk_main();
  if (strcmp(argv[1], "exec") == 0) exec_main(argv);
  if (strcmp(argv[1], "fsops") == 0 && argc == 3) fsops_main(argv[2]);
  if (strcmp(argv[1], "kill") == 0 && argc == 4) kill_main(argv[2], argv[3]);
  if (strcmp(argv[1], "netholder") == 0) netholder_main();
  if (strcmp(argv[1], "netattach") == 0) netattach_main(true);
  if (strcmp(argv[1], "netdetach") == 0) netattach_main(false);
  if (strcmp(argv[1], "version") == 0) {
    printf("skiff-helper protocol %d\n", SKIFF_PROTOCOL_VERSION);
    return 0;
  }
  return usage();
}

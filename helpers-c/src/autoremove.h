/* run --rm: the container's own trees (remove_tree: its
 * overlay upper and work dirs, or the vfs driver's copy) removed by the run's
 * helper once the container has ended, instead of by a second helper that
 * skiff would start for it (a new user namespace and newuidmap/newgidmap
 * again). Rootless these trees hold files of the user's sub-IDs, which only
 * a process of a user namespace with the container's mapping may remove: the
 * helper keeps the container's own namespace open from its clone on
 * (container_userns_open) and enters it to remove them.
 *
 * The removal runs in a child process whose errors are debug lines only: a
 * tree it could not remove is still there, "removed" is not reported, and
 * skiff removes the container as it always did (a second helper), which says
 * what failed. skiff keeps its own records (the container's directory, its
 * name, events) and drops them once "removed" has come; a kill at any moment
 * leaves a stored, exited --rm container that rm, prune or the next run of
 * its name removes.
 *
 * run -d --rm: the monitor does the same once the container is gone for
 * good, and then what `skiff rm` would do (autoremove_container), so that no
 * skiff process starts at the container's end; skiff's on_exit `skiff rm`
 * runs only when the trees could not be removed. */
#ifndef SKIFF_AUTOREMOVE_H
#define SKIFF_AUTOREMOVE_H

#include <stdbool.h>
#include <sys/types.h>

struct container_spec;

/* Whether the removal must run in the container's user namespace: rootless
 * with a namespace of its own. Root removes from the host's, where every
 * owner is its own (an ID the container's mapping leaves out included). */
bool autoremove_in_userns(const struct container_spec *spec);

/* The user namespace of the just-cloned container process `child`, as an fd
 * (O_CLOEXEC), or -1 (a debug line) when it cannot be opened. */
int container_userns_open(pid_t child);

/* Removes spec->remove_trees, from inside `userns` when autoremove_in_userns
 * (-1 there: nothing is removed), else in the helper's own namespace (as
 * root, or a joined one), and reports "removed" when every tree is gone.
 * Never dies: a failure is a debug line. */
void autoremove_trees(const struct container_spec *spec, int userns);

/* run -d --rm, in the monitor: spec->remove_trees as above, then the
 * container as `skiff rm` removes it (lib/containers/store.ts,
 * removeContainerFiles): its directory renamed to .trash-<id>-<pid> beside
 * it, the "remove" event, its name's link, the rest of its files and its
 * runtime directory (in `userns` as above), its cgroups, its unit files.
 * False, with the container still whole, when the trees could not be
 * removed: on_exit's `skiff rm` is then to remove it. Closes userns. */
bool autoremove_container(const struct container_spec *spec, int userns);

#endif

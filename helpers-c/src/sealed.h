#ifndef SKIFF_SEALED_H
#define SKIFF_SEALED_H

/* Re-executes the helper from a sealed (read-only, fixed-size) memfd copy of
 * itself, unless it already is one. Any helper process that lives inside a
 * container's namespaces (exec, --init) runs from such a copy, so no process
 * in the container can open the helper's binary for writing through
 * /proc/PID/exe (CVE-2019-5736). Returns only when already sealed. */
void sealed_reexec(char **argv);

#endif

#ifndef SKIFF_FSOPS_H
#define SKIFF_FSOPS_H

#include <stdnoreturn.h>

/* `skiff-helper fsops DIR`: the file operations Node cannot do, applied below
 * DIR and never through a symlink (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS).
 * Operations come on stdin as NUL-terminated fields, one record after another:
 *   whiteout PATH                     a 0/0 character device (overlayfs whiteout)
 *   opaque   PATH                     user.overlay.opaque=y on a directory
 *   whiteout-file PATH                an empty file .wh.NAME beside PATH (the tar's
 *                                     whiteout; a vfs store's layers, see layerdir.h)
 *   opaque-file   PATH                an empty file PATH/.wh..wh..opq in a directory
 *   xattr    PATH NAME HEXVALUE       an extended attribute on PATH itself
 *   mknod    PATH c|b|p MODE MAJOR MINOR   (MODE in octal)
 * Exit 0 when all applied; an error names the record and the failing call. */
noreturn void fsops_main(const char *dir);

#endif

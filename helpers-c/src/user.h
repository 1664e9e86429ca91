#ifndef SKIFF_USER_H
#define SKIFF_USER_H

#include <sys/types.h>
#include <stddef.h>
#include "protocol.h"

#define MAX_SUPPLEMENTARY_GROUPS 64

struct resolved_user {
  uid_t uid;
  gid_t gid;
  char home[256];
  gid_t groups[MAX_SUPPLEMENTARY_GROUPS];
  size_t groups_len;
};

/* Resolves "user[:group]" (names or numbers) against the container's own
 * /etc/passwd and /etc/group, as Docker does. NULL or "" means root.
 * Reports an unknown name and exits 125. */
void user_resolve(const char *spec, struct resolved_user *out);

/* The same, before pivot_root: the files are read below the directory fd
 * `root`, resolved inside it (for :U, which needs the user before mounting). */
void user_resolve_in(int root, const char *spec, struct resolved_user *out);

/* --group-add: each group (name from the container's /etc/group, or number)
 * joins the user's supplementary groups. Reports an unknown name, exits 125. */
void user_add_groups(const struct string_list *groups, struct resolved_user *out);

#endif

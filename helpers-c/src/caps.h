#ifndef SKIFF_CAPS_H
#define SKIFF_CAPS_H

#include <stdint.h>

/* Drops every capability outside `keep` from the bounding set. Call while
 * still holding CAP_SETPCAP, i.e. before changing to the container's user. */
void caps_limit_bounding(uint64_t keep);

/* After the switch to the container's user: effective = permitted = keep (as
 * far as the kernel left them), inheritable and ambient empty. */
void caps_apply(uint64_t keep);

#endif

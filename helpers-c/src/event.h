/* The event lines the monitor writes itself, as it outlives skiff (lib/events/log.ts),
 * and the rotation of the log past half its limit that every writer of it does. */
#ifndef SKIFF_EVENT_H
#define SKIFF_EVENT_H

#include "protocol.h"

/* Appends `head`,"time":S,"timeNano":N`tail` and a newline to the spec's
 * event_log with one write(2) on an O_APPEND fd, as every skiff process
 * appends; past half event_log_max it renames the log to LOG.1 under the
 * lock skiff's writers take (docs/commands/events.md, "Rotation"). The
 * monitor has no stderr left to report a failure on: a line that cannot be
 * written is lost (the container's end is still in its exit_file), and a
 * rotation that fails leaves the log whole for the next writer to rotate,
 * both silently. */
void event_append(const struct container_spec *spec, const char *head, const char *tail);

/* event_append for each pair of heads and tails, in order. */
void event_append_lines(const struct container_spec *spec, const struct string_list *heads, const struct string_list *tails);

/* "init", "start" (and "attach"), the spec's event_started lines: written by
 * the helper once the container's command has exec'd (never when it could
 * not run), so that they come before this container's "died" and "remove"
 * however soon it ends (a monitor's start, and a foreground run's). */
void event_log_started(const struct container_spec *spec);

#endif

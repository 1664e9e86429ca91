/* The event lines the monitor writes itself, as it outlives skiff (lib/events/log.ts). */
#ifndef SKIFF_EVENT_H
#define SKIFF_EVENT_H

/* Appends `head`,"time":S,"timeNano":N`tail` and a newline to the event log
 * with one write(2) on an O_APPEND fd, as every skiff process appends. The
 * monitor has no stderr left to report a failure on: a line that cannot be
 * written is lost (the container's end is still in its exit_file). */
void event_append(const char *log, const char *head, const char *tail);

#endif

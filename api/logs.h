/* logs.h - GET /runs/{id}/logs?follow=1: a run's logs streamed as the compose tool prints them (spec/api.md).
 *
 * Calling sequence:
 *   logs_new(&lg)                          with the server
 *   logs_follow(lg, home, run_id, conn, &resp, err)
 *                                          a text/plain response that streams `compose logs -f` of the run: a
 *                                          thread runs it (run_logs_to, on its own store connection in home)
 *                                          into a pipe, another reads the pipe into a buffer and resumes the
 *                                          connection, which the reader suspends while nothing is there (no pool
 *                                          thread waits). The client going away ends the tool (SIGTERM).
 *                                          STACK_EFAIL "busy" when LOGS_FOLLOW_MAX streams are open.
 *   logs_shutdown(lg)                      before MHD_stop_daemon: every stream ends (tools signalled,
 *                                          connections resumed)
 *   logs_free(lg)                          after MHD_stop_daemon: waits for the streams' threads; NULL is fine
 */
#ifndef STACK_LOGS_H
#define STACK_LOGS_H

#include "base/error.h"

#define LOGS_FOLLOW_MAX 16          /* follows open at once */
#define LOGS_BUFFER     (64 * 1024) /* bytes read ahead of a slow client; the tool waits beyond that */

struct logs;
struct MHD_Connection;
struct MHD_Response;

int logs_new(struct logs **ret);
int logs_follow(struct logs *lg, const char *home, const char *run_id, struct MHD_Connection *conn,
                struct MHD_Response **ret, struct error *err);
void logs_shutdown(struct logs *lg);
void logs_free(struct logs *lg);

#endif

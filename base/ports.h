/* ports.h - the host ports stack itself listens on: the API's default (stack serve) and the front door's in
 * force (the stack proxy). The API and the proxy listen on them; the policy (run/) reserves them so that no
 * bundle publishes them. They live here, below every layer, so that run/ reads them without including api/
 * or proxy/.
 *
 * Front door: https on 443, or STACK_PROXY_PORT; http (a redirect to https) on 80 unless STACK_PROXY_PORT is
 * set, or on STACK_PROXY_HTTP_PORT when that is set. Read from the environment at each call.
 */
#ifndef STACK_PORTS_H
#define STACK_PORTS_H

#define PORTS_API_DEFAULT 57404 /* stack serve, unless config.json "api_port" or --port says otherwise */

/* The https / http ports in force; -1 when STACK_PROXY_PORT (or _HTTP_PORT) is not a port (1-65535); http: 0
 * for none. */
int ports_front_https(void);
int ports_front_http(void);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Every cap the daemons apply to what they read, in one place. The fuzz targets build with
 * smaller values (-DORION_FUZZ) so that huge declared lengths show up as findings.
 */
#ifndef ORION_LIMITS_H
#define ORION_LIMITS_H

#define ORION_AGAIN (-2) /* parsers: need more input */

#ifndef ORION_RESP_MAX_BULK
#define ORION_RESP_MAX_BULK (16u * 1024 * 1024) /* one bulk string in a reply */
#endif
#ifndef ORION_RESP_MAX_ELEMENTS
#define ORION_RESP_MAX_ELEMENTS (1u << 20) /* elements of one array */
#endif
#define ORION_RESP_MAX_DEPTH 16 /* nesting of arrays in a reply */
#ifndef ORION_RESP_MAX_REPLY
#define ORION_RESP_MAX_REPLY (64u * 1024 * 1024) /* buffered bytes of one connection */
#endif

#define ORION_HTTP_MAX_HEAD (16u * 1024)      /* request/status line + headers */
#define ORION_HTTP_MAX_HEADERS 64             /* header fields */
#define ORION_HTTP_MAX_BODY (8u * 1024 * 1024) /* a request body the server takes */
#define ORION_HTTP_MAX_LINE (8u * 1024 * 1024) /* one NDJSON line or SSE event (Go client: 8 MB) */
#define ORION_HTTP_MAX_TRAILERS (8u * 1024)   /* chunked trailers */
#define ORION_HTTP_MAX_CHUNK_LINE 1024         /* chunk-size line incl. extensions */
#define ORION_HTTP_MAX_OUT (16u * 1024 * 1024) /* unsent response bytes of one connection */
#define ORION_HTTPC_MAX_IDLE 8                 /* idle keep-alive connections per client */

#define ORION_JSON_MAX_DEPTH 64               /* nesting accepted in JSON we read */
#define ORION_FIELD_MAX (4u * 1024 * 1024)    /* one field of a request entry */
#define ORION_NODE_ID_MAX 64                  /* bytes of a node id */
#define ORION_BACKEND_URL_MAX 255             /* bytes of a URL backend's base URL */
#define ORION_BACKENDS_MAX 64                 /* URL backends one router runs */
#define ORION_MODEL_MAX 256                   /* bytes of a model name */
#define ORION_EMBED_MAX_INPUTS 2048           /* inputs of one embedding request (OpenAI's cap) */
/* Inputs of one embedding entry when the HTTP front splits a batch: the answer of 64 vectors
 * of 4096 dimensions, at most 16 bytes a number as Ollama writes float32, is the 4 MiB of
 * ORION_FIELD_MAX. */
#define ORION_EMBED_PIECE 64

#define ORION_ROUTE_MAX_NODES 256             /* nodes route_pick considers / state keeps */
#define ORION_ROUTE_MAX_SENT 4                /* residency records per node in the router */
#define ORION_ROUTE_WHY_MAX 512               /* bytes of a routing reason summary */
#define ORION_LABEL_MAX 32                    /* bytes of a node label */
#define ORION_PLACEMENT_MAX_RULES 64          /* rules in a placement file */
#define ORION_PLACEMENT_MAX_LABELS 8          /* labels=... of one placement rule */
#define ORION_PLACEMENT_MAX_FILE (64u * 1024) /* bytes of a placement file */
#define ORION_PLACEMENT_MAX_LINE 1024         /* bytes of one placement file line */

#ifndef ORION_HEALTH_MAX_LIST
#define ORION_HEALTH_MAX_LIST 256 /* entries of models / installed / labels of a health record */
#endif
#define ORION_HEALTH_MAX_JSON (256u * 1024) /* bytes of one health record */
#define ORION_VERSION_MAX 64                  /* bytes of a version string */
#define ORION_PROC_MAX_FILE 16384             /* bytes read of one /proc or /sys file */

#endif

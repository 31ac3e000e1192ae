/* SPDX-License-Identifier: MIT */
/* Fuzz request entries: the input is read as RESP (a field/value array, as XREADGROUP returns
 * it) and every reply is checked by contract_request_parse (a request that parses has its
 * conversation chain built, reqconv_build, as the router does) and, as a model-management
 * entry, by contract_admin_parse. */
#include "orion/contract.h"
#include "orion/jsonw.h"
#include "orion/reqconv.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct resp_reader rd;
    struct resp_reply *rep;
    struct contract_request r;
    struct route_conv c;
    struct contract_admin a;
    char err[200];

    json_init();
    resp_reader_init(&rd);
    if (resp_reader_feed(&rd, data, size) == 0)
        while (resp_reader_get(&rd, &rep) == 1) {
            if (contract_request_parse(rep, "1-1", &r, err, sizeof(err)) == 0) {
                (void)contract_request_id(&r);
                route_conv_init(&c);
                (void)reqconv_build(&r, &c);
            }
            if (contract_admin_parse(rep, "1-1", &a, err, sizeof(err)) == 0)
                (void)contract_admin_id(&a);
            resp_reply_free(rep);
        }
    resp_reader_release(&rd);
    return 0;
}
